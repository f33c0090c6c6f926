// webims: one binary, one subcommand per component (architecture.md "Processes").
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "base/config.hpp"
#include "commands.hpp"

namespace {

const char* kUsage = R"(webims - WebRTC IMS client access (TS 33.203 Annex X, TR 33.871, TR 33.872)

usage: webims <command> [options]

servers (run in the foreground; SIGTERM or Ctrl-C stops them cleanly):
  all      every component in one process, zero configuration (the self-contained deployment)
  pcscf    eP-CSCF: SIP over secure WebSocket for WICs, in front of an IMS core
  core     IMS core: I-/S-CSCF registrar (Digest, IMS AKA) and router, HSS in the store
  waf      WAF: OAuth 2.0 authorization server for IMS access tokens and RFC 7635 TURN tokens
  turn     TURN server (RFC 8656) with long-term and eP-CSCF provisioned (Solution 1) credentials
  wwsf     WWSF: the WIC app over HTTPS, web accounts, identity linking, guest pool, tokens from the WAF

tools:
  admin    provision the store: IMS subscribers, TURN users; mint a Solution 1 TURN credential
  wic      the command-line WIC over WSS: register, turn-cred, message, call, answer, load

common options:
  --config FILE     TOML configuration (every key has a default)
  --print-config    print the effective configuration, secrets masked, and exit
  --help            help for a command

`webims <command> --help` for details.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::printf("webims %s\n", WEBIMS_VERSION);
    return 0;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  try {
    if (cmd == "all") return cli::cmd_all(args);
    if (cmd == "turn") return cli::cmd_turn(args);
    if (cmd == "pcscf") return cli::cmd_pcscf(args);
    if (cmd == "core") return cli::cmd_core(args);
    if (cmd == "admin") return cli::cmd_admin(args);
    if (cmd == "wic") return cli::cmd_wic(args);
    if (cmd == "waf") return cli::cmd_waf(args);
    if (cmd == "wwsf") return cli::cmd_wwsf(args);
  } catch (const base::config::Error& e) {
    std::fprintf(stderr, "webims %s: %s\n", cmd.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "webims %s: %s\n", cmd.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "webims: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
