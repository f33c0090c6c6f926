#include "base/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <ostream>
#include <sstream>

#include "base/clock.hpp"

namespace base::config {
namespace {

const toml::table* tbl(const void* p) { return static_cast<const toml::table*>(p); }

std::string read_secret_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot read secret file '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string source_of(const toml::node& n) {
  const auto& b = n.source().begin;
  return " (line " + std::to_string(b.line) + ")";
}

}  // namespace

std::string toml_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (uint8_t(c) < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::shared_ptr<void> parse_file(const std::string& path) {
  try {
    auto t = std::make_shared<toml::table>(toml::parse_file(path));
    return t;
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    throw Error(os.str());
  }
}

std::shared_ptr<void> parse_string(std::string_view text) {
  try {
    return std::make_shared<toml::table>(toml::parse(text));
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << "line " << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    throw Error(os.str());
  }
}

const void* root_of(const std::shared_ptr<void>& doc) { return doc.get(); }

Binder Binder::loader(const void* toml_root) {
  Binder b;
  b.root_ = toml_root;
  return b;
}

Binder Binder::printer(std::ostream& out) {
  Binder b;
  b.out_ = &out;
  return b;
}

std::string Binder::where(std::string_view key) const { return "[" + path_ + "] " + std::string(key); }

void Binder::check_unknown() {
  if (!loading() || !table_) return;
  for (auto&& [k, v] : *tbl(table_)) {
    std::string key(k.str());
    if (std::find(seen_.begin(), seen_.end(), key) == seen_.end())
      errors_.push_back("unknown key " + where(key) + source_of(v));
  }
}

void Binder::section(std::string_view name, std::string_view doc) {
  check_unknown();
  seen_.clear();
  path_ = std::string(name);
  sections_seen_.push_back(path_);
  if (loading()) {
    table_ = nullptr;
    if (auto* n = tbl(root_)->get(name)) {
      if (auto* t = n->as_table()) table_ = t;
      else errors_.push_back("'" + path_ + "' must be a table" + source_of(*n));
    }
    return;
  }
  *out_ << "\n";
  doc_line(doc);
  *out_ << "[" << name << "]\n";
}

const void* Binder::lookup(std::string_view key) {
  seen_.emplace_back(key);
  if (!table_) return nullptr;
  return tbl(table_)->get(key);
}

void Binder::doc_line(std::string_view doc) {
  std::string_view d = doc;
  while (!d.empty()) {
    auto nl = d.find('\n');
    *out_ << "# " << d.substr(0, nl) << "\n";
    if (nl == std::string_view::npos) break;
    d.remove_prefix(nl + 1);
  }
}

void Binder::print(std::string_view key, const std::string& repr, std::string_view doc) {
  doc_line(doc);
  *out_ << (commented_ ? "# " : "") << key << " = " << repr << "\n";
}

void Binder::field(std::string_view key, std::string& v, std::string_view doc) {
  if (!loading()) return print(key, toml_quote(v), doc);
  auto* n = static_cast<const toml::node*>(lookup(key));
  if (!n) return;
  if (auto s = n->value<std::string>()) v = *s;
  else errors_.push_back(where(key) + " must be a string" + source_of(*n));
}

void Binder::field(std::string_view key, bool& v, std::string_view doc) {
  if (!loading()) return print(key, v ? "true" : "false", doc);
  auto* n = static_cast<const toml::node*>(lookup(key));
  if (!n) return;
  if (auto b = n->value<bool>()) v = *b;
  else errors_.push_back(where(key) + " must be true or false" + source_of(*n));
}

void Binder::field(std::string_view key, int64_t& v, std::string_view doc) {
  if (!loading()) return print(key, std::to_string(v), doc);
  auto* n = static_cast<const toml::node*>(lookup(key));
  if (!n) return;
  if (n->is_integer()) v = n->as_integer()->get();
  else errors_.push_back(where(key) + " must be an integer" + source_of(*n));
}

void Binder::field(std::string_view key, int& v, std::string_view doc) {
  int64_t x = v;
  field(key, x, doc);
  if (loading()) {
    if (x < INT32_MIN || x > INT32_MAX) errors_.push_back(where(key) + " is out of range");
    else v = int(x);
  }
}

void Binder::field(std::string_view key, std::vector<std::string>& v, std::string_view doc) {
  if (!loading()) {
    std::string repr = "[";
    for (size_t i = 0; i < v.size(); ++i) repr += (i ? ", " : "") + toml_quote(v[i]);
    return print(key, repr + "]", doc);
  }
  auto* n = static_cast<const toml::node*>(lookup(key));
  if (!n) return;
  auto* arr = n->as_array();
  if (!arr) {
    errors_.push_back(where(key) + " must be an array of strings" + source_of(*n));
    return;
  }
  std::vector<std::string> out;
  for (auto& e : *arr) {
    if (auto s = e.value<std::string>()) out.push_back(*s);
    else {
      errors_.push_back(where(key) + " must be an array of strings" + source_of(e));
      return;
    }
  }
  v = std::move(out);
}

void Binder::field(std::string_view key, Duration& v, std::string_view doc) {
  if (!loading()) return print(key, toml_quote(format_duration(v)), doc);
  auto* n = static_cast<const toml::node*>(lookup(key));
  if (!n) return;
  if (auto s = n->value<std::string>()) {
    if (!parse_duration(s->c_str(), v))
      errors_.push_back(where(key) + " is not a duration like \"90s\", \"15m\", \"24h\"" + source_of(*n));
  } else if (n->is_integer()) {
    v = std::chrono::seconds(n->as_integer()->get());
  } else {
    errors_.push_back(where(key) + " must be a duration string" + source_of(*n));
  }
}

void Binder::secret(std::string_view key, std::string& v, std::string_view doc) {
  std::string file_key = std::string(key) + "_file";
  if (!loading()) {
    return print(key, toml_quote(v.empty() ? "" : "********"),
                 std::string(doc) + " (or " + file_key + " = path; printed masked)");
  }
  auto* n = static_cast<const toml::node*>(lookup(key));
  auto* f = static_cast<const toml::node*>(lookup(file_key));
  if (n && f) {
    errors_.push_back(where(key) + " and " + file_key + " are both set; use one");
    return;
  }
  if (n) {
    if (auto s = n->value<std::string>()) v = *s;
    else errors_.push_back(where(key) + " must be a string" + source_of(*n));
  } else if (f) {
    auto s = f->value<std::string>();
    if (!s) {
      errors_.push_back(where(file_key) + " must be a path string" + source_of(*f));
      return;
    }
    try {
      v = read_secret_file(*s);
    } catch (const Error& e) {
      errors_.push_back(where(file_key) + ": " + e.what());
    }
  }
}

size_t Binder::begin_array(std::string_view key, std::string_view doc, size_t current) {
  if (!loading()) {
    *out_ << "\n";
    doc_line(doc);
    if (current == 0) *out_ << "# (none configured; an entry looks like this)\n";
    return current;
  }
  auto* n = static_cast<const toml::node*>(lookup(key));
  if (!n) return current;
  auto* arr = n->as_array();
  if (!arr || !arr->is_array_of_tables()) {
    errors_.push_back(where(key) + " must be an array of tables ([[" + path_ + "." + std::string(key) + "]])" +
                      source_of(*n));
    return current;
  }
  return arr->size();
}

Binder Binder::element(std::string_view key, size_t index) {
  Binder b;
  b.root_ = root_;
  b.out_ = out_;
  b.path_ = path_ + "." + std::string(key) + (index == SIZE_MAX ? "" : "[" + std::to_string(index) + "]");
  if (loading()) {
    if (table_)
      if (auto* arr = tbl(table_)->get_as<toml::array>(key))
        if (index < arr->size()) b.table_ = (*arr)[index].as_table();
  } else {
    b.commented_ = index == SIZE_MAX;
    *out_ << (b.commented_ ? "# " : "") << "[[" << path_ << "." << key << "]]\n";
  }
  b.errors_.clear();
  return b;
}

void Binder::finish() {
  check_unknown();
  seen_.clear();
  table_ = nullptr;
  if (loading() && root_ && path_.find('.') == std::string::npos) {
    for (auto&& [k, v] : *tbl(root_)) {
      std::string key(k.str());
      if (std::find(sections_seen_.begin(), sections_seen_.end(), key) == sections_seen_.end())
        errors_.push_back("unknown section [" + key + "]" + source_of(v));
    }
  }
  if (!errors_.empty()) {
    std::string msg = "configuration error";
    msg += errors_.size() > 1 ? "s:" : ":";
    for (auto& e : errors_) msg += "\n  " + e;
    errors_.clear();
    throw Error(msg);
  }
}

}  // namespace base::config
