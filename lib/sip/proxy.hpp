// A transaction-stateful SIP proxy core, sans-I/O: RFC 3261 §16 (proxy behaviour: request
// validation, loose routing §16.4, forwarding §16.6, response context and best-response selection
// §16.7, CANCEL §16.10, ACK §16.11), §17 (client and server transactions, timers A-K), §18.2.1
// (`received`), RFC 3581 (`rport`), RFC 6026 (2xx to INVITE: Accepted state, Timers L and M).
//
// The owner (eP-CSCF, S-CSCF) feeds every received message to on_message(); the core answers what
// the transaction layer answers (retransmissions, responses to forwarded requests, CANCEL, ACK
// for non-2xx, malformed requests) and hands back only new requests. For those the owner decides:
// respond() locally, or forward() to one or more targets (parallel forking). Messages go out
// through ProxyUser::send(); time (base::Now) and randomness (base::Random) are inputs; the owner
// calls on_timer() at next_timer() or earlier.
//
// Hops carry a flow id: the owner's handle for a connection (TCP/TLS/WebSocket). A response goes
// back on the flow its request arrived on, which is what lets a WebSocket WIC or a TCP peer with an
// ephemeral port get its answers (RFC 3261 §18.2.2, RFC 5626 style).
//
// Not thread-safe: one ProxyCore per thread (io_context).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/clock.hpp"
#include "base/ip.hpp"
#include "base/random.hpp"
#include "sip/message.hpp"

namespace sip {

// Where a message came from or goes to.
struct Hop {
  std::string transport = "UDP";  // as in Via, upper case: "UDP" "TCP" "TLS" "WS" "WSS"
  base::Endpoint remote;
  uint64_t flow = 0;  // the owner's connection/flow id; 0 = none (UDP, or "any connection to remote")

  bool reliable() const { return transport != "UDP"; }
  std::string to_string() const;  // "TCP 192.0.2.1:5060 flow 7", for logs
  friend bool operator==(const Hop&, const Hop&) = default;
};

// What a response relayed upstream belongs to (ProxyUser::on_response).
struct ForwardContext {
  const Message& request;  // as received from upstream (with received/rport), before our edits
  const Hop& upstream;     // where the request came from and the response goes
  uint64_t cookie;         // the value the owner passed to forward()
};

// The owner: the way out, and a hook on relayed responses.
class ProxyUser {
 public:
  virtual ~ProxyUser() = default;
  // False when the transport could not even take it (no connection and none can be opened, queue
  // full, flow gone): a request forwarded that way gets its 503 at once (RFC 3261 §16.9) instead
  // of a 408 after Timer F/B.
  virtual bool send(const Hop& to, const Message& msg) = 0;
  // Called for every response about to be sent upstream for a forwarded request (provisional,
  // each 2xx, the best final, and the 408/500 the core makes itself), after our Via was removed.
  // The owner may edit it (the eP-CSCF binds identities on a 200 to REGISTER and adds headers).
  virtual void on_response(const ForwardContext& ctx, Message& response) {}
  // Called once per target when its final status is known (received, or 408/503 made by the
  // core): `target` indexes the targets given to forward(). A registrar drops the binding behind
  // a 430 Flow Failed here (RFC 5626 §5.3).
  virtual void on_branch_final(const ForwardContext& ctx, size_t target, int status) {}
};

struct ProxyConfig {
  // sent-by of our Via per outgoing transport ({"TCP", "192.0.2.5:5060"}, {"WSS", "pcscf.example.org"}).
  std::vector<std::pair<std::string, std::string>> sent_by;
  std::string default_sent_by = "127.0.0.1:5060";  // for transports not listed
  // "host" or "host:port" values naming this proxy in Route and Request-URIs (every sent_by value
  // counts too). A value without a port matches any port.
  std::vector<std::string> local_names;
  base::Millis t1{500};   // RFC 3261 §17.1.1.1 round-trip estimate
  base::Millis t2{4000};  // maximum retransmit interval for non-INVITE requests and INVITE responses
  base::Millis t4{5000};  // maximum duration a message remains in the network
  base::Seconds timer_c{180};  // INVITE: how long to wait for a final response (RFC 3261 §16.6 step 11)
  size_t max_transactions = 100000;  // beyond, new requests get 503 (memory bound under attack)
  bool trying_for_invite = true;     // send 100 Trying upstream when forwarding an INVITE (§16.2)
};

struct ProxyStats {
  uint64_t forwarded = 0;             // requests forwarded (each target counts)
  uint64_t responses_relayed = 0;     // responses sent upstream for forwarded requests
  uint64_t local_responses = 0;       // responses made by respond() and by the core itself
  uint64_t retransmissions_absorbed = 0;
  uint64_t retransmissions_sent = 0;  // Timer A/E/G
  uint64_t timeouts = 0;              // client transactions ended by Timer B/C/F
  uint64_t stray_responses = 0;       // responses matching no transaction (dropped, or 2xx relayed statelessly)
  uint64_t malformed = 0;             // requests answered 400, responses dropped
  uint64_t overload = 0;              // requests refused with 503 (max_transactions)
};

class ProxyCore {
 public:
  ProxyCore(ProxyConfig config, ProxyUser& user, base::Random& random);
  ~ProxyCore();
  ProxyCore(const ProxyCore&) = delete;
  ProxyCore& operator=(const ProxyCore&) = delete;

