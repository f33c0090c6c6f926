// `webims turn`: the TURN server in the foreground.
#include <boost/asio/io_context.hpp>

#include <cstdio>

#include "base/log.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "server_command.hpp"
#include "turn/io/turn_service.hpp"

namespace cli {

namespace {
const char* kHelp = R"(usage: webims turn [--config FILE] [--print-config]

Runs the TURN server (RFC 8656) in the foreground: UDP, TCP and TLS listeners, relayed UDP
allocations, long-term credentials (static users from the store), Solution 1 credentials
minted by the eP-CSCF from the shared key Km (TS 33.203 X.5.2), Solution 2 RFC 7635 access
tokens sealed by the WAF under [[turn.oauth_keys]], and Approach 2 credentials pushed to the
control API. Sections used: [log] [store] [tls] [turn].

control API (Approach 2; on [turn] control_listen when [turn] control_token is set), each
request with "Authorization: Bearer <control_token>", JSON bodies, times in Unix seconds:
  POST /v1/credentials {"username":..,"password":..,"expires":..}  usable until `expires`
  POST /v1/revocations {"username":..,"until":..}  refused and live allocations ended until `until`

signals: SIGTERM/SIGINT stop cleanly (allocations are released); SIGHUP reloads
         [[turn.secrets]], [[turn.oauth_keys]] and [log] level from the configuration file.
)";
}  // namespace

int cmd_turn(std::vector<std::string> args) {
  auto parsed = parse_server_args(std::move(args), kHelp, {Section::Log, Section::Store, Section::Tls, Section::Turn},
                                  [](Config& c) { c.turn.validate(); });
  if (!parsed) return 0;
  Config& c = parsed->config;
  boost::asio::io_context control(1);
  turn::io::TurnService service(control, c.turn, c.store, c.tls);
  service.start();
  run_until_signal(
      control, "turn", [&] { service.stop(); },
      [&] {
        if (parsed->path.empty()) {
          LOG_WARN("turn") << "SIGHUP: no --config file to reload";
          return;
        }
        try {
          Config fresh = load_config(parsed->path);
          fresh.turn.validate();
          fresh.log.validate();
          fresh.log.apply();
          service.reload_secrets(fresh.turn.secrets);
          service.reload_oauth_keys(fresh.turn.oauth_keys);
        } catch (const std::exception& e) {
          LOG_ERROR("turn") << "SIGHUP: configuration not reloaded: " << e.what();
        }
      });
  return 0;
}

}  // namespace cli
