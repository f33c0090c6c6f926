// `webims all`: every component built so far in one process, with no configuration at all.
#include <boost/asio/io_context.hpp>

#include <cstdio>

#include "base/log.hpp"
#include "commands.hpp"
#include "common/host_address.hpp"
#include "config.hpp"
#include "core/io/core_service.hpp"
#include "local_secrets.hpp"
#include "pcscf/io/pcscf_service.hpp"
#include "server_command.hpp"
#include "turn/io/turn_service.hpp"

namespace cli {

namespace {
const char* kHelp = R"(usage: webims all [--config FILE] [--print-config]

Runs the self-contained deployment in the foreground, with nothing to configure: SQLite store
and generated keys in ./var, a local CA and certificate in ./var/tls, and the components that
exist in this build:
  core    IMS core (I-/S-CSCF registrar and router, HSS in the store)
  pcscf   eP-CSCF: SIP over secure WebSocket for WICs, next hop the core
  turn    TURN server (RFC 8656); the Solution 1 key Km shared by pcscf and turn is generated
          on first start and kept in the store

Every key of every section can still be set in --config FILE (see --print-config).
SIGTERM/SIGINT stop cleanly.
)";

// The TURN servers the eP-CSCF announces with its credentials: this process's own listeners, at
// the address the relay advertises, unless [pcscf] turn_uris was configured.
std::vector<std::string> turn_uris_of(const std::vector<std::string>& listeners, const std::string& host) {
  std::vector<std::string> out;
  for (auto& l : listeners) {
    auto sep = l.find("://");
    auto colon = l.rfind(':');
    if (sep == std::string::npos || colon == std::string::npos) continue;
    std::string scheme = l.substr(0, sep), port = l.substr(colon + 1);
    if (scheme == "udp") out.push_back("turn:" + host + ":" + port + "?transport=udp");
    else if (scheme == "tcp") out.push_back("turn:" + host + ":" + port + "?transport=tcp");
    else if (scheme == "tls") out.push_back("turns:" + host + ":" + port + "?transport=tcp");
  }
  return out;
}

}  // namespace

int cmd_all(std::vector<std::string> args) {
  auto parsed = parse_server_args(std::move(args), kHelp, {}, [](Config& c) {
    c.turn.validate();
    c.core.validate();
    c.pcscf.validate();
  });
  if (!parsed) return 0;
  Config& c = parsed->config;
  const std::string& path = parsed->path;
  {
    auto store = store::Store::open(c.store.url);
    ensure_turn_secret(c, *store);
  }
  boost::asio::io_context control(1);
  turn::io::TurnService turn_service(control, c.turn, c.store, c.tls);
  std::string host = c.turn.relay_address.empty() ? servers::primary_address() : c.turn.relay_address;
  if (c.pcscf.turn_uris == pcscf::PcscfConfig{}.turn_uris)
    c.pcscf.turn_uris = turn_uris_of(turn_service.bound_listeners(), host);
  core::io::CoreService core_service(control, c.core, c.store, c.tls);
  if (c.pcscf.home_domain.empty()) c.pcscf.home_domain = c.core.home_domain;  // the token audience
  pcscf::io::PcscfService pcscf_service(control, c.pcscf, c.turn.secrets, c.store, c.tls);
  turn_service.start();
  core_service.start();
  pcscf_service.start();

  std::printf("\nwebims all is running (Ctrl-C stops it). Store: %s\n", c.store.url.c_str());
  for (auto& l : pcscf_service.ws_listeners()) std::printf("  eP-CSCF    %s   (WICs; allowed origins below)\n", l.c_str());
  for (auto& o : c.pcscf.allowed_origins) std::printf("             origin %s\n", o.c_str());
  for (auto& l : core_service.sip_listeners()) std::printf("  IMS core   %s   (home domain %s)\n", l.c_str(), c.core.home_domain.c_str());
  for (auto& l : turn_service.bound_listeners()) std::printf("  TURN       %s\n", l.c_str());
  std::string cfg = path.empty() ? "" : " --config " + path;
  std::printf("  add a subscriber:  webims admin%s subscriber add --impi alice@%s --impu sip:alice@%s --password PW\n",
              cfg.c_str(), c.core.home_domain.c_str(), c.core.home_domain.c_str());
  std::printf("  register a WIC:    webims wic register --url wss://localhost:7443 --ca-file %s/ca.pem --impu sip:alice@%s "
              "--password PW --turn-cred\n",
              c.tls.dir.c_str(), c.core.home_domain.c_str());
  std::printf("  TLS uses the local CA %s/ca.pem unless [tls] cert_file is set.\n\n", c.tls.dir.c_str());
  std::fflush(stdout);

  run_until_signal(control, "all", [&] {
    pcscf_service.stop();
    core_service.stop();
    turn_service.stop();
  });
  return 0;
}

}  // namespace cli