  enum class Inbound {
    Request,   // a new request: the owner must respond(), forward() or drop it
    Consumed,  // handled here: response relayed, retransmission absorbed, CANCEL or ACK matched,
               // malformed request answered 400, stray response dropped
  };
  // A message received from `from`. A request first gets `received`/`rport` on its top Via
  // (RFC 3261 §18.2.1, RFC 3581 §4), also when Request is returned.
  Inbound on_message(const Hop& from, Message& msg, const base::Now& now);

  // Request-URI and Route processing before routing (RFC 3261 §16.4). `popped` is the URI of our
  // own top Route, removed (its user part or parameters may carry the owner's token).
  struct RouteCheck {
    bool strict_route_fixed = false;  // the Request-URI was ours (a strict router upstream) and
                                      // was replaced by the last Route
    std::optional<std::string> popped;
  };
  RouteCheck preprocess_route(Message& request) const;

  struct Target {
    Hop hop;
    Message request;  // the request as the owner prepared it for this target (Request-URI, Route,
                      // Record-Route...), without our Via
  };
  // Forwards to the targets in parallel (RFC 3261 §16.6-§16.7): per target, Max-Forwards is
  // decremented (added as 70 when absent) and our Via pushed with a fresh branch; a client
  // transaction retransmits over UDP and times out (408); responses come back through the
  // response context: 1xx and every 2xx relayed at once, otherwise the best final once every
  // target is done (6xx or 2xx to INVITE cancel the others). `from` and the first target's
  // request (before our edits) form the server transaction. ACK is sent without any state.
  // Returns false after answering upstream itself: 483 when Max-Forwards is 0, 503 when full,
  // 500 without targets.
  bool forward(const Hop& from, std::vector<Target> targets, const base::Now& now, uint64_t cookie = 0);
  bool forward(const Hop& from, Message request, const Hop& to, const base::Now& now, uint64_t cookie = 0);

  // A local answer to a request on_message() returned: make_local_response() then send. The
  // response is kept to answer retransmissions; a non-2xx final to INVITE is retransmitted over
  // UDP until the ACK (Timer G/H), and that ACK is absorbed. Timers start at the `now` of the
  // last on_message()/on_timer()/forward() call (the owner answers within that call).
  void respond(const Hop& from, const Message& request, int status, std::string_view reason = {},
               const std::vector<std::pair<std::string, std::string>>& headers = {});
  void respond(const Hop& from, const Message& request, Message response);
  // make_response() with a To tag of this proxy (added for status > 100 when the To has none).
  Message make_local_response(const Message& request, int status, std::string_view reason = {});

