// The eP-CSCF, sans-I/O (TR 33.871 6.1.1, TS 33.203 Annex X, protocols.md W2, "After
// registration", Solution 1): WebSocket flows from WICs in, SIP toward the IMS core out, through a
// transaction-stateful proxy (sip::ProxyCore). It
//  - relays REGISTER and the Digest/AKAv2 exchange to the core unchanged, adding a Path with a
//    flow token (requests toward the WIC come back to its connection, never via its Contact);
//  - on the core's 200 OK binds the IMPI and IMPUs to the connection, and only then answers a
//    `3gpp-ext-turn-cred: request` with a Solution 1 TURN credential;
//  - refuses later requests asserting an identity not bound to the connection, replaces any
//    P-Asserted-Identity the WIC sent with its own;
//  - routes requests from the core to the WIC over the flow named in its Path/Record-Route.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "pcscf/config.hpp"
#include "pcscf/logic/bindings.hpp"
#include "pcscf/logic/flow_token.hpp"
#include "pcscf/logic/turn_provisioning.hpp"
#include "sip/proxy.hpp"
#include "token/turn_credential.hpp"

namespace pcscf {

struct TurnCredentialRecord {  // Tid -> IMPU accountability (X.5.2; the TURN server never learns the IMPU)
  std::string tid;
  std::string impu;
  std::string impi;
  int64_t expires_unix;
  std::string origin;
};

class PcscfIo {
 public:
  virtual ~PcscfIo() = default;
  // Both: false when the message could not be queued (connection gone, queue full, no route).
  virtual bool ws_send(uint64_t connection, std::string text) = 0;
  virtual void ws_close(uint64_t connection, uint16_t code, std::string_view reason) = 0;
  virtual bool sip_send(const sip::Hop& to, const sip::Message& msg) = 0;
  virtual void record_turn_credential(const TurnCredentialRecord& r) = 0;
};

struct PcscfStats {
  uint64_t ws_opened = 0, ws_closed = 0;
  uint64_t registrations = 0, deregistrations = 0;
  uint64_t turn_credentials = 0;
  uint64_t refused_unbound_identity = 0;
  uint64_t refused_malformed = 0;
  uint64_t refused_token = 0;
  uint64_t flow_failed = 0;
};

// Where things are, resolved by the I/O layer at start-up.
struct PcscfSettings {
  sip::Hop next_hop;                    // the core
  std::string sip_transport = "TCP";    // toward the core, as in Via
  std::string sip_host_port;            // "127.0.0.1:5070": our Via sent-by, Path and Record-Route
  std::string ws_sent_by = "pcscf.invalid";  // our Via sent-by toward WICs
  std::string warning_agent = "webims-pcscf";
  std::optional<token::TurnKey> turn_key;    // Km; none: credential requests are answered without one
  TurnCredentialPolicy turn_policy;
  std::array<uint8_t, 32> flow_key{};
};

struct WsFlow {
  uint64_t id;
  base::Endpoint remote;
  bool tls;
  std::string origin;
  std::string tls_session;
};

class PcscfLogic final : private sip::ProxyUser {
 public:
  PcscfLogic(PcscfSettings settings, PcscfIo& io, base::Random& random);
  ~PcscfLogic() override;

  void on_ws_open(const WsFlow& flow);
  void on_ws_message(uint64_t connection, std::string text, const base::Now& now);
  void on_ws_closed(uint64_t connection, const base::Now& now);
  void on_sip_message(const sip::Hop& from, sip::Message msg, const base::Now& now);
  void on_sip_flow_closed(uint64_t flow, const base::Now& now);
  // A message toward the core the transport gave back (its connection never came up).
  void on_sip_undelivered(const sip::Message& msg, const base::Now& now);
  void on_timer(const base::Now& now);
  std::optional<base::SteadyTime> next_timer() { return proxy_.next_timer(); }

  const PcscfStats& stats() const { return stats_; }
  const sip::ProxyStats& proxy_stats() const { return proxy_.stats(); }
  const Bindings& bindings() const { return bindings_; }
  size_t flows() const { return flows_.size(); }

  // WebSocket flows and SIP connections share the proxy's flow-id space: WebSocket ids get the top bit.
  static uint64_t ws_flow_id(uint64_t connection) { return connection | (1ull << 63); }
  static bool is_ws_flow(uint64_t flow) { return flow >> 63; }

 private:
  // sip::ProxyUser
  bool send(const sip::Hop& to, const sip::Message& msg) override;
  void on_response(const sip::ForwardContext& ctx, sip::Message& response) override;

  void handle_register(const sip::Hop& from, uint64_t connection, sip::Message& req, const base::Now& now);
  void handle_turn_options(const sip::Hop& from, uint64_t connection, sip::Message& req, const base::Now& now);
  void handle_originating(const sip::Hop& from, uint64_t connection, sip::Message& req, const base::Now& now);
  void refuse(const sip::Hop& from, const sip::Message& req, int status, std::string_view reason,
              std::uint64_t* counter = nullptr);
  sip::Hop ws_hop(uint64_t connection) const;
  std::string our_uri(uint64_t connection, bool path) const;
  std::optional<std::string> asserted_identity(const sip::Message& req) const;

  PcscfSettings settings_;
  PcscfIo& io_;
  base::Random& random_;
  FlowTokens tokens_;
  sip::ProxyCore proxy_;
  Bindings bindings_;
  std::unordered_map<uint64_t, WsFlow> flows_;
  PcscfStats stats_;
  base::Now now_{};  // of the input being handled (on_response has no clock of its own)
};

}  // namespace pcscf
