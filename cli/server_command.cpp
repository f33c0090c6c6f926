#include "server_command.hpp"

#include <boost/asio/signal_set.hpp>

#include <cstdio>

#include "base/log.hpp"
#include "commands.hpp"

namespace cli {

std::optional<ServerArgs> parse_server_args(std::vector<std::string> args, const char* help,
                                            const std::vector<Section>& print_sections,
                                            const std::function<void(Config&)>& validate) {
  if (take_flag(args, "--help") || take_flag(args, "-h")) {
    std::fputs(help, stdout);
    return std::nullopt;
  }
  ServerArgs out;
  out.path = take_option(args, "--config").value_or("");
  bool print = take_flag(args, "--print-config");
  if (!args.empty()) throw std::runtime_error("unexpected argument '" + args[0] + "' (see --help)");
  out.config = load_config(out.path);
  out.config.log.validate();
  validate(out.config);
  if (print) {
    std::fputs(print_config(out.config, print_sections).c_str(), stdout);
    return std::nullopt;
  }
  out.config.log.apply();
  return out;
}

void run_until_signal(boost::asio::io_context& control, const char* component, const std::function<void()>& stop,
                      const std::function<void()>& reload) {
  boost::asio::signal_set stop_signals(control, SIGINT, SIGTERM);
  boost::asio::signal_set hup(control, SIGHUP);
  stop_signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    LOG_INFO(component) << "signal " << sig << ": stopping";
    stop();
    hup.cancel();
    control.stop();
  });
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      if (reload) reload();
      else LOG_INFO(component) << "SIGHUP ignored: nothing to reload";
      wait_hup();
    });
  };
  wait_hup();
  control.run();
  LOG_INFO(component) << "stopped";
}

std::function<void()> reload_log_level(std::string path, const char* component) {
  return [path = std::move(path), component] {
    if (path.empty()) return;
    try {
      Config fresh = load_config(path);
      fresh.log.validate();
      fresh.log.apply();
      LOG_INFO(component) << "SIGHUP: log level reloaded";
    } catch (const std::exception& e) {
      LOG_ERROR(component) << "SIGHUP: configuration not reloaded: " << e.what();
    }
  };
}

}  // namespace cli
