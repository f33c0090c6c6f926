#include "config.hpp"

#include <algorithm>
#include <sstream>

namespace cli {

void AllConfig::describe(base::config::Binder& b) {
  b.section("all", "`webims all` only: the self-contained deployment.");
  b.field("demo", demo,
          "On first start (a store without any subscriber), create demo data: subscribers alice and bob of\n"
          "[core] home_domain (bob linked to the web account carol, both allowing [wwsf] id), a guest pool of five\n"
          "(*@guest.<home_domain>), all with random passwords; listed on standard output at every start while they\n"
          "exist. false: none created, none listed.");
}

void Config::describe(base::config::Binder& b, const std::vector<Section>& only) {
  auto want = [&](Section s) { return only.empty() || std::find(only.begin(), only.end(), s) != only.end(); };
  if (want(Section::Log)) log.describe(b);
  if (want(Section::Store)) store.describe(b);
  if (want(Section::Tls)) tls.describe(b);
  if (want(Section::Turn)) turn.describe(b);
  if (want(Section::Pcscf)) pcscf.describe(b);
  if (want(Section::Core)) core.describe(b);
  if (want(Section::Waf)) waf.describe(b);
  if (want(Section::Wwsf)) wwsf.describe(b);
  if (want(Section::All)) all.describe(b);
}

Config load_config(const std::string& path) {
  Config c;
  if (path.empty()) return c;
  auto doc = base::config::parse_file(path);
  auto b = base::config::Binder::loader(base::config::root_of(doc));
  c.describe(b);
  try {
    b.finish();
  } catch (const base::config::Error& e) {
    throw base::config::Error(path + ": " + e.what());
  }
  return c;
}

std::string print_config(Config& c, const std::vector<Section>& sections) {
  std::ostringstream os;
  os << "# webims configuration (effective values; secrets masked)\n";
  auto b = base::config::Binder::printer(os);
  c.describe(b, sections);
  return os.str();
}

}  // namespace cli
