#include "turn/config.hpp"

#include "common/host_address.hpp"

#include "base/encoding.hpp"


#include <charconv>

namespace turn {

using base::config::Binder;
using base::config::Error;

void TurnConfig::describe(Binder& b) {
  b.section("turn", "TURN server (RFC 8656): relay for WICs behind NATs and firewalls (TS 33.203 X.5, TR 33.871 6.3.1).");
  b.field("listen", listen,
          "Listeners: udp://ADDR:PORT, tcp://ADDR:PORT, tls://ADDR:PORT; IPv6 as [::]. Add \"tls://0.0.0.0:443\"\n"
          "for clients behind firewalls that pass only TLS on 443 (TR 33.871 6.3.1).");
  b.field("realm", realm, "REALM of the long-term credential mechanism (RFC 8489 §9.2).");
  b.field("relay_address", relay_address,
          "IPv4 address advertised in XOR-RELAYED-ADDRESS. Empty: the first non-loopback IPv4 address, else 127.0.0.1.");
  b.field("relay_address_v6", relay_address_v6, "IPv6 relay address (REQUESTED-ADDRESS-FAMILY IPv6, dual allocations). Empty: none.");
  b.field("relay_bind", relay_bind, "Local IPv4 address relay sockets bind to. Empty: relay_address. Set it behind a 1:1 NAT.");
  b.field("relay_bind_v6", relay_bind_v6, "Local IPv6 address relay sockets bind to. Empty: relay_address_v6.");
  b.field("relay_ports", relay_ports, "Port range for relayed transport addresses, \"MIN-MAX\".");
  b.field("allowed_peer_ranges", allowed_peer_ranges,
          "CIDR ranges peers may be in even though they are denied by default (loopback, link-local, private,\n"
          "multicast, unspecified, this server's own addresses), e.g. [\"127.0.0.0/8\"] in tests. Default: none.\n"
          "Not needed between clients of this server: a relayed address it holds for a live allocation is a peer.");
  b.field("denied_peer_ranges", denied_peer_ranges,
          "Extra CIDR ranges peers may never be in (403), even this server's own relayed addresses.");
  b.field("threads", threads, "Worker threads, each with its own sockets (SO_REUSEPORT). 0 = one per core.");
  b.field("user_quota", user_quota, "Allocations per USERNAME (486 beyond). 0 = unlimited.");
  b.field("total_quota", total_quota, "Allocations per server (486 beyond). 0 = unlimited.");
  b.field("max_permissions", max_permissions, "Permissions per allocation (508 beyond).");
  b.field("control_listen", control_listen,
          "HTTP(S) listener for /metrics, /health and the control API. Empty: none. With control_token set,\n"
          "plain http:// is allowed on loopback addresses only; use https:// ([tls] certificate) between hosts.");
  b.secret("control_token", control_token,
           "Bearer token of the Approach 2 control API (POST /v1/credentials, /v1/revocations), shared with\n"
           "the eP-CSCF. Empty: the control API is off (404).");
  b.field("software", software, "SOFTWARE attribute in responses. Empty: omitted.");
  b.field("nonce_lifetime", nonce_lifetime, "How long a NONCE stays valid (438 Stale Nonce after).");
  b.field("default_lifetime", default_lifetime, "Allocation lifetime when the client asks for less or none (RFC 8656: 10m).");
  b.field("max_lifetime", max_lifetime, "Longest allocation lifetime granted per Allocate/Refresh.");
  b.field("unauth_rate", unauth_rate,
          "Requests per second per source address answered without valid credentials (401/438/400);\n"
          "beyond it they are dropped. 0 = unlimited.");
  b.field("unauth_burst", unauth_burst, "Burst allowance for unauth_rate.");
  b.field("max_tcp_connections", max_tcp_connections, "TCP/TLS client connections per worker thread.");
  b.field("tcp_idle_timeout", tcp_idle_timeout, "Close TCP/TLS connections without an allocation after this idle time.");
  b.field("udp_buffer_bytes", udp_buffer_bytes, "SO_RCVBUF/SO_SNDBUF of listener sockets.");
  b.table_array<SecretConfig>(
      "secrets", secrets,
      "Solution 1 keys Km shared with the eP-CSCF (TS 33.203 X.5.2). USERNAME \"Tid:Texp\" (or coturn's\n"
      "\"Texp:Tid\"), password = base64(HMAC(Km, USERNAME)). Several keys may be valid at once for rotation;\n"
      "reloaded on SIGHUP.",
      [](Binder& s, SecretConfig& k) {
        s.field("id", k.id, "Key identifier (logged; the key never is).");
        s.secret("secret", k.secret, "The key Km.");
        s.field("hmac", k.hmac, "\"sha1\" (coturn, Kamailio auth_ephemeral compatible) or \"sha256\".");
      });
  b.field("oauth_server_name", oauth_server_name,
          "Server name of RFC 7635 third-party authorization: sent in THIRD-PARTY-AUTHORIZATION and bound\n"
          "into every token (AEAD associated data). Empty: the realm (as coturn).");
  b.table_array<OAuthKeyConfig>(
      "oauth_keys", oauth_keys,
      "Solution 2 AS-RS keys shared with the WAF (RFC 7635): a request with ACCESS-TOKEN and USERNAME = kid\n"
      "is authenticated by the token's mac_key. Several keys may be valid at once for rotation. When any is\n"
      "set, 401 answers carry THIRD-PARTY-AUTHORIZATION.",
      [](Binder& s, OAuthKeyConfig& k) {
        s.field("kid", k.kid, "Key identifier: the USERNAME clients send (logged; the key never is).");
        s.secret("key", k.key, "The key, base64: 16 bytes for A128GCM, 32 for A256GCM.");
        s.field("alg", k.alg, "\"A256GCM\" or \"A128GCM\" (AES-GCM, RFC 7635 / coturn).");
      });
}

bool parse_listener(const std::string& url, Listener& out) {
  auto sep = url.find("://");
  if (sep == std::string::npos) return false;
  std::string scheme = url.substr(0, sep);
  if (scheme == "udp") out.transport = Listener::Transport::Udp;
  else if (scheme == "tcp") out.transport = Listener::Transport::Tcp;
  else if (scheme == "tls") out.transport = Listener::Transport::Tls;
  else return false;
  auto ep = base::Endpoint::parse(url.substr(sep + 3));
  if (!ep) return false;
  out.endpoint = *ep;
  out.url = url;
  return true;
}

std::string default_relay_address() { return servers::primary_address(); }

namespace {

bool parse_range(const std::string& s, uint16_t& lo, uint16_t& hi) {
  auto dash = s.find('-');
  if (dash == std::string::npos) return false;
  unsigned a = 0, b = 0;
  auto r1 = std::from_chars(s.data(), s.data() + dash, a);
  auto r2 = std::from_chars(s.data() + dash + 1, s.data() + s.size(), b);
  if (r1.ec != std::errc() || r1.ptr != s.data() + dash || r2.ec != std::errc() || r2.ptr != s.data() + s.size())
    return false;
  if (a < 1024 || b > 65535 || a > b) return false;
  lo = uint16_t(a);
  hi = uint16_t(b);
  return true;
}

}  // namespace

void TurnConfig::validate() const {
  std::vector<std::string> errs;
  if (listen.empty()) errs.push_back("[turn] listen is empty: the server would not accept anything");
  for (auto& l : listen) {
    Listener x;
    if (!parse_listener(l, x)) errs.push_back("[turn] listen: \"" + l + "\" is not udp://, tcp:// or tls://ADDR:PORT");
  }
  if (realm.empty()) errs.push_back("[turn] realm must not be empty");
  auto check_addr = [&](const std::string& key, const std::string& v, base::Family fam) {
    if (v.empty()) return;
    auto a = base::IpAddress::parse(v);
    if (!a || a->family() != fam)
      errs.push_back("[turn] " + key + " = \"" + v + "\" is not an IPv" + (fam == base::Family::V4 ? "4" : "6") + " address");
  };
  check_addr("relay_address", relay_address, base::Family::V4);
  check_addr("relay_bind", relay_bind, base::Family::V4);
  check_addr("relay_address_v6", relay_address_v6, base::Family::V6);
  check_addr("relay_bind_v6", relay_bind_v6, base::Family::V6);
  uint16_t lo, hi;
  if (!parse_range(relay_ports, lo, hi))
    errs.push_back("[turn] relay_ports = \"" + relay_ports + "\" must be \"MIN-MAX\" within 1024-65535");
  for (auto* list : {&allowed_peer_ranges, &denied_peer_ranges})
    for (auto& r : *list)
      if (!base::Cidr::parse(r)) errs.push_back("[turn] \"" + r + "\" is not a CIDR range like \"10.0.0.0/8\"");
  if (threads < 0 || threads > 256) errs.push_back("[turn] threads must be 0..256");
  if (user_quota < 0 || total_quota < 0) errs.push_back("[turn] quotas must be >= 0");
  if (max_permissions < 1) errs.push_back("[turn] max_permissions must be >= 1");
  if (nonce_lifetime < std::chrono::seconds(10)) errs.push_back("[turn] nonce_lifetime must be at least 10s");
  if (default_lifetime < std::chrono::seconds(60)) errs.push_back("[turn] default_lifetime must be at least 60s");
  if (max_lifetime < default_lifetime) errs.push_back("[turn] max_lifetime must be >= default_lifetime");
  if (unauth_rate < 0 || unauth_burst < 0) errs.push_back("[turn] unauth_rate and unauth_burst must be >= 0");
  if (max_tcp_connections < 1) errs.push_back("[turn] max_tcp_connections must be >= 1");
  std::vector<std::string> ids;
  for (size_t i = 0; i < secrets.size(); ++i) {
    auto& k = secrets[i];
    std::string where = "[[turn.secrets]] #" + std::to_string(i + 1);
    if (k.id.empty()) errs.push_back(where + ": id is empty");
    if (k.secret.empty()) errs.push_back(where + " (" + k.id + "): secret is empty");
    if (k.hmac != "sha1" && k.hmac != "sha256") errs.push_back(where + ": hmac must be \"sha1\" or \"sha256\"");
    for (auto& id : ids)
      if (id == k.id) errs.push_back(where + ": duplicate id \"" + k.id + "\"");
    ids.push_back(k.id);
  }
  std::vector<std::string> kids;
  for (size_t i = 0; i < oauth_keys.size(); ++i) {
    auto& k = oauth_keys[i];
    std::string where = "[[turn.oauth_keys]] #" + std::to_string(i + 1) + " (" + k.kid + ")";
    if (k.kid.empty()) errs.push_back(where + ": kid is empty");
    auto alg = token::parse_oauth_alg(k.alg);
    if (!alg) errs.push_back(where + ": alg must be \"A256GCM\" or \"A128GCM\"");
    auto bytes = base::base64_decode(k.key);
    if (!bytes) errs.push_back(where + ": key is not base64");
    else if (alg && bytes->size() != token::key_size(*alg))
      errs.push_back(where + ": key is " + std::to_string(bytes->size()) + " bytes; " + k.alg + " needs " +
                     std::to_string(token::key_size(*alg)));
    for (auto& id : kids)
      if (id == k.kid) errs.push_back(where + ": duplicate kid");
    kids.push_back(k.kid);
  }
  if (!control_token.empty() && !control_listen.empty() && !control_listen.starts_with("https://") &&
      !loopback_http(control_listen))
    errs.push_back("[turn] control_listen = \"" + control_listen +
                   "\": the control API carries credentials, so plain http:// is allowed on loopback addresses "
                   "only; use https://");
  if (!control_token.empty() && control_token.size() < 16)
    errs.push_back("[turn] control_token is shorter than 16 characters: too easy to guess");
  if (!errs.empty()) {
    std::string msg = "invalid configuration:";
    for (auto& e : errs) msg += "\n  " + e;
    throw Error(msg);
  }
}

std::vector<Listener> TurnConfig::listeners() const {
  std::vector<Listener> out;
  for (auto& l : listen) {
    Listener x;
    if (parse_listener(l, x)) out.push_back(x);
  }
  return out;
}

uint16_t TurnConfig::port_min() const {
  uint16_t lo = 49152, hi = 65535;
  parse_range(relay_ports, lo, hi);
  return lo;
}

uint16_t TurnConfig::port_max() const {
  uint16_t lo = 49152, hi = 65535;
  parse_range(relay_ports, lo, hi);
  return hi;
}

std::vector<base::Cidr> TurnConfig::allowed_ranges() const {
  std::vector<base::Cidr> out;
  for (auto& r : allowed_peer_ranges)
    if (auto c = base::Cidr::parse(r)) out.push_back(*c);
  return out;
}

std::vector<token::OAuthKey> TurnConfig::oauth_key_set() const {
  std::vector<token::OAuthKey> out;
  for (auto& k : oauth_keys) {
    auto alg = token::parse_oauth_alg(k.alg);
    auto bytes = base::base64_decode(k.key);
    if (alg && bytes && bytes->size() == token::key_size(*alg)) out.push_back({k.kid, std::move(*bytes), *alg});
  }
  return out;
}

bool loopback_http(const std::string& url) {
  if (!url.starts_with("http://")) return false;
  std::string host = url.substr(7);
  if (auto slash = host.find('/'); slash != std::string::npos) host.resize(slash);
  if (host == "localhost" || host.starts_with("localhost:")) return true;
  std::optional<base::IpAddress> a;
  if (auto ep = base::Endpoint::parse(host)) a = ep->addr;
  else a = base::IpAddress::parse(host.starts_with("[") && host.ends_with("]") ? host.substr(1, host.size() - 2) : host);
  if (!a) return false;
  static const auto v4 = *base::Cidr::parse("127.0.0.0/8");
  static const auto v6 = *base::Cidr::parse("::1/128");
  base::IpAddress u = a->unmapped();
  return v4.contains(u) || v6.contains(u);
}

std::vector<base::Cidr> TurnConfig::denied_ranges() const {
  std::vector<base::Cidr> out;
  for (auto& r : denied_peer_ranges)
    if (auto c = base::Cidr::parse(r)) out.push_back(*c);
  return out;
}

}  // namespace turn
