// `webims wic`: the command-line WIC. A SIP user agent over secure WebSocket (RFC 7118) that
// behaves like a browser WIC towards the eP-CSCF (protocols.md W2, Scenario 1, Solution 1), for
// scripts, interop tests and load. The SIP logic is cli/wic/user_agent (sans-I/O); this file is
// its I/O shell: one WebSocket (net::WsClient) per user agent, a timer, stdout/stderr.
//
// Output: `key=value` lines on stdout (values with \\, \n, \r, \t escaped). Exit codes: 0 success,
// 1 protocol failure (one sentence on stderr naming the status and reason), 2 usage error.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "base/encoding.hpp"
#include "commands.hpp"
#include "crypto/random.hpp"
#include "net/tls.hpp"
#include "net/ws_server.hpp"
#include "wic/sdp.hpp"
#include <nlohmann/json.hpp>

#include "token/oauth_token.hpp"
#include "wic/turn_client.hpp"
#include "wic/turn_cred.hpp"
#include "wic/user_agent.hpp"

namespace cli {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// ---- help ------------------------------------------------------------------------------------

const char* kHelp = R"(usage: webims wic <command> [options]

The command-line WIC: SIP over secure WebSocket (RFC 7118) to the eP-CSCF, registering with IMS
credentials (SIP Digest or IMS AKA through a software ISIM), as a browser WIC does.

commands:
  register    REGISTER (and keep or end the registration); optionally get a TURN credential
  turn-cred   register, then OPTIONS with 3gpp-ext-turn-cred; optionally a TURN Allocate with it
  message     register, then send a MESSAGE
  call        register, then INVITE (SDP only); ACK, optional BYE, CANCEL on no answer
  answer      register, then answer incoming INVITEs and MESSAGEs until --duration runs out
  load        many registrations in parallel (one WebSocket each), with rate and latency
  oauth-token mint an RFC 7635 TURN access token as the WAF would (for tests and other TURN servers)

`webims wic <command> --help` for the options of each. Output is key=value lines on stdout.
Exit codes: 0 success, 1 protocol failure (one sentence on stderr), 2 usage error.
)";

const char* kCommonHelp = R"(
connection:
  --url URL               eP-CSCF WebSocket URL (default wss://localhost:7443)
  --origin ORIGIN         Origin header of the handshake (default https://localhost:8443)
  --ca-file FILE          trust this CA (PEM), e.g. var/tls/ca.pem; default: the system store
  --insecure              do not verify the server certificate
  --timeout SECONDS       for the connection and each SIP transaction (default 10)
  --verbose               SIP messages on stderr (Digest responses and TURN passwords masked)
identity and credentials:
  --impu URI              public identity, e.g. sip:alice@ims.example.org (required)
  --impi IMPI             private identity (Digest username); default: the IMPU without "sip:".
                          When given, the first REGISTER carries it (TS 24.229 5.1.1.2.1)
  --password PW | --password-file FILE | --password -          SIP Digest (MD5, SHA-256)
  --aka-k HEX --aka-opc HEX [--aka-amf HEX] | --aka-file FILE   IMS AKA (AKAv1/AKAv2-MD5) via a
                          software ISIM (Milenage). --aka-file holds k=HEX, opc=HEX, amf=HEX lines.
                          The AMF comes from each AUTN; --aka-amf is only checked for syntax
  --aka-version 1|2       AKAv1-MD5 or AKAv2-MD5 (default 2), named in the first REGISTER
  --aka-sqn-file FILE     the ISIM's SQN state, read at start and written after each challenge,
                          so successive runs stay in sequence (created when missing)
  --expires SECONDS       registration lifetime asked for (default 600)
  --preload-route         put the Service-Route in Route of later requests (TS 24.229; JsSIP does not)
  --deregister            REGISTER with Expires: 0 before exiting
)";

const char* kRegisterHelp = R"(usage: webims wic register --impu URI (credentials) [options]

  --turn-cred             ask for a TURN credential in the REGISTER (3gpp-ext-turn-cred: request)
  --hold SECONDS          keep the registration that long (re-REGISTER before expiry), then exit
                          (deregistering first with --deregister); SIGINT/SIGTERM end it early

output: registered=1 impi= contact= expires= associated_uris= service_route= [pub_gruu= temp_gruu=]
        with --turn-cred: turn_username= turn_password= turn_expires= (Unix s) turn_uri= (each)
        refreshed=1 expires= on each refresh; deregistered=1
)";

const char* kTurnCredHelp = R"(usage: webims wic turn-cred --impu URI (credentials) [options]

Registers, then sends OPTIONS with `3gpp-ext-turn-cred: request` on the registered connection and
prints the credential from its 200 OK.

  --options-uri URI       Request-URI of the OPTIONS (default sip:<home domain>)
  --allocate TURN-URI     then a TURN Allocate (RFC 8656, long-term credential) with the credential
                          over UDP, e.g. turn:127.0.0.1:3478?transport=udp, or `auto` for the first
                          turn: URI the eP-CSCF listed; the allocation is released afterwards
  --turn-username U --turn-password P
                          skip SIP: only the Allocate, with this credential
  --oauth-grant FILE      skip SIP: only the Allocate, with an RFC 7635 access token (Solution 2):
                          FILE ("-" = stdin) is the WAF's TURN token response, JSON
                          {"access_token": base64, "kid": .., "key": base64 mac_key, ...}
  --oauth-token B64 --oauth-kid KID --oauth-mac-key B64
                          the same given piece by piece (e.g. from coturn's turnutils_oauth)
  --oauth-coturn          toward coturn: key MESSAGE-INTEGRITY with the first 16 bytes of the
                          20-byte mac_key, as coturn 4.6 does (RFC 7635 uses all of it)

output: turn_username= turn_password= turn_expires= turn_uri= ...
        with --allocate: relayed=ADDR:PORT mapped=ADDR:PORT lifetime=S, or turn_error=CODE
        (the STUN error code, e.g. 401 for an expired credential; `timeout` when none came)
)";

const char* kOAuthTokenHelp = R"(usage: webims wic oauth-token --kid KID --key B64 --server-name NAME [options]

Mints an RFC 7635 self-contained TURN access token under an AS-RS key, as the WAF does
(protocols.md "TURN credentials, Solution 2"), and prints the WAF's JSON grant
{"access_token","token_type":"pop","kid","key","expires_in"} on one line: input for
`webims wic turn-cred --oauth-grant -`, or for any RFC 7635 TURN server (coturn --oauth).

  --kid KID               the AS-RS key's id (the TURN USERNAME)
  --key B64               the AS-RS key, base64 (16 bytes for A128GCM, 32 for A256GCM)
  --alg ALG               A256GCM (default) or A128GCM
  --server-name NAME      the TURN server's name (its realm unless configured otherwise)
  --lifetime SECONDS      token lifetime (default 600)
  --mac-key-size N        20 (HMAC-SHA1 MESSAGE-INTEGRITY, default) or 32 (MESSAGE-INTEGRITY-SHA256)
)";

