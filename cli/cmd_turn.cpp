// `webims turn`: the TURN server in the foreground.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstdio>

#include "base/log.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "turn/io/turn_service.hpp"

namespace cli {

namespace {
const char* kHelp = R"(usage: webims turn [--config FILE] [--print-config]

Runs the TURN server (RFC 8656) in the foreground: UDP, TCP and TLS listeners, relayed UDP
allocations, long-term credentials (static users from the store) and Solution 1 credentials
minted by the eP-CSCF from the shared key Km (TS 33.203 X.5.2). Sections used: [log] [store] [tls] [turn].

signals: SIGTERM/SIGINT stop cleanly (allocations are released); SIGHUP reloads
         [[turn.secrets]] and [log] level from the configuration file.
)";
}  // namespace

int cmd_turn(std::vector<std::string> args) {
  if (take_flag(args, "--help") || take_flag(args, "-h")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  std::string path = take_option(args, "--config").value_or("");
  bool print = take_flag(args, "--print-config");
  if (!args.empty()) throw std::runtime_error("unexpected argument '" + args[0] + "' (see --help)");

  Config c = load_config(path);
  c.log.validate();
  c.turn.validate();
  if (print) {
    std::fputs(print_config(c, {Section::Log, Section::Store, Section::Tls, Section::Turn}).c_str(), stdout);
    return 0;
  }
  c.log.apply();

  boost::asio::io_context control(1);
  turn::io::TurnService service(control, c.turn, c.store, c.tls);
  service.start();

  boost::asio::signal_set stop_signals(control, SIGINT, SIGTERM);
  boost::asio::signal_set reload(control, SIGHUP);
  stop_signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    LOG_INFO("turn") << "signal " << sig << ": stopping";
    service.stop();
    reload.cancel();
    control.stop();
  });
  std::function<void()> wait_reload = [&] {
    reload.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      if (path.empty()) {
        LOG_WARN("turn") << "SIGHUP: no --config file to reload";
      } else {
        try {
          Config fresh = load_config(path);
          fresh.turn.validate();
          fresh.log.validate();
          fresh.log.apply();
          service.reload_secrets(fresh.turn.secrets);
        } catch (const std::exception& e) {
          LOG_ERROR("turn") << "SIGHUP: configuration not reloaded: " << e.what();
        }
      }
      wait_reload();
    });
  };
  wait_reload();
  control.run();
  LOG_INFO("turn") << "stopped";
  return 0;
}

}  // namespace cli
