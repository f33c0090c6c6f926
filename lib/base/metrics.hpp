// Prometheus metrics registry: counters and gauges kept in memory, rendered in the text exposition
// format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/). No I/O: an HTTP
// listener serves render() at /metrics (protocols.md "Ports").
//
// Hot paths hold a Counter& / Gauge& obtained once at start-up; inc()/add() are one relaxed atomic
// operation. Values that live elsewhere (per-thread counters, table sizes) are reported by a
// Collector at scrape time instead of being mirrored into a Gauge.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace base::metrics {

// Label name/value pairs. Order does not matter: {a,b} and {b,a} name the same series.
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class Kind { Counter, Gauge };

class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;
  void inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;
  void set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  void add(int64_t d) { v_.fetch_add(d, std::memory_order_relaxed); }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// Receives the samples a Collector reports during render(). Samples with the same name and labels
// (from several collectors, or a collector and a registered metric) are summed, so per-thread
// collectors may each report their own share. A sample whose name or labels are not valid
// Prometheus identifiers, or whose type contradicts an existing family, is dropped.
class Sink {
 public:
  void counter(const std::string& name, const std::string& help, const Labels& labels, double value);
  void gauge(const std::string& name, const std::string& help, const Labels& labels, double value);

 private:
  friend class Registry;
  struct Family {
    std::string help;
    Kind kind;
    // Canonical (sorted, escaped) label text → value. long double holds every uint64/int64 exactly.
    std::map<std::string, long double> samples;
  };
  Sink() = default;
  void add(const std::string& name, const std::string& help, Kind kind, const std::string& label_text, long double v);
  std::map<std::string, Family> families_;
};

// Thread-safe. counter()/gauge() return the same object for the same name and labels; references
// stay valid for the registry's lifetime. Invalid names, or re-registering a name with another type,
// are programming errors and throw std::invalid_argument.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});

  // Values computed at scrape time (e.g. per-thread counters summed): the callback adds samples.
  // Collectors run on the thread calling render(), without the registry lock held (they may
  // register metrics). The returned id removes the collector, e.g. when its owner is destroyed.
  using Collector = std::function<void(Sink&)>;
  using CollectorId = uint64_t;
  CollectorId add_collector(Collector c);
  void remove_collector(CollectorId id);

  // Text exposition format 0.0.4: families sorted by name, `# HELP` and `# TYPE` once per family,
  // then its samples; label values and help text escaped.
  std::string render() const;

  // The media type to send with render()'s output.
  static constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Family;
  Family& family(const std::string& name, const std::string& help, Kind kind);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;
  std::vector<std::pair<CollectorId, std::shared_ptr<Collector>>> collectors_;
  CollectorId next_collector_id_ = 1;
};

// Prometheus identifier rules: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* and not starting with "__" (reserved).
bool valid_metric_name(const std::string& name);
bool valid_label_name(const std::string& name);

}  // namespace base::metrics
