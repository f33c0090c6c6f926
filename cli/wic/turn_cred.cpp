#include "wic/turn_cred.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "sip/uri.hpp"
#include "token/turn_credential.hpp"

namespace wic {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool printable_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7F && c != ':' && c != ';' && c != '"' && c != ',';
  });
}

}  // namespace

std::optional<TurnCredential> parse_turn_credential(std::string_view value) {
  value = trim(value);
  size_t semi = value.find(';');
  std::string_view main = trim(value.substr(0, semi));
  std::string_view params = semi == std::string_view::npos ? std::string_view{} : value.substr(semi);

  size_t c1 = main.find(':');
  if (c1 == std::string_view::npos) return std::nullopt;
  size_t c2 = main.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return std::nullopt;
  std::string_view a = main.substr(0, c1), b = main.substr(c1 + 1, c2 - c1 - 1), pwd = main.substr(c2 + 1);
  if (!printable_token(a) || !printable_token(b) || !printable_token(pwd)) return std::nullopt;

  TurnCredential out;
  out.username = std::string(main.substr(0, c2));
  out.password = std::string(pwd);
  auto texp = token::ephemeral_expiry(out.username);
  if (!texp) return std::nullopt;
  out.expires = *texp;

  if (!params.empty()) {
    auto list = sip::ParamList::parse(params, sip::ParamList::Kind::Header);
    if (!list) return std::nullopt;
    list->for_each([&](const sip::Param& p) {
      std::string name(p.name);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
      if (name == "uri" && p.has_value && !p.value.empty()) out.uris.emplace_back(p.value);
      return true;
    });
  }
  return out;
}

std::optional<TurnUri> parse_turn_uri(std::string_view uri) {
  TurnUri out;
  auto starts = [&](std::string_view p) {
    if (uri.size() < p.size()) return false;
    for (size_t i = 0; i < p.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(uri[i])) != p[i]) return false;
    return true;
  };
  if (starts("turns:")) {
    out.secure = true;
    out.port = 5349;
    out.transport = "tcp";
    uri.remove_prefix(6);
  } else if (starts("turn:")) {
    uri.remove_prefix(5);
  } else {
    return std::nullopt;
  }
  std::string_view query;
  if (size_t q = uri.find('?'); q != std::string_view::npos) {
    query = uri.substr(q + 1);
    uri = uri.substr(0, q);
  }
  std::string_view host = uri, port;
  if (!uri.empty() && uri.front() == '[') {
    size_t close = uri.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = uri.substr(1, close - 1);
    std::string_view rest = uri.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
    }
  } else if (size_t c = uri.rfind(':'); c != std::string_view::npos) {
    host = uri.substr(0, c);
    port = uri.substr(c + 1);
  }
  if (host.empty()) return std::nullopt;
  out.host = std::string(host);
  if (!port.empty() || (uri.size() && uri.back() == ':')) {
    unsigned v = 0;
    auto r = std::from_chars(port.data(), port.data() + port.size(), v);
    if (r.ec != std::errc() || r.ptr != port.data() + port.size() || v == 0 || v > 65535) return std::nullopt;
    out.port = uint16_t(v);
  }
  if (!query.empty()) {
    constexpr std::string_view kTransport = "transport=";
    if (query.substr(0, kTransport.size()) != kTransport) return std::nullopt;
    std::string t(query.substr(kTransport.size()));
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (t != "udp" && t != "tcp") return std::nullopt;
    out.transport = t;
  }
  return out;
}

}  // namespace wic
