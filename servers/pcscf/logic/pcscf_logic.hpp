// The eP-CSCF, sans-I/O (TR 33.871 6.1.1, TS 33.203 Annex X, protocols.md W2, "After
// registration", Solution 1): WebSocket flows from WICs in, SIP toward the IMS core out, through a
// transaction-stateful proxy (sip::ProxyCore). It
//  - relays REGISTER and the Digest/AKAv2 exchange to the core unchanged, adding a Path with a
//    flow token (requests toward the WIC come back to its connection, never via its Contact);
//  - on the core's 200 OK binds the IMPI and IMPUs to the connection, and only then answers a
//    `3gpp-ext-turn-cred: request` with a Solution 1 TURN credential;
//  - refuses later requests asserting an identity not bound to the connection, replaces any
//    P-Asserted-Identity the WIC sent with its own;
//  - routes requests from the core to the WIC over the flow named in its Path/Record-Route;
//  - validates `Authorization: Bearer` REGISTERs (scenarios 2 and 3: JWT against the WAF's keys, or
//    RFC 7662 introspection of an opaque token; then WWSF, To ∈ impu, pool pattern), answering 403
//    and closing the WebSocket on any failure, and registers the user with Trusted Node
//    Authentication (`integrity-protected="auth-done"`) toward the core;
//  - pushes each Solution 1 credential to the TURN servers' control API (Approach 2) and revokes
//    a WIC's credentials when it deregisters or its connection ends, when so configured.
//
// Asynchronous inputs (the WAF's JWKS, introspection answers) come back through on_jwks and
// on_introspection; a REGISTER waiting for them is parked, never blocking the caller's thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "pcscf/config.hpp"
#include "pcscf/logic/bindings.hpp"
#include "pcscf/logic/flow_token.hpp"
#include "pcscf/logic/token_auth.hpp"
#include "pcscf/logic/turn_provisioning.hpp"
#include "sip/proxy.hpp"
#include "token/jwt.hpp"
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
  // Fetch the WAF's JWKS ([pcscf] token_jwks_url); answer with PcscfLogic::on_jwks, exactly once.
  virtual void fetch_jwks() {}
  // RFC 7662 introspection of an opaque token; answer with PcscfLogic::on_introspection(request, ...).
  virtual void introspect(uint64_t request, const std::string& token) { (void)request, (void)token; }
  // Approach 2 (protocols.md): POST /v1/credentials to every TURN control API; retried by the shell.
  virtual void push_turn_credential(const std::string& username, const std::string& password, int64_t expires_unix) {
    (void)username, (void)password, (void)expires_unix;
  }
  // POST /v1/revocations {username, until}.
  virtual void revoke_turn_credential(const std::string& username, int64_t until_unix) { (void)username, (void)until_unix; }
};

struct PcscfStats {
  uint64_t ws_opened = 0, ws_closed = 0;
  uint64_t registrations = 0, deregistrations = 0;
  uint64_t turn_credentials = 0;
  uint64_t refused_unbound_identity = 0;
  uint64_t refused_malformed = 0;
  uint64_t refused_token = 0;
  uint64_t flow_failed = 0;
  uint64_t token_registrations = 0;     // REGISTERs forwarded with TNA after a valid token
  uint64_t token_unavailable = 0;       // 503: keys or introspection unreachable
  uint64_t jwks_fetches = 0, jwks_fetch_failures = 0;
  uint64_t turn_pushes = 0, turn_revocations = 0;
};

// Scenarios 2 and 3 (protocols.md "Token validation configuration").
struct TokenSettings {
  bool enabled = false;         // a key source or introspection is configured
  std::string home_domain;      // the audience, the realm and uri of the TNA REGISTER
  token::TokenPolicy policy;    // issuers, audience (= home_domain), skew
  bool jwks_fetch = false;      // keys come from token_jwks_url (not a static file)
  bool introspection = false;   // opaque tokens go to token_introspection_url
  int64_t jwks_refetch_interval_s = 30;  // an unknown kid fetches again at most this often
  int64_t jwks_max_age_s = 3600;         // keys older than this are fetched again (in on_timer)
  size_t max_waiting = 1000;             // REGISTERs parked for keys or introspection at most
};

