// What every server subcommand does the same way: --help, --config, --print-config, validation,
// and running until SIGTERM/SIGINT (SIGHUP = reload when the command supports it).
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"

namespace cli {

struct ServerArgs {
  std::string path;  // --config FILE, empty for defaults
  Config config;
};

// nullopt when the command is already done (--help or --print-config printed).
// `validate` checks the sections the command uses (throws base::config::Error).
std::optional<ServerArgs> parse_server_args(std::vector<std::string> args, const char* help,
                                            const std::vector<Section>& print_sections,
                                            const std::function<void(Config&)>& validate);

// Runs `control` until SIGINT or SIGTERM, calling `stop` first; SIGHUP calls `reload` if given.
void run_until_signal(boost::asio::io_context& control, const char* component, const std::function<void()>& stop,
                      const std::function<void()>& reload = {});

// A SIGHUP `reload` for commands whose only reloadable setting is [log] level: re-reads the
// --config file `path` (nothing to do without one) and logs the outcome as `component`.
std::function<void()> reload_log_level(std::string path, const char* component);

}  // namespace cli
