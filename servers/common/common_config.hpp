// Sections every server shares: [log], [store], [tls].
#pragma once

#include <string>
#include <vector>

#include "base/config.hpp"

namespace servers {

struct LogConfig {
  std::string level = "info";
  void describe(base::config::Binder& b);
  void validate() const;  // throws base::config::Error
  void apply() const;     // sets the process log level
};

struct StoreConfig {
  std::string url = "sqlite://./var/webims.db";
  void describe(base::config::Binder& b);
};

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  std::string dir = "./var/tls";
  void describe(base::config::Binder& b);
  // Certificate and key to serve: the configured ones, or a local CA and a certificate generated
  // under `dir` (first start of a self-contained deployment) for `names` and local_names(), so
  // every listener of one host presents the same certificate, valid however a browser reaches it.
  struct Files { std::string cert, key, ca; bool generated; };
  Files resolve(const std::vector<std::string>& names = {}) const;
  // localhost, 127.0.0.1, ::1 and the host's primary address (servers::primary_address()).
  static std::vector<std::string> local_names();
};

}  // namespace servers
