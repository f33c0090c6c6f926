// The command-line WIC's SIP user agent, sans-I/O (style.md "Sans-I/O"): SIP over WebSocket as a
// browser WIC speaks it to the eP-CSCF (RFC 7118, protocols.md W2), with IMS registration by
// Digest or AKA (TS 24.229 5.1.1, TR 33.871 6.1.1, protocols.md "Scenario 1").
//
//   RFC 3261 §8.1 (UAC requests), §10.2 (REGISTER, refresh, Expires, 423), §12-§15 (dialogs, ACK,
//     CANCEL, BYE), §17 (transaction matching by Via branch; over a reliable transport nothing is
//     retransmitted, Timer B/F end a transaction that gets no response), §22 (401/407 once per
//     challenge, again only on stale=true or after an AKA resynchronisation);
//   RFC 7616 / RFC 8760 (Digest MD5, SHA-256, -sess, qop=auth with nc/cnonce);
//   RFC 3310 / RFC 4169 (AKAv1/AKAv2-MD5; SQN failure answered with `auts`, RFC 3310 §3.4);
//   RFC 5626 / RFC 7118 (Contact with ;ob, +sip.instance, reg-id=1; `.invalid` hosts; Via WSS);
//   TS 33.203 X.5.2 (3gpp-ext-turn-cred on REGISTER and on OPTIONS).
//
// Inputs: on_message(text, now), on_timer(now), and the commands (start_register, send_message,
// invite, answer, ...). Outputs: take_outgoing() (SIP texts for the WebSocket, one per frame),
// take_events() and next_deadline(). The caller supplies the clock and the randomness.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "crypto/aka.hpp"
#include "crypto/secret.hpp"
#include "sip/message.hpp"
#include "wic/turn_cred.hpp"

namespace wic {

// How the UA answers Digest challenges. A password serves MD5/SHA-256 (and -sess); an ISIM serves
// AKAv1-MD5/AKAv2-MD5. Both may be given: the challenge's algorithm decides.
struct Credentials {
  std::optional<crypto::SecretString> password;
  std::optional<crypto::Isim> isim;
};

struct UaConfig {
  std::string impu;               // sip:alice@ims.example.org (From/To of REGISTER)
  std::string impi;               // Digest username; empty: the IMPU without "sip:" (protocols.md NOTE 5)
  uint32_t expires = 600;         // asked for in REGISTER
  bool request_turn_credential = false;  // 3gpp-ext-turn-cred: request on the initial REGISTER
  // TS 24.229 5.1.1.2.1: the initial REGISTER carries Authorization with the IMPI and empty
  // nonce/response, so the S-CSCF knows the private identity. Always sent when the UA has an ISIM,
  // then with algorithm=AKAv<aka_version>-MD5 so the S-CSCF challenges with AKA (a subscription
  // may hold both a Digest secret and K/OPc).
  bool initial_authorization = false;
  crypto::AkaVersion aka_version = crypto::AkaVersion::V2;
  // TS 24.229 5.1.2A.1.1: preload Route with the Service-Route learned at registration. Browser
  // WICs (JsSIP) do not; off by default.
  bool preload_service_route = false;
  base::Millis transaction_timeout{32000};  // Timer B/F = 64*T1 (RFC 3261 §17.1.1.2)
  base::Millis ack_timeout{32000};          // a 2xx to INVITE not ACKed: BYE (§13.3.1.4)
  std::string instance_id;        // "urn:uuid:..."; empty: random (RFC 5626 §4.1)
  std::string user_agent = "webims-wic";
  std::string options_uri;        // Request-URI of OPTIONS; empty: sip:<home domain>
};

struct Registration {
  uint32_t expires = 0;                   // granted (our Contact's expires, else Expires)
  std::vector<std::string> associated_uris;  // P-Associated-URI (RFC 7315)
  std::vector<std::string> service_routes;   // Service-Route (RFC 3608), as name-addr text
  std::string pub_gruu, temp_gruu;        // RFC 5627 Contact parameters, when granted
};

enum class EventKind {
  Registered,          // 2xx to REGISTER: registration (and turn when asked and present)
  Refreshed,           // 2xx to a refreshing REGISTER (automatic before expiry)
  RegistrationFailed,  // final failure of (re-)REGISTER: status/reason (status 0: local or timeout)
  Unregistered,        // 2xx to REGISTER with Expires: 0 (status), or its failure (status >= 300)
  RequestDone,         // final response to MESSAGE or OPTIONS: method, status, reason, call_id, turn
  CallProgress,        // 1xx to our INVITE: status
  CallAnswered,        // 2xx to our INVITE, ACK sent: body = remote SDP
  CallFailed,          // INVITE ended without a dialog: status >= 300, or 0 on timeout
  IncomingCall,        // a new INVITE; 180 sent; call answer() or reject(): peer, body = offer
  CallConfirmed,       // the ACK for our 2xx arrived
  CallEnded,           // BYE received (remote = true) or answered (status), or no ACK in time
  IncomingMessage,     // MESSAGE received and answered 200: peer, content_type, body
  Notice,              // something dropped or ignored, for --verbose: reason
};
std::string_view to_string(EventKind k);

struct Event {
  EventKind kind{};
  std::string method;
  int status = 0;
  std::string reason;
  std::string call_id;
  std::string peer;          // remote URI: From of incoming requests, To of ours
  std::string content_type;
  std::string body;
  bool remote = false;       // CallEnded: the peer hung up
  Registration registration; // Registered, Refreshed
  std::optional<TurnCredential> turn;  // Registered, RequestDone (OPTIONS)
  // When the turn header was present but malformed: its text (else empty).
  std::string turn_malformed;
};

class UserAgent {
 public:
  // Throws std::invalid_argument when the IMPU is not a sip:/sips: URI with a user and host.
  UserAgent(UaConfig config, Credentials credentials, base::Random& random);