const char* kMessageHelp = R"(usage: webims wic message --impu URI (credentials) --to URI --text TEXT [options]

  --to URI                recipient, e.g. sip:bob@ims.example.org
  --text TEXT             the text/plain body
  --content-type TYPE     instead of text/plain

output: status=CODE reason=PHRASE call_id=ID   (exit 1 unless 2xx)
)";

const char* kCallHelp = R"(usage: webims wic call --impu URI (credentials) --to URI [options]

INVITE with a minimal SDP offer (audio, ICE ufrag/pwd, DTLS fingerprint, a=3ge2ae:requested).

  --to URI                callee
  --wait-answer SECONDS   how long to wait for the answer, then CANCEL (default 30)
  --hold SECONDS          keep the call up that long, then BYE (default 0: BYE at once)

output: call_id= progress=CODE (each provisional) status= reason= answered=1 remote_sdp_bytes=
        ended=1 bye_status= | remote_hangup=1 | cancelled=1
)";

const char* kAnswerHelp = R"(usage: webims wic answer --impu URI (credentials) [options]

Registers, then handles incoming requests until --duration runs out (or SIGINT/SIGTERM):
MESSAGE is answered 200; INVITE gets 180 and then, with --auto, 200 with a minimal SDP answer
(--reject CODE answers that status instead; with neither it rings until the caller cancels).

  --auto                  answer calls
  --reject CODE           reject calls with CODE (e.g. 486)
  --duration SECONDS      how long to stay (default 60)
  --max-events N          exit after N messages received plus calls ended

output: registered=1 ...; message_from= received_message= content_type=; incoming_call=FROM
        call_id=; answered_call=ID | rejected_call=ID; call_confirmed=ID; call_ended=ID ended_by=
)";

const char* kLoadHelp = R"(usage: webims wic load --users FILE [options]

Opens --concurrency WebSockets and registers over each, again and again (each registration is a
REGISTER, its 401 and the REGISTER with Digest credentials) until --duration runs out.

  --users FILE            one user a line: IMPU PASSWORD [IMPI]  (# comments); connection i
                          uses line i modulo the number of lines
  --concurrency N         WebSockets (default 10)
  --duration SECONDS      measuring time after all connections are up (default 10)
  --threads N             I/O threads (default 1)
  --idle                  register each connection once and hold it (refreshing) instead of
                          re-registering: for memory per registered WIC
  --no-deregister         leave the registrations in place at the end (by default each
                          connection sends REGISTER with Expires: 0 after the measurement)
  --url, --origin, --ca-file, --insecure, --timeout, --expires as for the other commands

output: connections= connect_failures= connect_ms_p50= connect_ms_max= duration_s= registrations=
        failures= registrations_per_s= latency_ms_p50= latency_ms_p90= latency_ms_p99= latency_ms_max=
        first_failure= (when any)
)";

// ---- errors and output -----------------------------------------------------------------------

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ProtocolFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          char b[8];
          std::snprintf(b, sizeof b, "\\x%02x", static_cast<unsigned char>(c));
          out += b;
        } else {
          out += c;
        }
    }
  }
  return out;
}

void out(std::string_view key, std::string_view value) {
  std::string line(key);
  line += '=';
  line += escape(value);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
}
void out(std::string_view key, int64_t value) { out(key, std::to_string(value)); }

std::string join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += sep;
    s += v[i];
  }
  return s;
}

std::string status_text(const wic::Event& e) {
  if (e.status == 0) return e.reason;
  return std::to_string(e.status) + (e.reason.empty() ? "" : " " + e.reason);
}

// ---- options ---------------------------------------------------------------------------------

