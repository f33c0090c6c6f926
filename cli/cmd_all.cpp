// `webims all`: every component in one process, with no configuration at all (architecture.md
// "Processes"; protocols.md "Ports (all-in-one defaults)").
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <filesystem>

#include "all_defaults.hpp"
#include "all_web.hpp"
#include "base/clock.hpp"
#include "base/log.hpp"
#include "commands.hpp"
#include "common/host_address.hpp"
#include "config.hpp"
#include "core/io/core_service.hpp"
#include "demo.hpp"
#include "local_secrets.hpp"
#include "pcscf/io/pcscf_service.hpp"
#include "server_command.hpp"
#include "turn/io/turn_service.hpp"

namespace cli {

namespace {
const char* kHelp = R"(usage: webims all [--config FILE] [--print-config]

Runs the self-contained deployment in the foreground, with nothing to configure: SQLite store and
generated keys in ./var, a local CA and one certificate for localhost, 127.0.0.1, ::1 and the
primary address in ./var/tls, and every component of this build:
  wwsf+waf  one HTTPS listener ([wwsf] listen, 8443) on its own thread: the WIC app from [wwsf]
            web_root, web login, identity links, the guest pool, GET /api/wic-config; and the WAF's
            endpoints (JWKS, RFC 8414 metadata, /token for other WWSFs over mTLS, ...). The WWSF
            gets its tokens from this WAF in memory (W4 without a TLS round trip) as the holder of
            its W4 certificate, so every WAF check runs; the OAuth client record pinning that
            certificate ([wwsf] w4_client_id, else "webims-all-w4") is written at each start.
  pcscf     eP-CSCF: SIP over secure WebSocket ([pcscf] listen, 7443), the core's SIP handed over in
            memory; Bearer tokens checked with the keys of this WAF, handed over in memory
  core      IMS core (I-/S-CSCF registrar and router, HSS in the store)
  turn      TURN server (RFC 8656); the Solution 1 key Km shared by pcscf and turn is generated on
            first start and kept in the store

Derived when left at their defaults, so the components agree with the listeners' ports:
  [wwsf] origin            https://localhost:WWSF-PORT
  [wwsf] cors_origins      the same listener as https://127.0.0.1, https://[::1], https://PRIMARY-ADDRESS
  [pcscf] allowed_origins  [wwsf] origin and cors_origins
  [wwsf] csp_connect_src   wss://HOST:PCSCF-PORT for each of those hosts but [::1]
  [wwsf] pcscf_url         wss://{host}:PCSCF-PORT (the page puts its location.hostname for {host})
  [waf] issuer             https://localhost:WWSF-PORT; [pcscf] token_issuers: [waf] issuer
  [wwsf] waf_token_url     [waf] issuer + /token, called in memory (another value: that WAF over HTTPS)
  [pcscf] token_jwks_url   none: this WAF's keys in memory (another value: fetched from there)
  [pcscf] turn_uris        the [turn] listeners at the relay address
  [pcscf] home_domain      [core] home_domain (the tokens' audience)
  [pcscf] next_hop         the [core] listener of this process (TCP first), when [core] listen moved
The WWSF [wwsf] id is added to the store when missing.

Demo data ([all] demo = true, the default): on first start with a store that holds no subscriber,
subscribers alice@HOME and bob@HOME (both allowing the WWSF), web account carol with a confirmed
link to bob@HOME (scenario 2), and a pool of five guests guest1..5@guest.HOME (scenario 3), with
random passwords.

Standard output: the listeners, the demo accounts with their passwords (at every start while they
exist), how to trust the local CA, and last the URL to open. The log (standard error) never holds a
password.

Every key of every section can still be set in --config FILE (see --print-config).
SIGTERM/SIGINT stop cleanly.
)";

// The TURN servers the eP-CSCF announces with its credentials: this process's own listeners, at
// the address the relay advertises (or the one a listener is bound to, when it is not a wildcard:
// nothing answers elsewhere), unless [pcscf] turn_uris was configured.
std::vector<std::string> turn_uris_of(const std::vector<std::string>& listeners, const std::string& relay_host) {
  std::vector<std::string> out;
  for (auto& l : listeners) {
    auto sep = l.find("://");
    auto colon = l.rfind(':');
    if (sep == std::string::npos || colon == std::string::npos || colon < sep + 3) continue;
    std::string scheme = l.substr(0, sep), port = l.substr(colon + 1);
    std::string bound = l.substr(sep + 3, colon - sep - 3);
    std::string host = bound == "0.0.0.0" || bound == "[::]" || bound.empty() ? relay_host : bound;
    if (scheme == "udp") out.push_back("turn:" + host + ":" + port + "?transport=udp");
    else if (scheme == "tcp") out.push_back("turn:" + host + ":" + port + "?transport=tcp");
    else if (scheme == "tls") out.push_back("turns:" + host + ":" + port + "?transport=tcp");
  }
  return out;
}

std::string absolute(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

// How to make browsers and tools trust the generated CA (its certificate, never its key).
void print_trust(const std::string& ca_file) {
  std::string ca = absolute(ca_file);
  std::printf("To trust the local CA %s (then browsers accept this server without a warning):\n", ca.c_str());
  std::printf("  Chromium/Chrome on Linux:  certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n webims-local-ca -i %s\n", ca.c_str());
  std::printf("      (certutil is in Debian's libnss3-tools; a missing database is made by: certutil -d sql:$HOME/.pki/nssdb -N --empty-password)\n");
  std::printf("  Firefox:                   Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import %s\n", ca.c_str());
  std::printf("  command-line tools:        sudo cp %s /usr/local/share/ca-certificates/webims-local-ca.crt && sudo update-ca-certificates\n\n",
              ca.c_str());
}

}  // namespace

int cmd_all(std::vector<std::string> args) {
  auto parsed = parse_server_args(std::move(args), kHelp, {}, [](Config& c) {
    c.turn.validate();
    c.core.validate();
    c.pcscf.validate();
    c.waf.validate();
    c.wwsf.validate();
  });
  if (!parsed) return 0;
  Config& c = parsed->config;
  const std::string& path = parsed->path;
  AllDerived derived = derive_all_defaults(c, servers::primary_address());
  c.pcscf.validate();
  c.waf.validate();
  c.wwsf.validate();
  if (c.pcscf.home_domain.empty()) c.pcscf.home_domain = c.core.home_domain;  // the token audience

  DemoOptions demo;
  demo.home_domain = c.core.home_domain;
  demo.wwsf_id = c.wwsf.id;
  DemoListing listing;
  {
    auto store = store::Store::open(c.store.url);
    ensure_turn_secret(c, *store);
    int64_t now = base::Now::system().unix_s;
    if (c.all.demo) create_demo_if_empty(*store, demo, now);
    // The WWSF of this process must be known to its operator, or the WAF and the core refuse its tokens.
    if (!store->find_wwsf(c.wwsf.id)) store->put_wwsf({c.wwsf.id, "", false, "", now, now});
    if (c.all.demo) listing = list_demo(*store, demo);
  }
  auto tls_files = c.tls.resolve();

  WebFront web(c, derived.w4_in_process);
  boost::asio::io_context control(1);
  turn::io::TurnService turn_service(control, c.turn, c.store, c.tls);
  std::string host = c.turn.relay_address.empty() ? servers::primary_address() : c.turn.relay_address;
  if (c.pcscf.turn_uris == pcscf::PcscfConfig{}.turn_uris)
    c.pcscf.turn_uris = turn_uris_of(turn_service.bound_listeners(), host);
  core::io::CoreService core_service(control, c.core, c.store, c.tls);
  pcscf::io::PcscfService pcscf_service(control, c.pcscf, c.turn.secrets, c.store, c.tls,
                                        derived.jwks_in_process ? std::optional<std::string>(web.jwks()) : std::nullopt);
  turn_service.start();
  core_service.start();
  pcscf_service.start();
  web.start();

  std::string web_scheme = c.wwsf.listen.substr(0, c.wwsf.listen.find("://"));
  std::printf("\nwebims all is running (Ctrl-C stops it). Store: %s\n", c.store.url.c_str());
  std::printf("  WWSF+WAF   %s://%s   (the WIC app, web login, OAuth)\n", web_scheme.c_str(),
              web.endpoint().to_string().c_str());
  for (auto& l : pcscf_service.ws_listeners()) std::printf("  eP-CSCF    %s   (WICs; allowed origins below)\n", l.c_str());
  for (auto& o : c.pcscf.allowed_origins) std::printf("             origin %s\n", o.c_str());
  for (auto& l : core_service.sip_listeners()) std::printf("  IMS core   %s   (home domain %s)\n", l.c_str(), c.core.home_domain.c_str());
  for (auto& l : turn_service.bound_listeners()) std::printf("  TURN       %s\n", l.c_str());
  std::string cfg = path.empty() ? "" : " --config " + path;
  std::string wss_url = c.wwsf.pcscf_url;
  if (auto at = wss_url.find("{host}"); at != std::string::npos) wss_url.replace(at, 6, "localhost");
  std::printf("  add a subscriber:  webims admin%s subscriber add --impi alice@%s --impu sip:alice@%s --password PW\n",
              cfg.c_str(), c.core.home_domain.c_str(), c.core.home_domain.c_str());
  std::printf("  register a WIC:    webims wic register --url %s --ca-file %s --impu sip:alice@%s --password PW --turn-cred\n",
              wss_url.c_str(), tls_files.ca.empty() ? "CA.pem" : tls_files.ca.c_str(), c.core.home_domain.c_str());
  std::printf("  TLS uses the local CA %s/ca.pem unless [tls] cert_file is set.\n\n", c.tls.dir.c_str());

  if (auto lines = demo_lines(listing); !lines.empty()) {
    std::printf("Demo accounts (created on first start; [all] demo = false to skip):\n");
    for (auto& l : lines) std::printf("%s\n", l.c_str());
    std::printf("\n");
  }
  if (tls_files.generated) print_trust(tls_files.ca);
  if (!std::filesystem::exists(std::filesystem::path(c.wwsf.web_root) / "index.html"))
    std::printf("The WIC app is not built (no index.html in [wwsf] web_root = %s): run `bash scripts/build.sh`\n"
                "(it runs `npm run build:web`), then reload the page.\n\n",
                absolute(c.wwsf.web_root).c_str());
  if (derived.remote_url.empty()) std::printf("Open %s in a browser\n", derived.open_url.c_str());
  else std::printf("Open %s in a browser (from another machine: %s)\n", derived.open_url.c_str(), derived.remote_url.c_str());
  std::fflush(stdout);

  run_until_signal(control, "all", [&] {
    pcscf_service.stop();
    core_service.stop();
    turn_service.stop();
    web.stop();
  });
  return 0;
}

}  // namespace cli