  // ---- inputs ----
  // One SIP message received on the WebSocket (one per text frame, RFC 7118 §5).
  void on_message(std::string_view text, const base::Now& now);
  // Runs due timers (transaction timeouts, registration refresh, missing ACK).
  void on_timer(const base::Now& now);

  // ---- commands ----
  void start_register(const base::Now& now);
  void start_unregister(const base::Now& now);
  bool registered() const { return reg_state_ == RegState::Registered; }
  // Refreshes the registration before it expires (default on: a WIC that stays online does).
  void set_auto_refresh(bool on) { auto_refresh_ = on; }
  // Out-of-dialog requests; the return value is the Call-ID that its RequestDone event carries.
  std::string send_message(std::string_view to, std::string_view content_type, std::string_view text,
                           const base::Now& now);
  std::string send_options(bool request_turn_credential, const base::Now& now);
  // Calls: INVITE with `sdp`; returns the Call-ID.
  std::string invite(std::string_view to, std::string_view sdp, const base::Now& now);
  // CANCEL (RFC 3261 §9.1): sent once a provisional response has arrived, at once if one has.
  // False when the call is not pending.
  bool cancel(std::string_view call_id, const base::Now& now);
  // BYE in a confirmed dialog (or one answered and not ACKed yet). False when there is none.
  bool bye(std::string_view call_id, const base::Now& now);
  // For an IncomingCall: 200 with `sdp`, or a final error status.
  bool answer(std::string_view call_id, std::string_view sdp, const base::Now& now);
  bool reject(std::string_view call_id, int status, const base::Now& now);

  // ---- outputs ----
  std::vector<std::string> take_outgoing();
  std::vector<Event> take_events();
  bool has_events() const { return !events_.empty(); }
  std::optional<base::SteadyTime> next_deadline() const;

  // The ISIM's SQN state when it changed since the last call (persist it: --aka-sqn-file).
  std::optional<crypto::IsimSqnState> take_isim_state_if_changed();

  const UaConfig& config() const { return config_; }
  const std::string& impi() const { return impi_; }
  const std::string& home_domain() const { return domain_; }
  const std::string& contact_uri() const { return contact_uri_; }
  const Registration& registration() const { return registration_; }
  size_t dialog_count() const { return dialogs_.size(); }

 private:
  enum class RegState { Unregistered, Registering, Registered, Unregistering };
  enum class Purpose { Register, Unregister, Message, Options, Invite, Bye, Cancel };

  struct ClientTx {
    Purpose purpose{};
    sip::Message request;
    std::string branch;
    std::optional<base::SteadyTime> deadline;  // cleared by a provisional response to INVITE
    int challenges = 0;          // 401/407 answered in this request chain
    bool last_was_resync = false;
    bool refresh = false;        // Register: a refresh, not the initial registration
  };

