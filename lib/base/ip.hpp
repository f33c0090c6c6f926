// IP addresses, transport endpoints and CIDR ranges as plain values (no sockets): shared by the codecs
// (STUN XOR-*-ADDRESS), policy (peer ranges) and the I/O shell (sockaddr conversion).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace base {

enum class Family : uint8_t { V4 = 4, V6 = 6 };

class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0
  static IpAddress v4(uint32_t host_order);
  static IpAddress v4(const uint8_t b[4]);
  static IpAddress v6(const uint8_t b[16]);
  static std::optional<IpAddress> parse(std::string_view text);  // dotted quad or RFC 4291 text

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::V4; }
  const uint8_t* data() const { return b_.data(); }
  size_t size() const { return is_v4() ? 4 : 16; }
  uint32_t v4_host_order() const;
  // ::ffff:a.b.c.d seen as a.b.c.d, so policy checks cannot be bypassed with the mapped form.
  IpAddress unmapped() const;
  bool is_v4_mapped() const;
  std::string to_string() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.family_ == b.family_ && a.b_ == b.b_;
  }
  friend bool operator!=(const IpAddress& a, const IpAddress& b) { return !(a == b); }
  size_t hash() const;

 private:
  std::array<uint8_t, 16> b_{};
  Family family_ = Family::V4;
};

struct Endpoint {
  IpAddress addr;
  uint16_t port = 0;

  static std::optional<Endpoint> parse(std::string_view text);  // "1.2.3.4:5", "[::1]:5"
  static std::optional<Endpoint> from_sockaddr(const sockaddr* sa);
  // Returns the length to pass to sendto/bind.
  socklen_t to_sockaddr(sockaddr_storage& ss) const;
  std::string to_string() const;
  friend bool operator==(const Endpoint& a, const Endpoint& b) { return a.port == b.port && a.addr == b.addr; }
  friend bool operator!=(const Endpoint& a, const Endpoint& b) { return !(a == b); }
  size_t hash() const { return addr.hash() * 31 + port; }
};

class Cidr {
 public:
  static std::optional<Cidr> parse(std::string_view text);  // "10.0.0.0/8", "::1/128", "1.2.3.4"
  bool contains(const IpAddress& a) const;
  std::string to_string() const;
  const IpAddress& network() const { return net_; }
  int prefix() const { return prefix_; }

 private:
  IpAddress net_;
  int prefix_ = 0;
};

}  // namespace base

template <>
struct std::hash<base::IpAddress> {
  size_t operator()(const base::IpAddress& a) const { return a.hash(); }
};
template <>
struct std::hash<base::Endpoint> {
  size_t operator()(const base::Endpoint& e) const { return e.hash(); }
};
