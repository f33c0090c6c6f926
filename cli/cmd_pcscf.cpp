// `webims pcscf`: the eP-CSCF in the foreground.
#include <cstdio>

#include "base/log.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "pcscf/io/pcscf_service.hpp"
#include "server_command.hpp"

namespace cli {

namespace {
const char* kHelp = R"(usage: webims pcscf [--config FILE] [--print-config]

Runs the eP-CSCF in the foreground: SIP over secure WebSocket (RFC 7118) for WICs, with the
Origin allow-list, relaying of the Digest/AKAv2 registration to the IMS core ([pcscf] next_hop),
identity binding after registration, P-Asserted-Identity, and Solution 1 TURN credentials
(3gpp-ext-turn-cred, TS 33.203 X.5.2) minted with the first [[turn.secrets]] key Km.
Sections used: [log] [store] [tls] [pcscf], and [[turn.secrets]].
)";
}  // namespace

int cmd_pcscf(std::vector<std::string> args) {
  auto parsed = parse_server_args(std::move(args), kHelp, {Section::Log, Section::Store, Section::Tls, Section::Pcscf},
                                  [](Config& c) {
                                    c.pcscf.validate();
                                    c.turn.validate();
                                  });
  if (!parsed) return 0;
  Config& c = parsed->config;
  boost::asio::io_context io(1);
  if (c.pcscf.home_domain.empty()) c.pcscf.home_domain = c.core.home_domain;  // the token audience
  pcscf::io::PcscfService service(io, c.pcscf, c.turn.secrets, c.store, c.tls);
  service.start();
  run_until_signal(io, "pcscf", [&] { service.stop(); });
  return 0;
}

}  // namespace cli