  struct Dialog {
    bool outgoing = false;
    std::string call_id, local_tag, remote_tag, local_uri, remote_uri, remote_target;
    std::vector<std::string> route_set;  // Route header values in the order to send
    uint32_t local_cseq = 0;
    uint32_t invite_cseq = 0;
    enum class State { Calling, Early, Incoming, WaitAck, Confirmed } state = State::Calling;
    bool provisional_seen = false;
    bool cancel_wanted = false;
    std::string invite_branch;           // our INVITE's current branch (CANCEL uses it)
    std::optional<sip::Message> invite;  // ours (for CANCEL) or theirs (for responses)
    std::optional<base::SteadyTime> ack_deadline;
    std::string local_sdp;               // for re-INVITEs
    std::string ack;                     // our ACK to their 2xx, re-sent if the 2xx is repeated
    bool hanging_up = false;             // BYE sent
  };

  // Request building.
  sip::Message new_request(std::string_view method, std::string_view ruri, std::string_view from,
                           std::string_view to, std::string_view call_id, uint32_t cseq);
  std::string new_branch();
  void add_common(sip::Message& m, bool with_contact);
  // Sends tx.request as a new client transaction: top Via with a new branch (or `branch`, for
  // CANCEL), deadline from transaction_timeout.
  ClientTx& send(ClientTx tx, const base::Now& now, std::string branch = {});
  void send_raw(const sip::Message& m);
  sip::Message make_register(uint32_t expires);
  void send_register(uint32_t expires, bool refresh, const base::Now& now);

  // Responses.
  void on_response(sip::Message&& m, const base::Now& now);
  void on_register_response(ClientTx& tx, const sip::Message& m, const base::Now& now);
  void on_invite_response(ClientTx& tx, const sip::Message& m, const base::Now& now, bool& done);
  void send_ack_non2xx(const ClientTx& tx, const sip::Message& response);
  void send_ack_2xx(Dialog& d);
  void send_cancel(Dialog& d, const base::Now& now);
  // 401/407: a new request with credentials, or an error sentence.
  std::optional<std::string> answer_challenge(ClientTx& tx, const sip::Message& challenge, const base::Now& now);

  // Requests.
  void on_request(sip::Message&& m, const base::Now& now);
  void respond(const sip::Message& request, int status, std::string_view to_tag = {},
               std::string_view content_type = {}, std::string_view body = {}, bool contact = false,
               bool record_route = false);

  void emit(Event e) { events_.push_back(std::move(e)); }
  void notice(std::string reason);
  void fail_tx(ClientTx& tx, int status, std::string reason);
  Dialog* find_dialog(std::string_view call_id);

  UaConfig config_;
  Credentials credentials_;
  base::Random& random_;
  std::string impi_, domain_, impu_user_;
  std::string via_host_, contact_uri_, instance_;
  std::string from_tag_reg_, reg_call_id_;
  uint32_t reg_cseq_ = 0;
  uint32_t expires_asked_ = 0;
  RegState reg_state_ = RegState::Unregistered;
  bool auto_refresh_ = true;
  bool turn_requested_once_ = false;
  std::optional<base::SteadyTime> refresh_at_;
  Registration registration_;
  std::map<std::string, uint32_t> nonce_counts_;  // per nonce, for nc (RFC 7616 §3.4)
  std::map<std::string, ClientTx> txs_;            // by branch + " " + method (CANCEL shares the branch)
  std::map<std::string, Dialog> dialogs_;          // by Call-ID
  std::vector<std::string> outgoing_;
  std::deque<Event> events_;
  bool isim_dirty_ = false;
};

// Random [a-z0-9] text of length n (tags, branches, .invalid hosts).
std::string random_token(base::Random& random, size_t n);
// "urn:uuid:xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (RFC 4122 version 4).
std::string random_instance_id(base::Random& random);

// A SIP message for logs: Authorization/Proxy-Authorization responses masked, the TURN password of
// 3gpp-ext-turn-cred masked. Works on any text (it does not need to parse).
std::string redact_for_log(std::string_view sip_text);

// The ISIM's SQN state as a small text file ("IND SEQ_MS" lines) and back; nullopt on bad text.
std::string format_sqn_state(const crypto::IsimSqnState& s);
std::optional<crypto::IsimSqnState> parse_sqn_state(std::string_view text);

}  // namespace wic
