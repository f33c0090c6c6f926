// `webims core`: the IMS core (I-CSCF/S-CSCF registrar and router, HSS in the store) in the foreground.
#include <boost/asio/io_context.hpp>

#include "commands.hpp"
#include "config.hpp"
#include "core/io/core_service.hpp"
#include "server_command.hpp"

namespace cli {

namespace {
const char* kHelp = R"(usage: webims core [--config FILE] [--print-config]

Runs the embedded IMS core in the foreground: a combined I-CSCF/S-CSCF on SIP UDP/TCP/TLS
([core] listen) that registers subscribers of [core] home_domain with SIP Digest (MD5, SHA-256)
or IMS AKA (AKAv2-MD5, Milenage, SQN resynchronisation) against the HSS data in the store, keeps
their registrations across restarts, and routes INVITE, ACK, BYE, CANCEL, MESSAGE, OPTIONS and
the rest between registered users through their eP-CSCF (Path / Service-Route). Subscribers are
provisioned with `webims admin subscriber add`. /metrics and /health on [core] control_listen.
Sections used: [log] [store] [tls] [core].

signals: SIGTERM/SIGINT stop cleanly; SIGHUP reloads [log] level.
)";
}  // namespace

int cmd_core(std::vector<std::string> args) {
  auto parsed = parse_server_args(std::move(args), kHelp, {Section::Log, Section::Store, Section::Tls, Section::Core},
                                  [](Config& c) { c.core.validate(); });
  if (!parsed) return 0;
  Config& c = parsed->config;
  boost::asio::io_context io(1);
  core::io::CoreService service(io, c.core, c.store, c.tls);
  service.start();
  run_until_signal(io, "core", [&] { service.stop(); }, reload_log_level(parsed->path, "core"));
  return 0;
}

}  // namespace cli
