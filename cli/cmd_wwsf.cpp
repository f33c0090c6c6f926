// `webims wwsf`: the WWSF in the foreground, or `--add-account` to create a web account and exit.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "server_command.hpp"
#include "store/store.hpp"
#include "wwsf/io/wwsf_service.hpp"

namespace cli {

namespace {
const char* kHelp = R"(usage: webims wwsf [--config FILE] [--print-config]
       webims wwsf [--config FILE] --add-account USER (--password PW | --password-file FILE | --password -)

Runs the WWSF in the foreground (TR 33.871 4.2.2, 6.1.2, 6.1.3, Annex C): serves the WIC app from
[wwsf] web_root over HTTPS with CSP, HSTS and the other security headers; web accounts (Argon2id)
with login sessions (cookie __Host-webims_session, CSRF token in X-CSRF-Token); identity linking
confirmed by the subscriber's IMS credentials (Annex C M2); guests on the WWSF's pool of
subscriptions (scenario 3); and IMS access tokens obtained from the WAF over W4
([wwsf] waf_token_url, client_credentials with mutual TLS).

--add-account USER   creates a web account of this WWSF ([wwsf] id) in the store and exits.
                     The password is stored only as an Argon2id hash.
Sections used: [log] [store] [tls] [wwsf].
)";

std::string read_password(std::vector<std::string>& args) {
  if (auto pw = take_option(args, "--password")) {
    if (*pw != "-") return *pw;
    std::string line;
    std::getline(std::cin, line);
    return line;
  }
  if (auto file = take_option(args, "--password-file")) {
    std::ifstream in(*file);
    if (!in) throw std::runtime_error("cannot read " + *file);
    std::string line;
    std::getline(in, line);
    return line;
  }
  throw std::runtime_error("--add-account needs --password PW, --password-file FILE or --password -");
}

}  // namespace

int cmd_wwsf(std::vector<std::string> args) {
  if (auto user = take_option(args, "--add-account")) {
    std::string password = read_password(args);
    auto path = take_option(args, "--config").value_or("");
    if (!args.empty()) throw std::runtime_error("unexpected argument '" + args[0] + "' (see --help)");
    Config c = load_config(path);
    c.log.validate();
    c.wwsf.validate();
    auto store = store::Store::open(c.store.url);
    auto r = wwsf::create_web_account(*store, c.wwsf.id, *user, password, wwsf::PwhashCost::interactive(),
                                      base::Now::system().unix_s);
    std::fill(password.begin(), password.end(), '\0');
    if (!r) throw std::runtime_error(r.error() + " (WWSF " + c.wwsf.id + ")");
    std::printf("web account %s added to WWSF %s\n", user->c_str(), c.wwsf.id.c_str());
    return 0;
  }
  auto parsed = parse_server_args(std::move(args), kHelp, {Section::Log, Section::Store, Section::Tls, Section::Wwsf},
                                  [](Config& c) { c.wwsf.validate(); });
  if (!parsed) return 0;
  Config& c = parsed->config;
  boost::asio::io_context io(1);
  wwsf::io::WwsfService service(io, c.wwsf, c.store, c.tls);
  service.start();
  run_until_signal(io, "wwsf", [&] { service.stop(); });
  return 0;
}

}  // namespace cli