std::string opt(std::vector<std::string>& args, const std::string& name, std::string def = {}) {
  try {
    return take_option(args, name).value_or(std::move(def));
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
}
std::optional<std::string> opt_maybe(std::vector<std::string>& args, const std::string& name) {
  try {
    return take_option(args, name);
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
}

std::chrono::milliseconds seconds_opt(std::vector<std::string>& args, const std::string& name,
                                      std::chrono::milliseconds def, bool allow_zero = false) {
  auto v = opt_maybe(args, name);
  if (!v) return def;
  std::chrono::milliseconds d;
  if (!base::parse_duration(v->c_str(), d) || d.count() < 0 || (!allow_zero && d.count() == 0))
    throw UsageError(name + " must be a duration in seconds (e.g. 10, 10s, 2m)");
  return d;
}

uint64_t number_opt(std::vector<std::string>& args, const std::string& name, uint64_t def, uint64_t min,
                    uint64_t max) {
  auto v = opt_maybe(args, name);
  if (!v) return def;
  uint64_t n = 0;
  size_t used = 0;
  try {
    n = std::stoull(*v, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != v->size() || n < min || n > max)
    throw UsageError(name + " must be a number from " + std::to_string(min) + " to " + std::to_string(max));
  return n;
}

std::string read_small_file(const std::string& path, const char* what) {
  std::ifstream f(path);
  if (!f) throw UsageError(std::string("cannot read ") + what + " " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string first_line(std::string s) {
  size_t nl = s.find_first_of("\r\n");
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

struct Common {
  std::string url = "wss://localhost:7443";
  std::string origin = "https://localhost:8443";
  std::string ca_file;
  bool insecure = false;
  std::chrono::milliseconds timeout{10000};
  bool verbose = false;
  bool deregister = false;
  std::string sqn_file;
  std::shared_ptr<asio::ssl::context> tls;

  std::chrono::seconds timeout_s() const {
    return std::chrono::seconds(std::max<int64_t>(1, (timeout.count() + 999) / 1000));
  }
};

Common parse_common(std::vector<std::string>& args) {
  Common c;
  c.url = opt(args, "--url", c.url);
  c.origin = opt(args, "--origin", c.origin);
  c.ca_file = opt(args, "--ca-file");
  c.insecure = take_flag(args, "--insecure");
  c.timeout = seconds_opt(args, "--timeout", c.timeout);
  c.verbose = take_flag(args, "--verbose") || take_flag(args, "-v");
  c.deregister = take_flag(args, "--deregister");
  if (c.url.rfind("wss://", 0) != 0 && c.url.rfind("ws://", 0) != 0)
    throw UsageError("--url must be a wss:// or ws:// URL");
  if (c.insecure && !c.ca_file.empty()) throw UsageError("give --ca-file or --insecure, not both");
  return c;
}

void make_tls(Common& c) {
  if (c.url.rfind("wss://", 0) != 0) return;
  try {
    c.tls = net::make_client_tls_context(c.ca_file, !c.insecure);
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
}

std::vector<uint8_t> hex_opt(const std::string& value, size_t bytes, const char* name) {
  auto b = base::hex_decode(value);
  if (!b || b->size() != bytes)
    throw UsageError(std::string(name) + " must be " + std::to_string(bytes * 2) + " hex digits");
  return *b;
}

crypto::IsimSqnState load_sqn_state(const std::string& path) {
  if (path.empty() || ::access(path.c_str(), F_OK) != 0) return {};
  auto s = wic::parse_sqn_state(read_small_file(path, "--aka-sqn-file"));
  if (!s) throw UsageError("--aka-sqn-file " + path + " is not an SQN state file (lines: IND SEQ)");
  return *s;
}

void save_sqn_state(const std::string& path, const crypto::IsimSqnState& s) {
  std::string tmp = path + ".tmp";
  std::string text = wic::format_sqn_state(s);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0)
    std::fprintf(stderr, "webims wic: warning: cannot write the SQN state to %s\n", path.c_str());
}

struct Identity {
  wic::UaConfig config;
  std::optional<crypto::SecretString> password;
  std::optional<std::array<std::vector<uint8_t>, 2>> aka;  // K, OPc
};

Identity parse_identity(std::vector<std::string>& args, Common& c) {
  Identity id;
  id.config.impu = opt(args, "--impu");
  if (id.config.impu.empty()) throw UsageError("--impu is required (e.g. --impu sip:alice@ims.example.org)");
  id.config.impi = opt(args, "--impi");
  id.config.initial_authorization = !id.config.impi.empty();
  id.config.expires = uint32_t(number_opt(args, "--expires", 600, 1, 0x7FFFFFFF));
  id.config.preload_service_route = take_flag(args, "--preload-route");
  id.config.transaction_timeout = c.timeout;
  id.config.user_agent = std::string("webims-wic/") + WEBIMS_VERSION;

  auto pw = opt_maybe(args, "--password");
  auto pw_file = opt_maybe(args, "--password-file");
  if (pw && pw_file) throw UsageError("give --password or --password-file, not both");
  if (pw_file) id.password = crypto::SecretString(first_line(read_small_file(*pw_file, "--password-file")));
  else if (pw && *pw == "-") {
    std::string s;
    std::getline(std::cin, s);
    id.password = crypto::SecretString(first_line(s));
  } else if (pw) {
    id.password = crypto::SecretString(*pw);
  }

  auto k = opt_maybe(args, "--aka-k");
  auto opc = opt_maybe(args, "--aka-opc");
  auto amf = opt_maybe(args, "--aka-amf");
  if (auto file = opt_maybe(args, "--aka-file")) {
    std::istringstream in(read_small_file(*file, "--aka-file"));
    std::string line;
    while (std::getline(in, line)) {
      line = first_line(line);
      if (line.empty() || line[0] == '#') continue;
      size_t eq = line.find('=');
      if (eq == std::string::npos) throw UsageError("--aka-file: lines are k=HEX, opc=HEX, amf=HEX");
      std::string key = line.substr(0, eq), value = line.substr(eq + 1);
      key.erase(std::remove_if(key.begin(), key.end(), [](unsigned char ch) { return std::isspace(ch); }), key.end());
      value.erase(std::remove_if(value.begin(), value.end(), [](unsigned char ch) { return std::isspace(ch); }), value.end());
      if (key == "k" && !k) k = value;
      else if (key == "opc" && !opc) opc = value;
      else if (key == "amf" && !amf) amf = value;
      else if (key != "k" && key != "opc" && key != "amf") throw UsageError("--aka-file: unknown key '" + key + "'");
    }
  }
  c.sqn_file = opt(args, "--aka-sqn-file");
  id.config.aka_version = crypto::AkaVersion(number_opt(args, "--aka-version", 2, 1, 2));
  if (k || opc) {
    if (!k || !opc) throw UsageError("AKA needs both --aka-k and --aka-opc");
    id.aka = {hex_opt(*k, 16, "--aka-k"), hex_opt(*opc, 16, "--aka-opc")};
    if (amf) hex_opt(*amf, 2, "--aka-amf");
  } else if (amf || !c.sqn_file.empty()) {
    throw UsageError("--aka-amf and --aka-sqn-file need --aka-k and --aka-opc");
  }
  if (!id.password && !id.aka)
    throw UsageError("credentials are needed: --password, --password-file, or --aka-k and --aka-opc");
  return id;
}

wic::Credentials make_credentials(const Identity& id, const Common& c) {
  wic::Credentials cr;
  cr.password = id.password;
  if (id.aka) {
    auto k = crypto::K::from((*id.aka)[0]);
    auto opc = crypto::Opc::from((*id.aka)[1]);
    auto m = crypto::Milenage::create(*k, *opc);
    if (!m) throw std::runtime_error("cannot set up Milenage: " + std::string(crypto::to_string(m.error())));
    cr.isim.emplace(std::move(m).value(), load_sqn_state(c.sqn_file));
  }
  return cr;
}

void no_more_args(const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("unexpected argument '" + args[0] + "'");
}

// ---- one user agent on one WebSocket ---------------------------------------------------------

class Session {
 public:
  Session(asio::io_context& io, const Common& c, wic::UaConfig cfg, wic::Credentials cr, base::Random& random)
      : io_(io), c_(c), ua_(std::move(cfg), std::move(cr), random), timer_(io), signals_(io, SIGINT, SIGTERM) {
    wait_signal();
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    timer_.cancel();
    signals_.cancel();
  }

  void connect() {
    ws_ = std::make_unique<net::WsClient>(
        io_, c_.url, c_.origin, c_.tls, [this](std::string text) { on_text(text); },
        [this](uint16_t code, std::string reason) {
          closed_ = true;
          close_code_ = code;
          close_reason_ = std::move(reason);
        },
        c_.timeout_s());
    if (c_.verbose) std::fprintf(stderr, "connected to %s from %s\n", c_.url.c_str(), ws_->local_endpoint().to_string().c_str());
  }

  wic::UserAgent& ua() { return ua_; }
  bool closed() const { return closed_; }
  bool stop_requested() const { return stop_; }
  // After SIGINT/SIGTERM ended a wait: the clean-up (CANCEL, BYE, deregistration) may still run;
  // a second signal interrupts it.
  void resume_after_stop() { stop_ = false; }
  std::string close_text() const {
    return "the server closed the WebSocket (code " + std::to_string(close_code_) +
           (close_reason_.empty() ? "" : ", " + close_reason_) + ")";
  }

  // Sends what the UA queued, persists the ISIM's SQN state, re-arms the timer.
  void flush() {
    for (auto& t : ua_.take_outgoing()) {
      if (c_.verbose) log("-->", t);
      if (ws_ && !closed_) ws_->send(std::move(t));
    }
    for (auto& e : ua_.take_events()) pending_.push_back(std::move(e));
    if (auto s = ua_.take_isim_state_if_changed(); s && !c_.sqn_file.empty()) save_sqn_state(c_.sqn_file, *s);
    arm();
  }

  // The next UA event; nullopt at `deadline`, on SIGINT/SIGTERM or when the connection closed.
  std::optional<wic::Event> next_event(Clock::time_point deadline) {
    while (pending_.empty()) {
      if (closed_ || stop_ || Clock::now() >= deadline) return std::nullopt;
      if (io_.stopped()) io_.restart();
      if (io_.run_one_until(deadline) == 0 && Clock::now() < deadline && io_.stopped()) return std::nullopt;
    }
    wic::Event e = std::move(pending_.front());
    pending_.pop_front();
    return e;
  }

  // Closes the WebSocket with 1000 and waits (briefly) for the closing handshake.
  void close() {
    if (!ws_) return;
    if (!closed_) {
      ws_->close(net::ws_close::Normal);
      auto until = Clock::now() + 1s;
      while (!closed_ && Clock::now() < until) {
        if (io_.stopped()) io_.restart();
        if (io_.run_one_until(until) == 0 && io_.stopped()) break;
      }
    }
    ws_.reset();
  }

 private:
  void log(const char* dir, const std::string& text) {
    std::string r = wic::redact_for_log(text);
    std::fprintf(stderr, "%s\n%s%s", dir, r.c_str(), r.empty() || r.back() == '\n' ? "" : "\n");
  }

  void on_text(const std::string& text) {
    if (c_.verbose) log("<--", text);
    ua_.on_message(text, base::Now::system());
    flush();
  }

  void wait_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      stop_ = true;
      wait_signal();
    });
  }

  void arm() {
    auto d = ua_.next_deadline();
    if (!d) {
      if (armed_) timer_.cancel();
      armed_ = false;
      return;
    }
    if (armed_ && *d == armed_at_) return;
    armed_ = true;
    armed_at_ = *d;
    timer_.expires_at(*d);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;  // re-armed or cancelled
      armed_ = false;
      ua_.on_timer(base::Now::system());
      flush();
    });
  }

  asio::io_context& io_;
  const Common& c_;
  wic::UserAgent ua_;
  asio::steady_timer timer_;
  asio::signal_set signals_;
  std::unique_ptr<net::WsClient> ws_;
  std::deque<wic::Event> pending_;
  bool armed_ = false;
  base::SteadyTime armed_at_{};
  bool closed_ = false;
  bool stop_ = false;
  uint16_t close_code_ = 0;
  std::string close_reason_;
};

// Events a command was not waiting for.
void background(Session& s, const wic::Event& e, bool verbose) {
  switch (e.kind) {
    case wic::EventKind::Notice:
      if (verbose) std::fprintf(stderr, "notice: %s\n", e.reason.c_str());
      return;
    case wic::EventKind::Refreshed:
      out("refreshed", 1);
      out("expires", e.registration.expires);
      return;
    case wic::EventKind::RegistrationFailed:
      throw ProtocolFailure("re-REGISTER failed: " + status_text(e));
    case wic::EventKind::IncomingMessage:
      out("message_from", e.peer);
      out("received_message", e.body);
      return;
    case wic::EventKind::IncomingCall:
      out("incoming_call", e.peer);
      out("rejected_call", e.call_id);
      s.ua().reject(e.call_id, 486, base::Now::system());
      s.flush();
      return;
    default:
      if (verbose) std::fprintf(stderr, "ignored event %s %s\n", std::string(wic::to_string(e.kind)).c_str(), e.call_id.c_str());
      return;
  }
}

// Waits for one of `kinds`; other events go to background(). Throws on close, timeout, signal.
wic::Event wait_for(Session& s, Clock::time_point deadline, std::initializer_list<wic::EventKind> kinds,
                    const std::string& what, bool verbose) {
  while (true) {
    auto e = s.next_event(deadline);
    if (!e) {
      if (s.closed()) throw ProtocolFailure(what + ": " + s.close_text());
      if (s.stop_requested()) throw ProtocolFailure(what + ": interrupted");
      throw ProtocolFailure(what + ": no answer in time");
    }
    if (std::find(kinds.begin(), kinds.end(), e->kind) != kinds.end()) return std::move(*e);
    background(s, *e, verbose);
  }
}

// A chain of transactions (401, AKA resynchronisation) each bounded by the UA's own timeout.
Clock::time_point chain_deadline(const Common& c) { return Clock::now() + 4 * c.timeout + 1s; }

void print_turn(const wic::TurnCredential& t) {
  out("turn_username", t.username);
  out("turn_password", t.password);
  out("turn_expires", t.expires);
  for (auto& u : t.uris) out("turn_uri", u);
}

void do_register(Session& s, const Common& c, bool want_turn) {
  s.ua().start_register(base::Now::system());
  s.flush();
  wic::Event e = wait_for(s, chain_deadline(c), {wic::EventKind::Registered, wic::EventKind::RegistrationFailed},
                          "REGISTER", c.verbose);
  if (e.kind == wic::EventKind::RegistrationFailed) throw ProtocolFailure("REGISTER failed: " + status_text(e));
  out("registered", 1);
  out("impi", s.ua().impi());
  out("contact", s.ua().contact_uri());
  out("expires", e.registration.expires);
  out("associated_uris", join(e.registration.associated_uris));
  out("service_route", join(e.registration.service_routes));
  if (!e.registration.pub_gruu.empty()) out("pub_gruu", e.registration.pub_gruu);
  if (!e.registration.temp_gruu.empty()) out("temp_gruu", e.registration.temp_gruu);
  if (want_turn) {
    if (e.turn) print_turn(*e.turn);
    else if (!e.turn_malformed.empty())
      throw ProtocolFailure("REGISTER: the 200 OK carried a malformed 3gpp-ext-turn-cred header");
    else throw ProtocolFailure("REGISTER: the 200 OK carried no 3gpp-ext-turn-cred header");
  }
}

void do_deregister(Session& s, const Common& c) {
  if (!s.ua().registered() || s.closed()) return;
  s.ua().start_unregister(base::Now::system());
  s.flush();
  wic::Event e = wait_for(s, chain_deadline(c), {wic::EventKind::Unregistered}, "REGISTER (Expires: 0)", c.verbose);
  if (e.status < 200 || e.status >= 300) throw ProtocolFailure("deregistration failed: " + status_text(e));
  out("deregistered", 1);
}

// Holds the session until `until` (or a signal), handling background events.
void hold(Session& s, Clock::time_point until, bool verbose) {
  while (!s.stop_requested() && Clock::now() < until) {
    auto e = s.next_event(until);
    if (!e) {
      if (s.closed()) throw ProtocolFailure(s.close_text());
      continue;
    }
    background(s, *e, verbose);
  }
}

struct Run {
  asio::io_context io;
  crypto::SystemRandom random;
  std::unique_ptr<Session> session;
};

std::unique_ptr<Run> start(Common& c, Identity& id) {
  make_tls(c);
  auto r = std::make_unique<Run>();
  r->session = std::make_unique<Session>(r->io, c, id.config, make_credentials(id, c), r->random);
  r->session->connect();
  return r;
}

void finish(Run& r, const Common& c) {
  r.session->resume_after_stop();
  if (c.deregister) do_deregister(*r.session, c);
  r.session->close();
}

// ---- subcommands -----------------------------------------------------------------------------

int wic_register(std::vector<std::string>& args) {
  Common c = parse_common(args);
  Identity id = parse_identity(args, c);
  bool want_turn = take_flag(args, "--turn-cred");
  auto hold_for = seconds_opt(args, "--hold", 0ms, true);
  no_more_args(args);
  id.config.request_turn_credential = want_turn;
  auto r = start(c, id);
  do_register(*r->session, c, want_turn);
  if (hold_for.count() > 0) hold(*r->session, Clock::now() + hold_for, c.verbose);
  finish(*r, c);
  return 0;
}

int turn_allocate(const std::string& uri_text, const std::string& username, const std::string& password,
                  const Common& c, const token::TurnOAuthGrant* grant = nullptr, bool coturn_mac_key = false) {
  auto uri = wic::parse_turn_uri(uri_text);
  if (!uri) throw UsageError("--allocate needs a TURN URI like turn:127.0.0.1:3478?transport=udp");
  if (uri->secure || uri->transport != "udp") throw UsageError("--allocate supports turn: URIs over UDP only");
  asio::io_context io;
  asio::ip::udp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(uri->host, std::to_string(uri->port), ec);
  if (ec || results.empty()) throw ProtocolFailure("cannot resolve TURN server '" + uri->host + "': " + ec.message());
  asio::ip::udp::endpoint server = results.begin()->endpoint();
  for (const auto& e : results)
    if (e.endpoint().address().is_v4()) {
      server = e.endpoint();
      break;
    }
  asio::ip::udp::socket sock(io);
  sock.open(server.protocol(), ec);
  if (!ec) sock.connect(server, ec);
  if (ec) throw ProtocolFailure("cannot reach TURN server " + uri_text + ": " + ec.message());

  crypto::SystemRandom random;
  wic::TurnClientConfig cfg;
  cfg.username = username;
  cfg.password = password;
  if (grant) {
    cfg.username = grant->kid;
    cfg.access_token = *base::base64_decode(grant->access_token);
    cfg.mac_key = grant->mac_key;
    cfg.coturn_mac_key = coturn_mac_key;
  }
  cfg.software = std::string("webims-wic/") + WEBIMS_VERSION;
  wic::TurnAllocateClient client(cfg, random);
  auto send = [&](const std::vector<uint8_t>& d) {
    if (d.empty()) return;
    boost::system::error_code sec;
    sock.send(asio::buffer(d), 0, sec);
  };
  bool unreachable = false;
  // Runs the client until done() or `until`.
  auto run = [&](Clock::time_point until) {
    std::vector<uint8_t> buf(2048);
    while (!client.done() && client.state() != wic::TurnAllocateClient::State::Allocated) {
      auto now = Clock::now();
      if (now >= until) return;
      auto next = std::min(client.next_deadline().value_or(until), until);
      int ms = int(std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(next - now).count()));
      pollfd p{sock.native_handle(), POLLIN, 0};
      int n = ::poll(&p, 1, ms);
      if (n > 0) {
        boost::system::error_code rec;
        size_t len = sock.receive(asio::buffer(buf), 0, rec);
        if (rec == asio::error::connection_refused) {
          unreachable = true;
          return;
        }
        if (!rec) send(client.on_datagram(base::Bytes(buf.data(), len), Clock::now()));
      } else {
        send(client.on_timer(Clock::now()));
      }
      if (client.state() == wic::TurnAllocateClient::State::Released) return;
    }
  };
  send(client.start(Clock::now()));
  run(Clock::now() + c.timeout);
  if (client.state() != wic::TurnAllocateClient::State::Allocated) {
    std::string code = client.error_code() ? std::to_string(client.error_code()) : unreachable ? "unreachable" : "timeout";
    out("turn_error", code);
    if (client.error_code())
      throw ProtocolFailure("TURN Allocate failed: " + code + " " + client.error_reason());
    throw ProtocolFailure(unreachable ? "TURN Allocate failed: nothing listens at " + uri_text
                                      : "TURN Allocate failed: no response from " + uri_text);
  }
  out("relayed", client.relayed().to_string());
  out("mapped", client.mapped().to_string());
  out("lifetime", client.lifetime());
  send(client.release(Clock::now()));
  run(Clock::now() + std::min<std::chrono::milliseconds>(c.timeout, 2s));
  return 0;
}