  void on_timer(const base::Now& now);
  // When on_timer() next has work; nullopt when idle.
  std::optional<base::SteadyTime> next_timer();
  // A connection went away: targets reached over it fail as if they had answered 503
  // (RFC 3261 §8.1.3.1), so the upstream side gets its final answer without waiting.
  void on_flow_closed(uint64_t flow, const base::Now& now);
  // A message we sent that the transport could not deliver after all (the connection it waited
  // for never came up): a forwarded request's branch ends with 503 now (§8.1.3.1, §16.9).
  void on_undelivered(const Message& msg, const base::Now& now);

  // True when `uri` names this proxy (ProxyConfig::sent_by and local_names).
  bool is_local(const Uri& uri) const;
  size_t transaction_count() const { return txns_.size(); }
  const ProxyStats& stats() const { return stats_; }
  const ProxyConfig& config() const { return config_; }

  // ---- helpers for owners ----
  // The hop a URI designates when its host is an IP literal (transport from `;transport=`, UDP by
  // default, TLS for sips; port 5060, or 5061 for TLS); nullopt for host names (the owner
  // resolves them) and non-SIP URIs.
  static std::optional<Hop> hop_for_uri(const Uri& uri);
  // Where a response goes when no transaction remembers it (RFC 3261 §18.2.2, RFC 3581 §4):
  // received/rport if present, else sent-by when it is an IP literal.
  static std::optional<Hop> hop_for_via(const Via& via);
  // `Record-Route: <uri>` / `Path: <uri>` on top (RFC 3261 §16.6 step 4, RFC 3327 §5.2). Put `;lr` in
  // the URI. False when the value cannot be a header value.
  static bool add_record_route(Message& request, std::string_view uri);
  static bool add_path(Message& request, std::string_view uri);
  // Sets received/rport on the top Via for a request from `source` (what on_message() does).
  static bool stamp_via(Message& request, const base::Endpoint& source);

 private:
  struct Branch;
  struct Txn;
  using TxnPtr = std::unique_ptr<Txn>;

  Txn* find_server(const std::string& key);
  Txn* create_txn(const std::string& key, const Hop& from, const Message& request, const base::Now& now);
  void destroy(Txn* t);
  void relay_response(Txn& t, size_t branch_index, Message& response, const base::Now& now);
  void deliver_upstream(Txn& t, Message response, bool relayed, const base::Now& now);
  void branch_final(Txn& t, size_t branch_index, int status, const base::Now& now);
  void maybe_send_best(Txn& t, const base::Now& now);
  void cancel_branches(Txn& t, const base::Now& now);
  void send_cancel(Txn& t, Branch& b, const base::Now& now);
  void send_ack_for(Branch& b, const Message& response);
  void handle_cancel(const Hop& from, Message& cancel, const base::Now& now);
  void service(Txn& t, const base::Now& now);
  void schedule(Txn& t);
  void maybe_finish(Txn& t);
  std::string new_branch();
  std::string new_tag();
  std::string sent_by(const std::string& transport) const;
  bool send_stateless_response(const Hop& from, const Message& request, int status, std::string_view reason);

  ProxyConfig config_;
  ProxyUser& user_;
  base::Random& random_;
  ProxyStats stats_;
  uint64_t next_id_ = 1;
  base::SteadyTime last_now_{};
  std::unordered_map<uint64_t, TxnPtr> txns_;
  std::unordered_map<std::string, uint64_t> server_index_;  // server transaction key -> txn id
  std::unordered_map<std::string, std::pair<uint64_t, size_t>> client_index_;  // our branch -> txn, target
  // (wake time, txn id); an entry is stale when the txn's wake time moved.
  using Wake = std::pair<base::SteadyTime, uint64_t>;
  std::priority_queue<Wake, std::vector<Wake>, std::greater<Wake>> wakes_;
};

}  // namespace sip
