#include "base/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace base::metrics {
namespace {

bool name_char(char c, bool first, bool colon_ok) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (c == ':') return colon_ok;
  return !first && c >= '0' && c <= '9';
}

void escape_into(std::string& out, const std::string& s, bool quote) {
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (quote && c == '"') out += "\\\"";
    else out += c;
  }
}

// `a="x",b="y"` with names sorted, so the same set in any order gives the same series. False when a
// name is invalid or repeated.
bool label_text(const Labels& labels, std::string& out) {
  out.clear();
  if (labels.empty()) return true;
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(labels.size());
  for (auto& l : labels) sorted.push_back(&l);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (!valid_label_name(sorted[i]->first)) return false;
    if (i > 0 && sorted[i]->first == sorted[i - 1]->first) return false;
    if (i > 0) out += ',';
    out += sorted[i]->first;
    out += "=\"";
    escape_into(out, sorted[i]->second, true);
    out += '"';
  }
  return true;
}

std::string format_value(long double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v)) {
    if (v >= 0 && v <= 18446744073709551615.0L) {
      snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
      return buf;
    }
    if (v < 0 && v >= -9223372036854775808.0L) {
      snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
      return buf;
    }
  }
  snprintf(buf, sizeof buf, "%.17Lg", v);
  return buf;
}

}  // namespace

bool valid_metric_name(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, true)) return false;
  return true;
}

bool valid_label_name(const std::string& name) {
  if (name.empty() || name.rfind("__", 0) == 0) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, false)) return false;
  return true;
}

// ---- Sink ------------------------------------------------------------------------------------------

void Sink::add(const std::string& name, const std::string& help, Kind kind, const std::string& text,
               long double v) {
  auto [it, inserted] = families_.try_emplace(name);
  Family& f = it->second;
  if (inserted) {
    f.help = help;
    f.kind = kind;
  } else if (f.kind != kind) {
    return;  // a family has one type; the exposition format cannot say otherwise
  }
  f.samples[text] += v;
}

void Sink::counter(const std::string& name, const std::string& help, const Labels& labels, double value) {
  std::string text;
  if (!valid_metric_name(name) || !label_text(labels, text)) return;
  add(name, help, Kind::Counter, text, value);
}

void Sink::gauge(const std::string& name, const std::string& help, const Labels& labels, double value) {
  std::string text;
  if (!valid_metric_name(name) || !label_text(labels, text)) return;
  add(name, help, Kind::Gauge, text, value);
}

// ---- Registry --------------------------------------------------------------------------------------

struct Registry::Family {
  std::string help;
  Kind kind;
  std::map<std::string, std::unique_ptr<Counter>> counters;
  std::map<std::string, std::unique_ptr<Gauge>> gauges;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family(const std::string& name, const std::string& help, Kind kind) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name '" + name + "'");
  auto& slot = families_[name];
  if (!slot) {
    slot = std::make_unique<Family>();
    slot->help = help;
    slot->kind = kind;
  } else if (slot->kind != kind) {
    throw std::invalid_argument("metric '" + name + "' registered as both counter and gauge");
  }
  return *slot;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::string text;
  if (!label_text(labels, text))
    throw std::invalid_argument("invalid or repeated label name for metric '" + name + "'");
  std::lock_guard lock(mu_);
  auto& slot = family(name, help, Kind::Counter).counters[text];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::string text;
  if (!label_text(labels, text))
    throw std::invalid_argument("invalid or repeated label name for metric '" + name + "'");
  std::lock_guard lock(mu_);
  auto& slot = family(name, help, Kind::Gauge).gauges[text];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Registry::CollectorId Registry::add_collector(Collector c) {
  std::lock_guard lock(mu_);
  CollectorId id = next_collector_id_++;
  collectors_.emplace_back(id, std::make_shared<Collector>(std::move(c)));
  return id;
}

void Registry::remove_collector(CollectorId id) {
  std::lock_guard lock(mu_);
  std::erase_if(collectors_, [id](auto& e) { return e.first == id; });
}

std::string Registry::render() const {
  Sink sink;
  std::vector<std::shared_ptr<Collector>> collectors;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, f] : families_) {
      for (auto& [text, c] : f->counters) sink.add(name, f->help, Kind::Counter, text, c->value());
      for (auto& [text, g] : f->gauges) sink.add(name, f->help, Kind::Gauge, text, g->value());
    }
    for (auto& [id, c] : collectors_) collectors.push_back(c);
  }
  for (auto& c : collectors) (*c)(sink);

  std::string out;
  for (auto& [name, f] : sink.families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    escape_into(out, f.help, false);
    out += "\n# TYPE ";
    out += name;
    out += f.kind == Kind::Counter ? " counter\n" : " gauge\n";
    for (auto& [text, v] : f.samples) {
      out += name;
      if (!text.empty()) {
        out += '{';
        out += text;
        out += '}';
      }
      out += ' ';
      out += format_value(v);
      out += '\n';
    }
  }
  return out;
}

}  // namespace base::metrics