// --oauth-grant FILE, or --oauth-token/--oauth-kid/--oauth-mac-key; nullopt when none is given.
std::optional<token::TurnOAuthGrant> oauth_grant_option(std::vector<std::string>& args) {
  auto file = opt_maybe(args, "--oauth-grant");
  auto tok = opt_maybe(args, "--oauth-token");
  auto kid = opt_maybe(args, "--oauth-kid");
  auto mac = opt_maybe(args, "--oauth-mac-key");
  if (!file && !tok && !kid && !mac) return std::nullopt;
  if (file) {
    if (tok || kid || mac) throw UsageError("give either --oauth-grant or --oauth-token/--oauth-kid/--oauth-mac-key");
    std::string text;
    if (*file == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::ifstream f(*file);
      if (!f) throw UsageError("cannot read --oauth-grant file '" + *file + "'");
      text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    auto g = token::parse_oauth_grant_json(text);
    if (!g) throw UsageError("--oauth-grant: " + g.error());
    return *g;
  }
  if (!tok || !kid || !mac) throw UsageError("give all of --oauth-token, --oauth-kid and --oauth-mac-key");
  nlohmann::json j{{"access_token", *tok}, {"kid", *kid}, {"key", *mac}};
  auto g = token::parse_oauth_grant_json(j.dump());
  if (!g) throw UsageError(g.error());
  return *g;
}

int wic_oauth_token(std::vector<std::string>& args) {
  auto kid = opt_maybe(args, "--kid");
  auto key = opt_maybe(args, "--key");
  auto server = opt_maybe(args, "--server-name");
  std::string alg_name = opt_maybe(args, "--alg").value_or("A256GCM");
  std::string lifetime = opt_maybe(args, "--lifetime").value_or("600");
  std::string mac_size = opt_maybe(args, "--mac-key-size").value_or("20");
  no_more_args(args);
  if (!kid || !key || !server) throw UsageError("give --kid, --key and --server-name");
  auto alg = token::parse_oauth_alg(alg_name);
  if (!alg) throw UsageError("--alg must be A256GCM or A128GCM");
  auto bytes = base::base64_decode(*key);
  if (!bytes || bytes->size() != token::key_size(*alg))
    throw UsageError("--key must be base64 of " + std::to_string(token::key_size(*alg)) + " bytes for " + alg_name);
  long life = std::strtol(lifetime.c_str(), nullptr, 10);
  if (life < 1 || life > 86400) throw UsageError("--lifetime must be 1..86400 seconds");
  if (mac_size != "20" && mac_size != "32") throw UsageError("--mac-key-size must be 20 or 32");
  crypto::SystemRandom random;
  auto g = token::mint_oauth_grant({*kid, std::move(*bytes), *alg}, *server, base::Now::system().unix_s,
                                   uint32_t(life), random, mac_size == "20" ? 20 : 32);
  std::printf("%s\n", g.to_json().c_str());
  return 0;
}

int wic_turn_cred(std::vector<std::string>& args) {
  Common c = parse_common(args);
  auto allocate = opt_maybe(args, "--allocate");
  auto tu = opt_maybe(args, "--turn-username");
  auto tp = opt_maybe(args, "--turn-password");
  bool coturn_mac_key = take_flag(args, "--oauth-coturn");
  if (auto grant = oauth_grant_option(args)) {
    if (!allocate || *allocate == "auto") throw UsageError("--oauth-grant/--oauth-token need --allocate TURN-URI");
    if (tu || tp) throw UsageError("give either an OAuth token or --turn-username/--turn-password, not both");
    no_more_args(args);
    return turn_allocate(*allocate, {}, {}, c, &*grant, coturn_mac_key);
  }
  if (tu || tp) {
    if (!tu || !tp) throw UsageError("give both --turn-username and --turn-password");
    if (!allocate || *allocate == "auto") throw UsageError("--turn-username/--turn-password need --allocate TURN-URI");
    no_more_args(args);
    return turn_allocate(*allocate, *tu, *tp, c);
  }
  Identity id = parse_identity(args, c);
  id.config.options_uri = opt(args, "--options-uri");
  no_more_args(args);
  auto r = start(c, id);
  Session& s = *r->session;
  do_register(s, c, false);
  std::string call_id = s.ua().send_options(true, base::Now::system());
  s.flush();
  wic::Event e = wait_for(s, chain_deadline(c), {wic::EventKind::RequestDone}, "OPTIONS", c.verbose);
  if (e.status < 200 || e.status >= 300) throw ProtocolFailure("OPTIONS failed: " + status_text(e));
  if (!e.turn) {
    throw ProtocolFailure(e.turn_malformed.empty() ? "OPTIONS: the 200 OK carried no 3gpp-ext-turn-cred header"
                                                   : "OPTIONS: the 200 OK carried a malformed 3gpp-ext-turn-cred header");
  }
  print_turn(*e.turn);
  int rc = 0;
  if (allocate) {
    std::string target = *allocate;
    if (target == "auto") {
      target.clear();
      for (auto& u : e.turn->uris)
        if (auto p = wic::parse_turn_uri(u); p && !p->secure && p->transport == "udp") {
          target = u;
          break;
        }
      if (target.empty()) throw ProtocolFailure("--allocate auto: the eP-CSCF listed no turn: URI over UDP");
    }
    rc = turn_allocate(target, e.turn->username, e.turn->password, c);
  }
  finish(*r, c);
  return rc;
}

int wic_message(std::vector<std::string>& args) {
  Common c = parse_common(args);
  Identity id = parse_identity(args, c);
  std::string to = opt(args, "--to");
  auto text = opt_maybe(args, "--text");
  std::string type = opt(args, "--content-type", "text/plain");
  no_more_args(args);
  if (to.empty() || !text) throw UsageError("message needs --to URI and --text TEXT");
  if (!sip::parse_uri(to)) throw UsageError("--to is not a SIP URI: " + to);
  auto r = start(c, id);
  Session& s = *r->session;
  do_register(s, c, false);
  s.ua().send_message(to, type, *text, base::Now::system());
  s.flush();
  wic::Event e = wait_for(s, chain_deadline(c), {wic::EventKind::RequestDone}, "MESSAGE", c.verbose);
  out("status", e.status);
  out("reason", e.reason);
  out("call_id", e.call_id);
  if (e.status < 200 || e.status >= 300) throw ProtocolFailure("MESSAGE failed: " + status_text(e));
  finish(*r, c);
  return 0;
}

int wic_call(std::vector<std::string>& args) {
  Common c = parse_common(args);
  Identity id = parse_identity(args, c);
  std::string to = opt(args, "--to");
  auto wait_answer = seconds_opt(args, "--wait-answer", 30s);
  auto hold_for = seconds_opt(args, "--hold", 0ms, true);
  no_more_args(args);
  if (to.empty()) throw UsageError("call needs --to URI");
  if (!sip::parse_uri(to)) throw UsageError("--to is not a SIP URI: " + to);
  auto r = start(c, id);
  Session& s = *r->session;
  do_register(s, c, false);
  std::string call_id = s.ua().invite(to, wic::make_sdp(r->random, true), base::Now::system());
  s.flush();
  out("call_id", call_id);
  auto answer_deadline = Clock::now() + wait_answer;
  std::optional<wic::Event> final;
  while (!final) {
    auto e = s.next_event(answer_deadline);
    if (!e) {
      if (s.closed()) throw ProtocolFailure("INVITE: " + s.close_text());
      break;  // no answer in time (or a signal): CANCEL
    }
    if (e->call_id == call_id && e->kind == wic::EventKind::CallProgress) {
      out("progress", e->status);
    } else if (e->call_id == call_id &&
               (e->kind == wic::EventKind::CallAnswered || e->kind == wic::EventKind::CallFailed)) {
      final = std::move(e);
    } else {
      background(s, *e, c.verbose);
    }
  }
  if (!final) {
    s.resume_after_stop();
    if (!s.ua().cancel(call_id, base::Now::system()))
      throw ProtocolFailure("INVITE: no answer within " + std::to_string(wait_answer.count() / 1000) + " s");
    s.flush();
    wic::Event e = wait_for(s, chain_deadline(c), {wic::EventKind::CallAnswered, wic::EventKind::CallFailed},
                            "CANCEL", c.verbose);
    out("status", e.status);
    out("reason", e.reason);
    if (e.kind == wic::EventKind::CallAnswered) {
      // The answer crossed our CANCEL: hang up (RFC 3261 §9.1).
      s.ua().bye(call_id, base::Now::system());
      s.flush();
      wait_for(s, chain_deadline(c), {wic::EventKind::CallEnded}, "BYE", c.verbose);
    }
    out("cancelled", 1);
    throw ProtocolFailure("INVITE: no answer within " + std::to_string(wait_answer.count() / 1000) +
                          " s; cancelled (" + status_text(e) + ")");
  }
  out("status", final->status);
  out("reason", final->reason);
  if (final->kind == wic::EventKind::CallFailed) throw ProtocolFailure("INVITE failed: " + status_text(*final));
  out("answered", 1);
  out("remote_sdp_bytes", int64_t(final->body.size()));
  // Hold the call; the peer may hang up first.
  auto until = Clock::now() + hold_for;
  bool remote_hangup = false;
  while (!remote_hangup && !s.stop_requested() && Clock::now() < until) {
    auto e = s.next_event(until);
    if (!e) {
      if (s.closed()) throw ProtocolFailure("call: " + s.close_text());
      continue;
    }
    if (e->kind == wic::EventKind::CallEnded && e->call_id == call_id) remote_hangup = true;
    else background(s, *e, c.verbose);
  }
  if (remote_hangup) {
    out("remote_hangup", 1);
  } else {
    s.resume_after_stop();
    s.ua().bye(call_id, base::Now::system());
    s.flush();
    wic::Event e = wait_for(s, chain_deadline(c), {wic::EventKind::CallEnded}, "BYE", c.verbose);
    out("bye_status", e.status);
    out("ended", 1);
    if (e.status < 200 || e.status >= 300) {
      if (!e.remote) throw ProtocolFailure("BYE failed: " + status_text(e));
    }
  }
  finish(*r, c);
  return 0;
}

int wic_answer(std::vector<std::string>& args) {
  Common c = parse_common(args);
  Identity id = parse_identity(args, c);
  bool auto_answer = take_flag(args, "--auto");
  int reject = int(number_opt(args, "--reject", 0, 300, 699));
  auto duration = seconds_opt(args, "--duration", 60s);
  uint64_t max_events = number_opt(args, "--max-events", 0, 0, 1u << 30);
  no_more_args(args);
  if (auto_answer && reject) throw UsageError("give --auto or --reject, not both");
  auto r = start(c, id);
  Session& s = *r->session;
  do_register(s, c, false);
  std::fflush(stdout);
  auto until = Clock::now() + duration;
  uint64_t handled = 0;
  std::vector<std::string> active;
  while (!s.stop_requested() && Clock::now() < until && (max_events == 0 || handled < max_events)) {
    auto e = s.next_event(until);
    if (!e) {
      if (s.closed()) throw ProtocolFailure(s.close_text());
      continue;
    }
    auto now = base::Now::system();
    switch (e->kind) {
      case wic::EventKind::IncomingMessage:
        out("message_from", e->peer);
        out("content_type", e->content_type);
        out("received_message", e->body);
        ++handled;
        break;
      case wic::EventKind::IncomingCall:
        out("incoming_call", e->peer);
        out("call_id", e->call_id);
        if (auto_answer) {
          s.ua().answer(e->call_id, wic::make_sdp(r->random, false), now);
          out("answered_call", e->call_id);
          active.push_back(e->call_id);
        } else if (reject) {
          s.ua().reject(e->call_id, reject, now);
          out("rejected_call", e->call_id);
          ++handled;
        }
        s.flush();
        break;
      case wic::EventKind::CallConfirmed:
        out("call_confirmed", e->call_id);
        break;
      case wic::EventKind::CallEnded:
        out("call_ended", e->call_id);
        out("ended_by", e->remote ? (e->status == 487 ? "cancel" : "remote") : "local");
        std::erase(active, e->call_id);
        ++handled;
        break;
      default:
        background(s, *e, c.verbose);
    }
    std::fflush(stdout);
  }
  // Calls still up: hang up.
  s.resume_after_stop();
  for (auto& id_ : active) {
    if (!s.ua().bye(id_, base::Now::system())) continue;
    s.flush();
    try {
      auto e = wait_for(s, chain_deadline(c), {wic::EventKind::CallEnded}, "BYE", c.verbose);
      out("call_ended", e.call_id);
      out("ended_by", "local");
    } catch (const ProtocolFailure&) {
    }
  }
  finish(*r, c);
  return 0;
}

// ---- load ------------------------------------------------------------------------------------

struct LoadUser {
  std::string impu, password, impi;
};

struct LoadStats {
  std::mutex mu;
  std::vector<double> latency_ms;
  std::vector<double> connect_ms;
  uint64_t failures = 0;
  uint64_t connect_failures = 0;
  std::string first_failure;
};

// One WebSocket and one UA, driven by callbacks on its worker's io_context.
class LoadConn {
 public:
  LoadConn(asio::io_context& io, const Common& c, const LoadUser& u, base::Random& random, bool idle,
           LoadStats& stats, const std::atomic<bool>& stopping)
      : io_(io), c_(c), ua_(config(c, u), credentials(u), random), timer_(io), idle_(idle), stats_(stats),
        stopping_(stopping) {}

  bool connect() {
    auto t0 = Clock::now();
    try {
      ws_ = std::make_unique<net::WsClient>(
          io_, c_.url, c_.origin, c_.tls, [this](std::string text) { on_text(text); },
          [this](uint16_t, std::string) { closed_ = true; }, c_.timeout_s());
    } catch (const std::exception& e) {
      std::lock_guard lock(stats_.mu);
      ++stats_.connect_failures;
      if (stats_.first_failure.empty()) stats_.first_failure = e.what();
      return false;
    }
    std::lock_guard lock(stats_.mu);
    stats_.connect_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    return true;
  }

  void begin() {
    started_ = Clock::now();
    in_flight_ = true;
    ua_.start_register(base::Now::system());
    flush();
  }

  // REGISTER with Expires: 0 once no registration is in flight (a pending one could otherwise
  // complete after it and leave the binding behind).
  void unregister() {
    want_unregister_ = true;
    if (!in_flight_ && ua_.registered() && !closed_) send_unregister();
    else if (!in_flight_) unregistered_ = true;
  }
  bool unregister_done() const { return unregistered_ || closed_; }

  void end() {
    timer_.cancel();
    if (ws_) ws_->close(net::ws_close::Normal);
  }

  std::vector<double> latencies;
  uint64_t failures = 0;

 private:
  static wic::UaConfig config(const Common& c, const LoadUser& u) {
    wic::UaConfig cfg;
    cfg.impu = u.impu;
    cfg.impi = u.impi;
    cfg.transaction_timeout = c.timeout;
    cfg.user_agent = std::string("webims-wic-load/") + WEBIMS_VERSION;
    return cfg;
  }
  static wic::Credentials credentials(const LoadUser& u) {
    wic::Credentials cr;
    cr.password = crypto::SecretString(u.password);
    return cr;
  }

  void on_text(const std::string& text) {
    ua_.on_message(text, base::Now::system());
    flush();
  }

  void send_unregister() {
    ua_.start_unregister(base::Now::system());
    flush();
  }

  void flush() {
    for (auto& t : ua_.take_outgoing())
      if (ws_ && !closed_) ws_->send(std::move(t));
    for (auto& e : ua_.take_events()) {
      if (e.kind == wic::EventKind::Unregistered) {
        unregistered_ = true;
        continue;
      }
      if (e.kind == wic::EventKind::Registered || e.kind == wic::EventKind::RegistrationFailed) in_flight_ = false;
      if (want_unregister_ && !in_flight_) {
        if (e.kind == wic::EventKind::Registered) send_unregister();
        else unregistered_ = true;
        return;
      }
      if (e.kind == wic::EventKind::Registered || e.kind == wic::EventKind::Refreshed) {
        if (!counted_) latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - started_).count());
        counted_ = idle_;  // --idle: only the first registration is measured
        if (!idle_ && !stopping_) {
          in_flight_ = true;
          started_ = Clock::now();
          ua_.start_register(base::Now::system());
          for (auto& t : ua_.take_outgoing())
            if (ws_ && !closed_) ws_->send(std::move(t));
        }
      } else if (e.kind == wic::EventKind::RegistrationFailed) {
        ++failures;
        {
          std::lock_guard lock(stats_.mu);
          if (stats_.first_failure.empty()) stats_.first_failure = "REGISTER failed: " + status_text(e);
        }
        if (!stopping_ && !closed_) {  // try again after a pause
          timer_.expires_after(100ms);
          timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec || stopping_) return;
            begin();
          });
          return;
        }
      }
    }
    if (auto d = ua_.next_deadline()) {
      timer_.expires_at(*d);
      timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        ua_.on_timer(base::Now::system());
        flush();
      });
    }
  }

  asio::io_context& io_;
  const Common& c_;
  wic::UserAgent ua_;
  asio::steady_timer timer_;
  bool idle_;
  LoadStats& stats_;
  const std::atomic<bool>& stopping_;
  std::unique_ptr<net::WsClient> ws_;
  Clock::time_point started_{};
  bool counted_ = false;
  bool closed_ = false;
  bool in_flight_ = false;
  bool want_unregister_ = false;
  bool unregistered_ = false;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = size_t(std::ceil(p / 100.0 * double(v.size()))) - (p > 0 ? 1 : 0);
  return v[std::min(i, v.size() - 1)];
}

