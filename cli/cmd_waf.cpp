// `webims waf`: the WAF (OAuth 2.0 authorization server) in the foreground.
#include <boost/asio/io_context.hpp>

#include "commands.hpp"
#include "config.hpp"
#include "server_command.hpp"
#include "waf/io/waf_service.hpp"

namespace cli {

namespace {
const char* kHelp = R"(usage: webims waf [--config FILE] [--print-config]

Runs the WAF in the foreground (TR 33.871 4.2.2): an OAuth 2.0 authorization server over HTTPS
([waf] listen) issuing IMS access tokens (ES256 JWTs, `aud` = [core] home_domain) and RFC 7635
TURN tokens (the first [[turn.oauth_keys]] key, [turn] oauth_server_name or realm).
  /.well-known/oauth-authorization-server, /.well-known/jwks.json   metadata and signing keys
  /token        client_credentials for WWSFs over mutual TLS (the W4 profile: sub, pool, scope),
                authorization_code with PKCE S256 for public clients
  /authorize    code or implicit (token), only with a ticket a WWSF got from /authorize/ticket
  /introspect, /revoke   RFC 7662, RFC 7009
Before a token: the WWSF is known and not blocked (REQ 2.2), the subscription allows it (REQ 2.1)
or is in its pool (REQ 3.2). Clients are registered with `webims admin oauth-client`, WWSFs with
`webims admin wwsf`. The signing key is [waf] signing_key_file, or generated on first start and
kept in the store. /metrics and /health on [waf] control_listen.
Sections used: [log] [store] [tls] [waf] [core] (home_domain) [turn] (oauth_keys, server name).

signals: SIGTERM/SIGINT stop cleanly; SIGHUP reloads [log] level.
)";
}  // namespace

int cmd_waf(std::vector<std::string> args) {
  auto parsed = parse_server_args(std::move(args), kHelp,
                                  {Section::Log, Section::Store, Section::Tls, Section::Waf, Section::Core, Section::Turn},
                                  [](Config& c) { c.waf.validate(); });
  if (!parsed) return 0;
  Config& c = parsed->config;
  waf::WafSettings settings;
  settings.home_domain = c.core.home_domain;
  settings.turn_keys = c.turn.oauth_key_set();
  settings.turn_server_name = c.turn.server_name();
  boost::asio::io_context io(1);
  waf::io::WafService service(io, c.waf, settings, c.store, c.tls);
  service.start();
  run_until_signal(io, "waf", [&] { service.stop(); }, reload_log_level(parsed->path, "waf"));
  return 0;
}

}  // namespace cli
