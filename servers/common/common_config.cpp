#include "common/common_config.hpp"

#include <algorithm>

#include "base/log.hpp"
#include "common/host_address.hpp"
#include "net/tls.hpp"

namespace servers {

void LogConfig::describe(base::config::Binder& b) {
  b.section("log", "Logging to standard error, one line per event.");
  b.field("level", level, "debug | info | warn | error. Secrets are never logged at any level.");
}

void LogConfig::validate() const {
  base::log::Level l;
  if (!base::log::parse_level(level, l))
    throw base::config::Error("[log] level must be debug, info, warn or error (got \"" + level + "\")");
}

void LogConfig::apply() const {
  base::log::Level l;
  if (base::log::parse_level(level, l)) base::log::set_level(l);
}

void StoreConfig::describe(base::config::Binder& b) {
  b.section("store", "Persistent store: users, subscribers, registrations.");
  b.field("url", url, "sqlite://PATH (embedded, default; relative to the working directory) or sqlite:///ABS/PATH.");
}

void TlsConfig::describe(base::config::Binder& b) {
  b.section("tls", "Certificates for every TLS listener (TURN TLS, WSS, HTTPS).");
  b.field("cert_file", cert_file, "PEM certificate chain. Empty: a local CA and certificate are generated in `dir`.");
  b.field("key_file", key_file, "PEM private key for cert_file.");
  b.field("ca_file", ca_file, "PEM CA bundle used to verify peers (mTLS, outgoing HTTPS). Empty: system store.");
  b.field("dir", dir, "Where generated CA and certificates are kept (created with mode 0700).");
}

std::vector<std::string> TlsConfig::local_names() {
  std::vector<std::string> n{"localhost", "127.0.0.1", "::1"};
  std::string primary = primary_address();
  if (std::find(n.begin(), n.end(), primary) == n.end()) n.push_back(primary);
  return n;
}

TlsConfig::Files TlsConfig::resolve(const std::vector<std::string>& names) const {
  if (!cert_file.empty() || !key_file.empty()) {
    if (cert_file.empty() || key_file.empty())
      throw base::config::Error("[tls] cert_file and key_file must be set together");
    return {cert_file, key_file, ca_file, false};
  }
  std::vector<std::string> all = local_names();
  for (auto& n : names)
    if (std::find(all.begin(), all.end(), n) == all.end()) all.push_back(n);
  auto f = net::ensure_local_ca(dir, all);
  return {f.cert, f.key, f.ca_cert, true};
}

}  // namespace servers
