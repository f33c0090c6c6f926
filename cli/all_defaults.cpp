#include "all_defaults.hpp"

#include <algorithm>
#include <charconv>

namespace cli {

namespace {

struct Url {
  std::string scheme, host;  // host without brackets
  int port = 0;
};

int default_port(const std::string& scheme) { return scheme == "https" || scheme == "wss" ? 443 : 80; }

// scheme://host[:port][/...]: enough for the listen URLs the configuration already validated.
Url parse_url(const std::string& text, const char* key) {
  auto bad = [&](const std::string& why) {
    return base::config::Error(std::string(key) + " = \"" + text + "\": " + why);
  };
  Url u;
  auto sep = text.find("://");
  if (sep == std::string::npos) throw bad("not scheme://host:port");
  u.scheme = text.substr(0, sep);
  std::string rest = text.substr(sep + 3);
  rest = rest.substr(0, rest.find('/'));
  std::string port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) throw bad("missing ']' after the IPv6 address");
    u.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') throw bad("expected ':' and a port after ']'");
      port = rest.substr(close + 2);
    }
  } else {
    auto colon = rest.find(':');
    u.host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (port.empty()) {
    u.port = default_port(u.scheme);
  } else {
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), u.port);
    if (ec != std::errc() || p != port.data() + port.size() || u.port < 0 || u.port > 65535) throw bad("bad port");
  }
  return u;
}

bool is_ipv6(const std::string& host) { return host.find(':') != std::string::npos; }

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

bool is_wildcard(const std::string& host) { return host.empty() || host == "0.0.0.0" || host == "::"; }

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

// The host of an origin we derived or the user gave (scheme://host[:port]).
std::string host_of_origin(const std::string& origin) {
  try {
    return parse_url(origin, "origin").host;
  } catch (const base::config::Error&) {
    return {};
  }
}

}  // namespace

std::string origin_of(const std::string& scheme, const std::string& host, int port) {
  std::string h = is_ipv6(host) ? "[" + host + "]" : host;
  std::string o = scheme + "://" + h;
  if (port != default_port(scheme)) o += ":" + std::to_string(port);
  return o;
}

AllDerived derive_all_defaults(Config& c, const std::string& primary) {
  const Config defaults;
  AllDerived out;
  Url web = parse_url(c.wwsf.listen, "[wwsf] listen");
  // The first secure WebSocket listener is the one pages use (ws:// only behind a TLS front end).
  std::string ws_listen;
  for (auto& l : c.pcscf.listen)
    if (l.rfind("wss://", 0) == 0) {
      ws_listen = l;
      break;
    }
  if (ws_listen.empty() && !c.pcscf.listen.empty()) ws_listen = c.pcscf.listen.front();
  Url ws = parse_url(ws_listen, "[pcscf] listen");

  std::vector<std::string> names{"localhost", "127.0.0.1", "::1"};
  if (!primary.empty()) add_unique(names, primary);

  // The WWSF's origins: its own, then the other forms as CORS origins.
  if (c.wwsf.origin == defaults.wwsf.origin) c.wwsf.origin = origin_of(web.scheme, "localhost", web.port);
  if (c.wwsf.cors_origins.empty()) {
    for (auto& n : names)
      if (auto o = origin_of(web.scheme, n, web.port); o != c.wwsf.origin) add_unique(c.wwsf.cors_origins, o);
  }
  std::vector<std::string> pages{c.wwsf.origin};
  for (auto& o : c.wwsf.cors_origins) add_unique(pages, o);

  // The eP-CSCF admits WebSockets from those pages; their CSP lets them connect to it.
  if (c.pcscf.allowed_origins == defaults.pcscf.allowed_origins) c.pcscf.allowed_origins = pages;
  if (c.wwsf.csp_connect_src == defaults.wwsf.csp_connect_src) {
    c.wwsf.csp_connect_src.clear();
    for (auto& o : pages) {
      std::string h = host_of_origin(o);
      // CSP host-source grammar has no IPv6 literal (W3C CSP3 §2.3.1): a page opened at [::1] falls back to 'self'.
      if (h.empty() || is_ipv6(h)) continue;
      add_unique(c.wwsf.csp_connect_src, ws.scheme + "://" + h + ":" + std::to_string(ws.port));
    }
  }
  if (c.wwsf.pcscf_url == defaults.wwsf.pcscf_url)
    c.wwsf.pcscf_url = ws.scheme + "://{host}:" + std::to_string(ws.port);

  // The WAF shares the WWSF's listener: its issuer, the token URL and the issuer the eP-CSCF accepts follow it.
  if (c.waf.issuer == defaults.waf.issuer) c.waf.issuer = origin_of(web.scheme, "localhost", web.port);
  if (c.pcscf.token_issuers == defaults.pcscf.token_issuers) c.pcscf.token_issuers = {c.waf.issuer};
  if (c.wwsf.waf_token_url == defaults.wwsf.waf_token_url) {
    out.w4_in_process = true;
    std::string base = c.waf.issuer;
    while (!base.empty() && base.back() == '/') base.pop_back();
    c.wwsf.waf_token_url = base + c.waf.path_prefix + "/token";
  }
  if (c.pcscf.token_jwks_url == defaults.pcscf.token_jwks_url && c.pcscf.token_jwks_file.empty()) {
    out.jwks_in_process = true;
    c.pcscf.token_jwks_url.clear();  // nothing to fetch: the keys are handed over
  }

  // The eP-CSCF's next hop is the core of this process: follow its listener when it moved (TCP
  // first: SIP over UDP would fragment large REGISTER answers; TLS needs a name the certificate has).
  if (c.pcscf.next_hop == defaults.pcscf.next_hop && c.core.listen != defaults.core.listen) {
    for (const char* want : {"tcp", "udp", "tls"}) {
      auto it = std::find_if(c.core.listen.begin(), c.core.listen.end(),
                             [&](const std::string& l) { return l.rfind(std::string(want) + "://", 0) == 0; });
      if (it == c.core.listen.end()) continue;
      Url core = parse_url(*it, "[core] listen");
      std::string host = is_wildcard(core.host) ? (core.host == "::" ? "::1" : "127.0.0.1") : core.host;
      if (is_ipv6(host)) host = "[" + host + "]";
      c.pcscf.next_hop = "sip:" + host + ":" + std::to_string(core.port) + ";transport=" + want;
      break;
    }
  }

  out.open_url = c.wwsf.origin + "/";
  std::string remote_host;
  if (is_wildcard(web.host)) remote_host = primary;
  else if (!is_loopback(web.host)) remote_host = web.host;
  if (!remote_host.empty() && !is_loopback(remote_host))
    out.remote_url = origin_of(web.scheme, remote_host, web.port) + "/";
  return out;
}

}  // namespace cli
