#include "pcscf/logic/bindings.hpp"

#include <algorithm>

#include "sip/uri.hpp"

namespace pcscf {

std::optional<std::string> canonical_aor(std::string_view text) {
  if (!text.empty() && text.front() == '<' && text.back() == '>') text = text.substr(1, text.size() - 2);
  auto u = sip::parse_uri(text);
  if (!u || (!u->is_sip() && u->scheme != sip::Scheme::Tel)) return std::nullopt;
  if (u->scheme == sip::Scheme::Tel) return "tel:" + std::string(u->user);
  return u->address_of_record();
}

void Bindings::bind(uint64_t connection, Binding b) {
  auto& list = by_connection_[connection];
  auto it = std::find_if(list.begin(), list.end(), [&](const Binding& x) { return x.impi == b.impi; });
  if (it != list.end()) *it = std::move(b);
  else list.push_back(std::move(b));
}

void Bindings::unbind(uint64_t connection, std::string_view impi) {
  auto it = by_connection_.find(connection);
  if (it == by_connection_.end()) return;
  std::erase_if(it->second, [&](const Binding& x) { return x.impi == impi; });
  if (it->second.empty()) by_connection_.erase(it);
}

void Bindings::drop_connection(uint64_t connection) { by_connection_.erase(connection); }

std::vector<std::pair<uint64_t, std::string>> Bindings::expire(int64_t now_unix) {
  std::vector<std::pair<uint64_t, std::string>> out;
  for (auto it = by_connection_.begin(); it != by_connection_.end();) {
    std::erase_if(it->second, [&](const Binding& b) {
      if (b.expires_unix > now_unix) return false;
      out.emplace_back(it->first, b.impi);
      return true;
    });
    it = it->second.empty() ? by_connection_.erase(it) : std::next(it);
  }
  return out;
}

const Binding* Bindings::find(uint64_t connection, std::string_view aor) const {
  auto it = by_connection_.find(connection);
  if (it == by_connection_.end()) return nullptr;
  for (auto& b : it->second)
    if (std::find(b.impus.begin(), b.impus.end(), aor) != b.impus.end()) return &b;
  return nullptr;
}

bool Bindings::has_any(uint64_t connection) const { return by_connection_.count(connection) > 0; }

size_t Bindings::identity_count() const {
  size_t n = 0;
  for (auto& [c, list] : by_connection_)
    for (auto& b : list) n += b.impus.size();
  return n;
}

int64_t Bindings::expires(uint64_t connection) const {
  auto it = by_connection_.find(connection);
  if (it == by_connection_.end()) return 0;
  int64_t e = 0;
  for (auto& b : it->second) e = std::max(e, b.expires_unix);
  return e;
}

}  // namespace pcscf
