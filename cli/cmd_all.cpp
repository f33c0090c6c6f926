// `webims all`: every component built so far in one process, with no configuration at all.
#include <boost/asio/io_context.hpp>

#include <cstdio>

#include "base/log.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "local_secrets.hpp"
#include "server_command.hpp"
#include "turn/io/turn_service.hpp"

namespace cli {

namespace {
const char* kHelp = R"(usage: webims all [--config FILE] [--print-config]

Runs the self-contained deployment in the foreground, with nothing to configure: SQLite store
and generated keys in ./var, a local CA and certificate in ./var/tls, and the components that
exist in this build:
  turn    TURN server (RFC 8656), Solution 1 key Km generated on first start

Every key of every section can still be set in --config FILE (see --print-config).
SIGTERM/SIGINT stop cleanly.
)";
}  // namespace

int cmd_all(std::vector<std::string> args) {
  auto parsed = parse_server_args(std::move(args), kHelp, {}, [](Config& c) { c.turn.validate(); });
  if (!parsed) return 0;
  Config& c = parsed->config;
  const std::string& path = parsed->path;
  {
    auto store = store::Store::open(c.store.url);
    ensure_turn_secret(c, *store);
  }
  boost::asio::io_context control(1);
  turn::io::TurnService turn_service(control, c.turn, c.store, c.tls);
  turn_service.start();

  std::string host = c.turn.relay_address.empty() ? turn::default_relay_address() : c.turn.relay_address;
  std::printf("\nwebims all is running (Ctrl-C stops it). Store: %s\n", c.store.url.c_str());
  for (auto& l : turn_service.bound_listeners()) std::printf("  TURN       %s\n", l.c_str());
  if (turn_service.control_endpoint().port)
    std::printf("  health     http://%s/health   metrics: /metrics\n", turn_service.control_endpoint().to_string().c_str());
  std::printf("  TURN credential as the eP-CSCF hands it to a WIC (Solution 1):\n"
              "             webims admin%s%s turn-credential\n",
              path.empty() ? "" : " --config ", path.c_str());
  std::printf("  try it:    turnutils_uclient -u USERNAME -w PASSWORD -e <peer address> %s\n", host.c_str());
  std::printf("  TLS uses the local CA %s/ca.pem unless [tls] cert_file is set.\n\n", c.tls.dir.c_str());
  std::fflush(stdout);

  run_until_signal(control, "all", [&] { turn_service.stop(); });
  return 0;
}

}  // namespace cli
