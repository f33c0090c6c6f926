// Declarative TOML configuration: each component describes its keys once (name, default, doc) and
// the same description loads the file, rejects unknown keys, and prints `--print-config` with
// secrets masked. One source for loading, printing and documenting keeps them from drifting.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace base::config {

using Duration = std::chrono::milliseconds;

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Binder {
 public:
  // Load from a parsed document (a toml::table, passed opaquely to keep toml++ out of headers).
  static Binder loader(const void* toml_root);
  // Print the current values with their documentation.
  static Binder printer(std::ostream& out);

  bool loading() const { return out_ == nullptr; }

  // Starts `[name]`. Keys bound until the next section() belong to it.
  void section(std::string_view name, std::string_view doc);
  void field(std::string_view key, std::string& v, std::string_view doc);
  void field(std::string_view key, bool& v, std::string_view doc);
  void field(std::string_view key, int64_t& v, std::string_view doc);
  void field(std::string_view key, int& v, std::string_view doc);
  void field(std::string_view key, std::vector<std::string>& v, std::string_view doc);
  void field(std::string_view key, Duration& v, std::string_view doc);
  // A secret: accepted inline as `key` or from a file as `key_file` (trailing newline removed);
  // always printed masked.
  void secret(std::string_view key, std::string& v, std::string_view doc);

  // `[[section.key]]` arrays of tables.
  template <class T>
  void table_array(std::string_view key, std::vector<T>& v, std::string_view doc,
                   const std::function<void(Binder&, T&)>& each) {
    size_t n = begin_array(key, doc, v.size());
    if (loading()) v.resize(n);
    if (v.empty() && !loading()) {
      T example{};
      Binder sub = element(key, SIZE_MAX);
      each(sub, example);
      return;
    }
    for (size_t i = 0; i < v.size(); ++i) {
      Binder sub = element(key, i);
      each(sub, v[i]);
      sub.finish();
    }
  }

  // Ends loading: throws Error listing unknown keys and bad values.
  void finish();

 private:
  Binder() = default;
  size_t begin_array(std::string_view key, std::string_view doc, size_t current);
  Binder element(std::string_view key, size_t index);
  const void* lookup(std::string_view key);
  void doc_line(std::string_view doc);
  void check_unknown();
  std::string where(std::string_view key) const;
  void print(std::string_view key, const std::string& value_repr, std::string_view doc);

  const void* root_ = nullptr;     // toml::table*
  const void* table_ = nullptr;    // current table
  std::string path_;               // "turn" or "turn.secrets[0]"
  std::vector<std::string> seen_;  // keys bound in the current table
  std::vector<std::string> errors_;
  std::vector<std::string> sections_seen_;
  std::ostream* out_ = nullptr;
  bool commented_ = false;  // printing an example element of an empty array
};

// Reads and parses a TOML file; throws Error with file:line:column on syntax errors.
// Keeps the parsed document alive in `storage`.
std::shared_ptr<void> parse_file(const std::string& path);
std::shared_ptr<void> parse_string(std::string_view text);
const void* root_of(const std::shared_ptr<void>& doc);

std::string toml_quote(std::string_view s);

}  // namespace base::config
