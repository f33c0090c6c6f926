// The IMS core, sans-I/O: a combined I-CSCF/S-CSCF on top of sip::ProxyCore (TS 23.228 §4.6,
// TS 24.229 §5.4 in the subset TR 33.871 6.1.1 needs), with the HSS and the location service in the
// store.
//
// Registrar (RFC 3261 §10.3, RFC 3327 Path, RFC 3608 Service-Route, RFC 3455 P-Associated-URI):
//   REGISTER for the home domain; IMPI from the Digest username or, without one, from the To IMPU
//   (NOTE 5); unknown IMPI or an IMPU of another subscription -> 403; authentication by the
//   Authenticator (Digest MD5/SHA-256, AKAv2-MD5 with resynchronisation); bindings with expiry
//   clamped to [min_expires, max_expires], `*` with Expires: 0 removes all, RFC 5626 instance/reg-id
//   replaces a device's old binding; persisted in the store (they survive restarts) and expired by
//   on_timer(). 200 OK with the Contacts, Path echoed, Service-Route <sip:orig@core;lr> and the
//   subscription's IMPUs in P-Associated-URI.
// Router:
//   originating requests (our Service-Route on top) need a registered served identity; requests
//   for a home-domain IMPU go to each binding of the subscription's implicit registration set,
//   through the binding's Path (sent on the connection the REGISTER came over while it is up, else
//   to the Path URI's address), Record-Routed by us; unknown IMPU 404, not registered 480;
//   in-dialog requests follow their Route, but only toward trusted nodes; anything else (another
//   domain, a Route elsewhere) is 403: the core is no open relay.
// Trusted Node Authentication (integrity-protected="auth-done", TS 24.229 / TS 33.203 Annex U) is
//   accepted only from trusted_nodes and then decided by a TnaPolicy: by default the HSS checks of
//   scenarios 2 and 3 (protocols.md, TR 33.871 REQ 2.1-2.3, 3.2) on `authorization-entity`, with the
//   WWSFs read from the store and reloaded when its WWSF change counter moves.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/clock.hpp"
#include "base/ip.hpp"
#include "base/random.hpp"
#include "core/config.hpp"
#include "core/logic/authenticator.hpp"
#include "core/logic/stats.hpp"
#include "sip/auth.hpp"
#include "sip/proxy.hpp"
#include "store/store.hpp"

namespace core {

// The way out, implemented by the I/O shell.
class Io {
 public:
  virtual ~Io() = default;
  virtual bool send(const sip::Hop& to, const sip::Message& msg) = 0;  // false: could not be queued
};

// Where the core is reachable over one transport: put in Via, Record-Route and Service-Route.
struct LocalAddress {
  std::string transport;  // "UDP" "TCP" "TLS"
  std::string host_port;  // "127.0.0.1:5060"
};

// A REGISTER with integrity-protected="auth-done" from a trusted node (the eP-CSCF authenticated
// the WIC itself, scenarios 2 and 3).
struct TnaRequest {
  const store::Subscriber& subscriber;
  const std::string& impu;
  const sip::DigestCredentials& credentials;  // may carry authorization-entity (the WWSF)
  const sip::Hop& from;
  // The WWSF named by authorization-entity as the store knows it; null when the parameter is absent
  // or names no known WWSF.
  const store::Wwsf* wwsf = nullptr;
};
struct TnaDecision {
  bool accept = false;
  std::string reason;  // 403 reason phrase when refused
};
using TnaPolicy = std::function<TnaDecision(const TnaRequest&)>;
// Scenarios 2 and 3 at the S-CSCF/HSS: without authorization-entity the trusted node's word is
// enough (the WAF is in the operator domain); with one, it must name a known WWSF (r.wwsf), not
// blocked (REQ 2.2), in the subscription's allowed-WWSF list (REQ 2.1/2.3) or its pool owner
// (REQ 3.2). Each refusal's reason phrase names the check that failed.
TnaDecision default_tna_policy(const TnaRequest& r);

class CoreLogic final : public sip::ProxyUser {
 public:
  // Loads the bindings from the store. `nonce_secret` keys the Digest nonces (>= 16 octets).
  CoreLogic(const CoreConfig& cfg, std::vector<LocalAddress> local, store::Store& store, Io& io,
            base::Random& random, base::Bytes nonce_secret, const base::Now& now);
  ~CoreLogic() override;

  // A message from the transport layer.
  void on_message(const sip::Hop& from, sip::Message msg, const base::Now& now);
  // Transaction timers, expired bindings and AKA challenges. Call at next_timer() or earlier.
  void on_timer(const base::Now& now);
  std::optional<base::SteadyTime> next_timer();
  // A TCP/TLS connection went away: bindings that came over it are reached by their Path URI again.
  void on_flow_closed(uint64_t flow, const base::Now& now);
  // A message the transport gave back (the connection it waited for never came up).
  void on_undelivered(const sip::Message& msg, const base::Now& now) { proxy_.on_undelivered(msg, now); }
  // Reloads the bindings when another process changed them (e.g. `webims admin subscriber remove`).
  void poll_store(const base::Now& now);
  // Writes the registration changes not yet in the store (see registration_write_delay). Call on a
  // clean stop; the destructor does too. Throws store::Error (the changes stay queued).
  void flush_store();
  size_t unwritten_changes() const { return pending_.size(); }

