#include "core/logic/identity.hpp"

#include <charconv>

namespace core {

namespace {
char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; }
}  // namespace

std::optional<std::string> canonical_impu(const sip::Uri& uri) {
  if (uri.scheme == sip::Scheme::Tel) {
    std::string out = "tel:";
    for (char c : uri.user)
      if (c != '-' && c != '.' && c != '(' && c != ')') out.push_back(lower(c));
    return out.size() > 4 ? std::optional(out) : std::nullopt;
  }
  if (!uri.is_sip() || !uri.has_user || uri.user.empty()) return std::nullopt;
  std::string out = uri.scheme == sip::Scheme::Sips ? "sips:" : "sip:";
  out += uri.user_unescaped();
  out += '@';
  for (char c : uri.host) out.push_back(lower(c));
  return out;
}

std::optional<std::string> canonical_impu(std::string_view uri_text) {
  auto u = sip::parse_uri(uri_text);
  if (!u) return std::nullopt;
  return canonical_impu(*u);
}

std::optional<std::string> impi_from_impu(const sip::Uri& uri) {
  if (!uri.is_sip() || !uri.has_user || uri.user.empty()) return std::nullopt;
  std::string out = uri.user_unescaped();
  out += '@';
  for (char c : uri.host) out.push_back(lower(c));
  return out;
}

std::optional<sip::Hop> parse_hop(std::string_view text) {
  size_t sp = text.find(' ');
  if (sp == std::string_view::npos || sp == 0) return std::nullopt;
  sip::Hop h;
  h.transport = std::string(text.substr(0, sp));
  std::string_view rest = text.substr(sp + 1);
  size_t sp2 = rest.find(' ');
  auto ep = base::Endpoint::parse(rest.substr(0, sp2));
  if (!ep) return std::nullopt;
  h.remote = *ep;
  if (sp2 != std::string_view::npos) {
    std::string_view f = rest.substr(sp2 + 1);
    if (f.substr(0, 5) != "flow ") return std::nullopt;
    f.remove_prefix(5);
    auto r = std::from_chars(f.data(), f.data() + f.size(), h.flow);
    if (r.ec != std::errc() || r.ptr != f.data() + f.size()) return std::nullopt;
  }
  return h;
}

}  // namespace core
