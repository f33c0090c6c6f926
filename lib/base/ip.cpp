#include "base/ip.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace base {

IpAddress IpAddress::v4(uint32_t h) {
  IpAddress a;
  a.family_ = Family::V4;
  a.b_[0] = uint8_t(h >> 24);
  a.b_[1] = uint8_t(h >> 16);
  a.b_[2] = uint8_t(h >> 8);
  a.b_[3] = uint8_t(h);
  return a;
}

IpAddress IpAddress::v4(const uint8_t b[4]) {
  IpAddress a;
  a.family_ = Family::V4;
  std::memcpy(a.b_.data(), b, 4);
  return a;
}

IpAddress IpAddress::v6(const uint8_t b[16]) {
  IpAddress a;
  a.family_ = Family::V6;
  std::memcpy(a.b_.data(), b, 16);
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = 0;
  uint8_t b[16];
  if (inet_pton(AF_INET, buf, b) == 1) return v4(b);
  if (inet_pton(AF_INET6, buf, b) == 1) return v6(b);
  return std::nullopt;
}

uint32_t IpAddress::v4_host_order() const {
  return uint32_t(b_[0]) << 24 | uint32_t(b_[1]) << 16 | uint32_t(b_[2]) << 8 | b_[3];
}

bool IpAddress::is_v4_mapped() const {
  static constexpr uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return family_ == Family::V6 && std::memcmp(b_.data(), prefix, 12) == 0;
}

IpAddress IpAddress::unmapped() const { return is_v4_mapped() ? v4(b_.data() + 12) : *this; }

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, b_.data(), buf, sizeof buf);
  return buf;
}

size_t IpAddress::hash() const {
  // FNV-1a over the meaningful bytes: cheap and good enough for flow tables.
  uint64_t h = 1469598103934665603ull ^ uint8_t(family_);
  for (size_t i = 0; i < size(); ++i) h = (h ^ b_[i]) * 1099511628211ull;
  return size_t(h);
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // bare IPv6 needs brackets
  }
  auto a = IpAddress::parse(host);
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (!a || ec != std::errc() || ptr != port.data() + port.size() || p > 65535 || port.empty()) return std::nullopt;
  return Endpoint{*a, uint16_t(p)};
}

std::optional<Endpoint> Endpoint::from_sockaddr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    auto* s = reinterpret_cast<const sockaddr_in*>(sa);
    return Endpoint{IpAddress::v4(reinterpret_cast<const uint8_t*>(&s->sin_addr)), ntohs(s->sin_port)};
  }
  if (sa->sa_family == AF_INET6) {
    auto* s = reinterpret_cast<const sockaddr_in6*>(sa);
    return Endpoint{IpAddress::v6(s->sin6_addr.s6_addr), ntohs(s->sin6_port)};
  }
  return std::nullopt;
}

socklen_t Endpoint::to_sockaddr(sockaddr_storage& ss) const {
  std::memset(&ss, 0, sizeof ss);
  if (addr.is_v4()) {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    std::memcpy(&s->sin_addr, addr.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
  s->sin6_family = AF_INET6;
  s->sin6_port = htons(port);
  std::memcpy(&s->sin6_addr, addr.data(), 16);
  return sizeof(sockaddr_in6);
}

std::string Endpoint::to_string() const {
  return addr.is_v4() ? addr.to_string() + ":" + std::to_string(port)
                      : "[" + addr.to_string() + "]:" + std::to_string(port);
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  auto a = IpAddress::parse(text.substr(0, slash));
  if (!a) return std::nullopt;
  int max = a->is_v4() ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    auto p = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc() || ptr != p.data() + p.size() || p.empty() || prefix < 0 || prefix > max) return std::nullopt;
  }
  Cidr c;
  c.net_ = *a;
  c.prefix_ = prefix;
  return c;
}

bool Cidr::contains(const IpAddress& raw) const {
  IpAddress a = raw.unmapped();
  if (a.family() != net_.family()) return false;
  int full = prefix_ / 8, rest = prefix_ % 8;
  if (std::memcmp(a.data(), net_.data(), size_t(full)) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = uint8_t(0xff << (8 - rest));
  return (a.data()[full] & mask) == (net_.data()[full] & mask);
}

std::string Cidr::to_string() const { return net_.to_string() + "/" + std::to_string(prefix_); }

}  // namespace base