  void set_tna_policy(TnaPolicy p) { tna_policy_ = std::move(p); }
  size_t registration_count() const { return binding_count_; }
  const Stats& stats() const { return stats_; }
  const sip::ProxyStats& proxy_stats() const { return proxy_.stats(); }
  size_t transaction_count() const { return proxy_.transaction_count(); }
  size_t aka_challenges() const { return auth_.aka_challenges(); }

  // The bindings of one IMPU (canonical form), for tests and /health.
  std::vector<store::Registration> bindings(const std::string& impu) const;

 private:
  bool send(const sip::Hop& to, const sip::Message& msg) override;
  void on_response(const sip::ForwardContext& ctx, sip::Message& response) override;
  void on_branch_final(const sip::ForwardContext& ctx, size_t target, int status) override;

  void handle(const sip::Hop& from, sip::Message& msg, const base::Now& now);
  void handle_register(const sip::Hop& from, sip::Message& req, const base::Now& now);
  void apply_bindings(const sip::Hop& from, sip::Message& req, const store::Subscriber& sub,
                      const std::string& impu, const base::Now& now);
  void route(const sip::Hop& from, sip::Message& req, bool originating, const base::Now& now);
  void reply(const sip::Hop& from, const sip::Message& req, int status, std::string_view reason = {},
             const std::vector<std::pair<std::string, std::string>>& headers = {});
  void register_result(RegisterResult r) { ++stats_.register_results[size_t(r)]; }
  void auth_failure(AuthFailure f) { ++stats_.auth_failures[size_t(f)]; }

  bool trusted(const base::IpAddress& a) const;
  bool is_home(const sip::Uri& uri) const;
  std::string local_for(const std::string& transport) const;
  std::string uri_param_for(const std::string& transport) const;
  // Every binding of the subscription `impi` (its implicit registration set).
  std::vector<const store::Registration*> reachable(const store::Subscriber& sub) const;
  std::optional<sip::Hop> hop_for(const store::Registration& b) const;

  // The HSS lookups of every request, cached while the store's subscribers generation stays put
  // (checked at most every 100 ms; a changed or removed subscriber is seen within that). Null/empty
  // when unknown.
  void check_subscribers();
  const store::Subscriber* subscriber(const std::string& impi);
  std::optional<std::string> impi_for_impu(const std::string& impu);
  // The WWSFs, reloaded whole when the store's WWSF counter moved (checked at most every 100 ms,
  // and only when a TNA REGISTER names one). Null when unknown; ids compare case-insensitively.
  const store::Wwsf* wwsf(const std::string& id);
  // Queues a change for the store; written by flush_store() within registration_write_delay.
  void write(store::RegistrationChange c);

  void put_binding(const store::Registration& r);
  void drop_binding(const std::string& impu, const std::string& contact);
  void load(const base::Now& now);
  void expire(const base::Now& now);

  CoreConfig cfg_;
  std::vector<LocalAddress> local_;
  store::Store& store_;
  Io& io_;
  sip::ProxyCore proxy_;
  Authenticator auth_;
  TnaPolicy tna_policy_ = default_tna_policy;
  std::vector<base::Cidr> trusted_;
  Stats stats_;

  std::unordered_map<std::string, std::vector<store::Registration>> by_impu_;
  // The binding (impu, contact) behind each target of a terminating forward, by forward() cookie:
  // a 430 Flow Failed from the eP-CSCF removes it (RFC 5626 §5.3).
  std::unordered_map<uint64_t, std::vector<std::pair<std::string, std::string>>> forwarded_;
  uint64_t next_cookie_ = 1;
  std::set<std::tuple<int64_t, std::string, std::string>> expiry_;  // (expires_unix, impu, contact)
  size_t binding_count_ = 0;
  uint64_t seen_generation_ = 0;
  std::unordered_set<uint64_t> live_flows_;
  std::vector<store::RegistrationChange> pending_;
  // Index in pending_ of the last Put of each impu '\0' contact since the last other change:
  // a newer Put of the same binding (same IMPI) replaces it instead of being written as well.
  std::unordered_map<std::string, size_t> pending_puts_;
  base::SteadyTime pending_since_{};
  base::SteadyTime last_steady_{};
  std::unordered_map<std::string, store::Subscriber> subscribers_;  // by IMPI
  std::unordered_map<std::string, std::string> impi_of_impu_;
  uint64_t subscribers_generation_ = 0;
  base::SteadyTime subscribers_checked_{};
  std::unordered_map<std::string, store::Wwsf> wwsfs_;  // by lower-case id
  std::optional<uint64_t> wwsfs_generation_;
  base::SteadyTime wwsfs_checked_{};
  base::SteadyTime next_housekeeping_{};
};

}  // namespace core
