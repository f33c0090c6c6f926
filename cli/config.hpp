// The one configuration file: a section per component (protocols.md "Configuration names").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/common_config.hpp"
#include "core/config.hpp"
#include "pcscf/config.hpp"
#include "turn/config.hpp"
#include "waf/config.hpp"
#include "wwsf/config.hpp"

namespace cli {

enum class Section { Log, Store, Tls, Turn, Pcscf, Core, Wwsf, Waf, All };

// [all]: what only the self-contained deployment (`webims all`) does.
struct AllConfig {
  bool demo = true;
  void describe(base::config::Binder& b);
};

struct Config {
  servers::LogConfig log;
  servers::StoreConfig store;
  servers::TlsConfig tls;
  turn::TurnConfig turn;
  pcscf::PcscfConfig pcscf;
  core::CoreConfig core;
  waf::WafConfig waf;
  wwsf::WwsfConfig wwsf;
  AllConfig all;

  // Binds the given sections (all when empty). Loading binds all so unknown sections are errors.
  void describe(base::config::Binder& b, const std::vector<Section>& only = {});
};

// Loads FILE (or defaults when `path` is empty); throws base::config::Error with a clear message.
Config load_config(const std::string& path);
std::string print_config(Config& c, const std::vector<Section>& sections);

}  // namespace cli