std::string ms_text(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

int wic_load(std::vector<std::string>& args) {
  Common c = parse_common(args);
  std::string users_file = opt(args, "--users");
  size_t concurrency = number_opt(args, "--concurrency", 10, 1, 200000);
  auto duration = seconds_opt(args, "--duration", 10s);
  size_t threads = number_opt(args, "--threads", 1, 1, 64);
  bool idle = take_flag(args, "--idle");
  bool deregister = !take_flag(args, "--no-deregister");
  no_more_args(args);
  if (users_file.empty()) throw UsageError("load needs --users FILE (lines: IMPU PASSWORD [IMPI])");
  std::vector<LoadUser> users;
  {
    std::istringstream in(read_small_file(users_file, "--users"));
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      LoadUser u;
      if (!(ls >> u.impu) || u.impu[0] == '#') continue;
      if (!(ls >> u.password)) throw UsageError("--users: a line without a password: " + u.impu);
      ls >> u.impi;
      users.push_back(std::move(u));
    }
  }
  if (users.empty()) throw UsageError("--users " + users_file + " lists no user");
  for (auto& u : users) {
    auto uri = sip::parse_uri(u.impu);
    if (!uri || !uri->is_sip() || !uri->has_user) throw UsageError("--users: not a SIP IMPU: " + u.impu);
  }
  threads = std::min(threads, concurrency);
  make_tls(c);
  ::signal(SIGPIPE, SIG_IGN);

  LoadStats stats;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  std::vector<uint64_t> counts(threads, 0);
  Clock::time_point measure_start{}, measure_end{};
  std::mutex time_mu;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      asio::io_context io;
      crypto::SystemRandom random;
      std::vector<std::unique_ptr<LoadConn>> conns;
      for (size_t i = t; i < concurrency; i += threads) {
        auto conn = std::make_unique<LoadConn>(io, c, users[i % users.size()], random, idle, stats, stopping);
        if (conn->connect()) conns.push_back(std::move(conn));
        // Drain what arrived so far (nothing is expected before the REGISTER).
        io.poll();
      }
      ++ready;
      while (!go) std::this_thread::sleep_for(1ms);
      for (auto& conn : conns) conn->begin();
      Clock::time_point until;
      {
        std::lock_guard lock(time_mu);
        until = measure_end;
      }
      while (Clock::now() < until) {
        if (io.stopped()) io.restart();
        if (io.run_one_until(until) == 0 && io.stopped()) std::this_thread::sleep_for(1ms);
      }
      stopping = true;
      std::vector<double> lat;
      uint64_t fails = 0;
      for (auto& conn : conns) {
        lat.insert(lat.end(), conn->latencies.begin(), conn->latencies.end());
        fails += conn->failures;
      }
      if (deregister) {
        for (auto& conn : conns) conn->unregister();
        auto dereg_until = Clock::now() + 2 * c.timeout;
        auto all_done = [&] {
          return std::all_of(conns.begin(), conns.end(), [](auto& x) { return x->unregister_done(); });
        };
        while (!all_done() && Clock::now() < dereg_until) {
          if (io.stopped()) io.restart();
          if (io.run_one_until(dereg_until) == 0 && io.stopped()) break;
        }
      }
      for (auto& conn : conns) conn->end();
      io.run_for(500ms);  // closing handshakes
      std::lock_guard lock(stats.mu);
      stats.latency_ms.insert(stats.latency_ms.end(), lat.begin(), lat.end());
      stats.failures += fails;
      conns.clear();
    });
  }
  while (ready < threads) std::this_thread::sleep_for(1ms);
  {
    std::lock_guard lock(time_mu);
    measure_start = Clock::now();
    measure_end = measure_start + duration;
  }
  go = true;
  for (auto& w : workers) w.join();
  double secs = std::chrono::duration<double>(duration).count();
  size_t connections = stats.connect_ms.size();
  out("connections", int64_t(connections));
  out("connect_failures", int64_t(stats.connect_failures));
  out("connect_ms_p50", ms_text(percentile(stats.connect_ms, 50)));
  out("connect_ms_max", ms_text(percentile(stats.connect_ms, 100)));
  out("duration_s", ms_text(secs));
  out("registrations", int64_t(stats.latency_ms.size()));
  out("failures", int64_t(stats.failures));
  out("registrations_per_s", ms_text(double(stats.latency_ms.size()) / secs));
  out("latency_ms_p50", ms_text(percentile(stats.latency_ms, 50)));
  out("latency_ms_p90", ms_text(percentile(stats.latency_ms, 90)));
  out("latency_ms_p99", ms_text(percentile(stats.latency_ms, 99)));
  out("latency_ms_max", ms_text(percentile(stats.latency_ms, 100)));
  if (!stats.first_failure.empty()) out("first_failure", stats.first_failure);
  if (connections == 0) throw ProtocolFailure("no WebSocket connection could be opened: " + stats.first_failure);
  if (stats.latency_ms.empty()) throw ProtocolFailure("no registration succeeded" +
                                                      (stats.first_failure.empty() ? "" : ": " + stats.first_failure));
  if (stats.failures || stats.connect_failures)
    throw ProtocolFailure(std::to_string(stats.failures + stats.connect_failures) + " failures; first: " +
                          stats.first_failure);
  return 0;
}

}  // namespace

