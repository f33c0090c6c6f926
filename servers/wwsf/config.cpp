#include "wwsf/config.hpp"

namespace wwsf {

using base::config::Binder;
using base::config::Error;

void WwsfConfig::describe(Binder& b) {
  b.section("wwsf",
            "WWSF (TR 33.871 4.2.2): serves the WIC app over HTTPS, web accounts, identity linking (Annex C M2),\n"
            "the scenario 3 subscription pool, and IMS access tokens from the WAF over W4.");
  b.field("listen", listen, "HTTPS listener for the app and its API (https://ADDR:PORT; http:// only behind a TLS front end).\n"
                            "In `webims all` it serves the WAF's endpoints too.");
  b.field("id", id, "This WWSF's identity (host name): the `wwsf` token claim and the store's WWSF id.");
  b.field("origin", origin, "This WWSF's own origin as browsers see it (scheme://host[:port]); state-changing\n"
                            "requests must carry it (or one of cors_origins) in Origin. In `webims all`, left at the\n"
                            "default: https://localhost:PORT with the port of `listen`.");
  b.field("web_root", web_root, "Directory of the WIC app's static files.");
  b.field("cors_origins", cors_origins, "Other origins allowed to call the API with credentials (CORS). In `webims all`, left\n"
                                        "empty: the other forms of `listen` (https://127.0.0.1:PORT, https://[::1]:PORT,\n"
                                        "https://PRIMARY-ADDRESS:PORT), so a page opened by address works too.");
  b.field("csp_connect_src", csp_connect_src,
          "Sources the app may connect to besides itself (Content-Security-Policy connect-src): the eP-CSCF's wss:// URLs.\n"
          "In `webims all`, left at the default: wss://HOST:PORT of [pcscf] listen for the host of origin and of each\n"
          "cors_origins (IPv6 literals left out: CSP sources cannot express them).");
  b.field("pcscf_url", pcscf_url,
          "The eP-CSCF's WebSocket URL the app connects to (GET /api/wic-config); the page replaces a literal {host}\n"
          "by location.hostname. In `webims all`, left at the default: wss://{host}:PORT of [pcscf] listen.");
  b.field("open_registration", open_registration,
          "Allow anyone to create a web account with POST /api/register. Otherwise: webims wwsf --add-account.");
  b.field("session_idle", session_idle, "A login or guest session ends after this long without a request.");
  b.field("session_lifetime", session_lifetime, "A login session ends this long after login, used or not.");
  b.field("guest_lifetime", guest_lifetime, "How long a guest keeps a pool subscription (scenario 3) and its session.");
  b.field("login_attempts", login_attempts,
          "Failed logins (or link confirmations) per account within login_window before 429; 4x that per address.");
  b.field("login_window", login_window, "Window of login_attempts.");
  b.field("guest_rate", guest_rate, "Guest sessions per address within guest_window before 429.");
  b.field("guest_window", guest_window, "Window of guest_rate.");
  b.field("max_sessions", max_sessions, "Sessions held at once (503 beyond).");
  b.field("waf_token_url", waf_token_url,
          "The WAF's token endpoint for the W4 client_credentials request (mutual TLS). In `webims all`, left at the\n"
          "default: the WAF of the same process, asked in memory as the holder of the W4 certificate (every WAF check\n"
          "runs; no TLS round trip); any other value: that WAF over HTTPS.");
  b.field("w4_cert_file", w4_cert_file, "PEM client certificate presented to the WAF over W4. Empty: the [tls] certificate.");
  b.field("w4_key_file", w4_key_file, "PEM private key of w4_cert_file. Empty: the [tls] key.");
  b.field("w4_client_id", w4_client_id,
          "OAuth client_id sent over W4 (RFC 8705 §2; `webims admin oauth-client add ID --kind wwsf`). Empty: not sent,\n"
          "the WAF knows the client by its certificate.");
  b.field("w4_timeout", w4_timeout, "How long a W4 token request may take.");
  b.field("control_listen", control_listen, "HTTP listener for /metrics and /health. Empty: none.");
}

namespace {

bool is_origin(const std::string& o) {
  auto sep = o.find("://");
  if (sep == std::string::npos) return false;
  auto scheme = o.substr(0, sep);
  if (scheme != "https" && scheme != "http") return false;
  auto rest = o.substr(sep + 3);
  return !rest.empty() && rest.find_first_of("/?# ") == std::string::npos;
}

}  // namespace

void WwsfConfig::validate() const {
  std::vector<std::string> errs;
  if (listen.rfind("https://", 0) != 0 && listen.rfind("http://", 0) != 0)
    errs.push_back("[wwsf] listen = \"" + listen + "\" must be https://ADDR:PORT (or http://)");
  if (id.empty() || id.find_first_of(" /:@") != std::string::npos)
    errs.push_back("[wwsf] id = \"" + id + "\" must be a host name");
  if (!is_origin(origin)) errs.push_back("[wwsf] origin = \"" + origin + "\" is not scheme://host[:port]");
  for (auto& o : cors_origins)
    if (!is_origin(o)) errs.push_back("[wwsf] cors_origins: \"" + o + "\" is not scheme://host[:port] (\"*\" is not allowed)");
  for (auto& c : csp_connect_src)
    if (c.empty() || c.find_first_of(" ;,'\"") != std::string::npos)
      errs.push_back("[wwsf] csp_connect_src: \"" + c + "\" is not a CSP source");
  if (web_root.empty()) errs.push_back("[wwsf] web_root must not be empty");
  if (session_idle < std::chrono::minutes(1)) errs.push_back("[wwsf] session_idle must be at least 1m");
  if (session_lifetime < session_idle) errs.push_back("[wwsf] session_lifetime must be >= session_idle");
  if (guest_lifetime < std::chrono::minutes(1)) errs.push_back("[wwsf] guest_lifetime must be at least 1m");
  if (login_attempts < 1) errs.push_back("[wwsf] login_attempts must be >= 1");
  if (guest_rate < 1) errs.push_back("[wwsf] guest_rate must be >= 1");
  if (login_window < std::chrono::seconds(1) || guest_window < std::chrono::seconds(1))
    errs.push_back("[wwsf] login_window and guest_window must be at least 1s");
  if (max_sessions < 1) errs.push_back("[wwsf] max_sessions must be >= 1");
  if (pcscf_url.rfind("wss://", 0) != 0 && pcscf_url.rfind("ws://", 0) != 0)
    errs.push_back("[wwsf] pcscf_url = \"" + pcscf_url + "\" must be a wss:// (or ws://) URL");
  if (waf_token_url.rfind("https://", 0) != 0 && waf_token_url.rfind("http://", 0) != 0)
    errs.push_back("[wwsf] waf_token_url = \"" + waf_token_url + "\" must be an https:// URL");
  if (w4_cert_file.empty() != w4_key_file.empty()) errs.push_back("[wwsf] w4_cert_file and w4_key_file must be set together");
  if (w4_timeout < std::chrono::milliseconds(100)) errs.push_back("[wwsf] w4_timeout must be at least 100ms");
  if (!errs.empty()) {
    std::string msg = "invalid configuration:";
    for (auto& e : errs) msg += "\n  " + e;
    throw Error(msg);
  }
}

}  // namespace wwsf