// Approach 2 (protocols.md "TURN credentials, Approach 2").
struct TurnPushSettings {
  bool push = false;    // [pcscf] turn_push_urls configured
  bool revoke = false;  // and turn_revoke_on_deregister
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
  TokenSettings token;
  TurnPushSettings turn_push;
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

  // Keys from a static JWKS file (token_jwks_file): never fetched.
  void set_verify_keys(token::VerifyKeys keys);
  // The answer to PcscfIo::fetch_jwks: a parsed JWKS, or why there is none.
  void on_jwks(base::Result<token::VerifyKeys, std::string> keys, const base::Now& now);
  // The answer to PcscfIo::introspect: the 200 response's JSON body, or why there is none.
  void on_introspection(uint64_t request, base::Result<std::string, std::string> body, const base::Now& now);
  // The WWSF table (store), replaced whole whenever it changed.
  void set_wwsfs(std::vector<WwsfInfo> wwsfs);
  size_t waiting_registers() const { return waiting_.size(); }

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

  // A Bearer REGISTER waiting for keys or an introspection answer.
  struct Waiting {
    sip::Hop from;
    uint64_t connection;
    sip::Message req;
    std::string token;
    uint64_t cookie;
    bool for_keys;  // else for introspection
  };
  // What the 200 OK of a TNA REGISTER may bind: the token's IMPUs only.
  std::optional<uint64_t> close_after_response_;  // connection to close once the response in flight is sent
  struct TokenRegistration {
    uint64_t connection;
    std::vector<std::string> impus;  // canonical AORs
  };
  struct IssuedCredential {  // kept for revocation (Approach 2)
    std::string impi, username;
    int64_t texp;
  };
  void handle_bearer(const sip::Hop& from, uint64_t connection, sip::Message& req, std::string token, uint64_t cookie,
                     const base::Now& now);
  void validate_jwt(Waiting w, bool after_fetch, const base::Now& now);
  void accept_token(Waiting w, const token::ImsAccessToken& t, const base::Now& now);
  void refuse_token(const Waiting& w, std::string_view reason);
  void park(Waiting w, const base::Now& now);
  bool may_fetch_jwks(const base::Now& now) const;
  void start_jwks_fetch(const base::Now& now);
  void forward_register(const sip::Hop& from, uint64_t connection, sip::Message req, uint64_t cookie, const base::Now& now);
  void credential_issued(uint64_t connection, const std::string& impi, const token::EphemeralCredential& c);
  void revoke_credentials(uint64_t connection, const std::string* impi, int64_t now_unix);

  PcscfSettings settings_;
  PcscfIo& io_;
  base::Random& random_;
  FlowTokens tokens_;
  sip::ProxyCore proxy_;
  Bindings bindings_;
  std::unordered_map<uint64_t, WsFlow> flows_;
  PcscfStats stats_;
  // Tokens
  token::VerifyKeys keys_;
  bool keys_loaded_ = false;      // from the file, or one fetch succeeded
  bool jwks_in_flight_ = false;
  bool jwks_last_failed_ = false;
  std::optional<base::SteadyTime> jwks_started_, jwks_loaded_at_;
  WwsfTable wwsfs_;
  std::map<uint64_t, Waiting> waiting_;  // by request id (introspection answers name it)
  uint64_t next_request_ = 1;
  std::unordered_map<uint64_t, TokenRegistration> token_regs_;  // by forward() cookie id
  uint64_t next_token_reg_ = 1;
  std::unordered_map<uint64_t, std::vector<IssuedCredential>> issued_;  // by connection
  std::optional<base::SteadyTime> last_expiry_sweep_;
  base::Now now_{};  // of the input being handled (on_response has no clock of its own)
};

}  // namespace pcscf