int cmd_wic(std::vector<std::string> args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string sub = args[0];
  args.erase(args.begin());
  struct Sub {
    const char* name;
    const char* help;
    int (*run)(std::vector<std::string>&);
    bool common;
  };
  static const Sub kSubs[] = {
      {"register", kRegisterHelp, wic_register, true}, {"turn-cred", kTurnCredHelp, wic_turn_cred, true},
      {"message", kMessageHelp, wic_message, true},    {"call", kCallHelp, wic_call, true},
      {"answer", kAnswerHelp, wic_answer, true},       {"load", kLoadHelp, wic_load, false},
      {"oauth-token", kOAuthTokenHelp, wic_oauth_token, false},
  };
  const Sub* s = nullptr;
  for (const auto& x : kSubs)
    if (sub == x.name) s = &x;
  if (!s) {
    std::fprintf(stderr, "webims wic: unknown command '%s'\n\n%s", sub.c_str(), kHelp);
    return 2;
  }
  if (take_flag(args, "--help") || take_flag(args, "-h")) {
    std::fputs(s->help, stdout);
    if (s->common) std::fputs(kCommonHelp, stdout);
    return 0;
  }
  // Scripts read lines as they come (answer runs for a while); a dead peer is an error, not a signal.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  ::signal(SIGPIPE, SIG_IGN);
  try {
    return s->run(args);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "webims wic %s: %s (see webims wic %s --help)\n", s->name, e.what(), s->name);
    return 2;
  } catch (const ProtocolFailure& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "webims wic %s: %s\n", s->name, e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "webims wic %s: %s\n", s->name, e.what());
    return 1;
  }
}

}  // namespace cli
