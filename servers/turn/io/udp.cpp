#include "turn/io/udp.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace turn::io {

int open_udp(const base::Endpoint& ep, const UdpOptions& o, std::string& err, int* errno_out) {
  bool v4 = ep.addr.is_v4();
  int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  auto fail = [&](const char* what) {
    int e = errno;
    if (errno_out) *errno_out = e;
    err = std::string(what) + " " + ep.to_string() + ": " + std::strerror(e);
    if (fd >= 0) ::close(fd);
    return -1;
  };
  if (fd < 0) return fail("socket");
  int one = 1;
  if (!v4 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) return fail("IPV6_V6ONLY");
  if (o.reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) return fail("SO_REUSEPORT");
  if (o.buffer_bytes > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o.buffer_bytes, sizeof o.buffer_bytes);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o.buffer_bytes, sizeof o.buffer_bytes);
  }
  if (o.pktinfo) {
    if (v4 ? setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one)
           : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one))
      return fail("PKTINFO");
  }
  if (o.dont_fragment) {
    int v = v4 ? IP_PMTUDISC_DO : IPV6_PMTUDISC_DO;
    if (v4 ? setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v)
           : setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v))
      return fail("MTU_DISCOVER");
  }
  sockaddr_storage ss;
  socklen_t len = ep.to_sockaddr(ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) return fail("bind");
  return fd;
}

base::Endpoint local_endpoint(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    if (auto e = base::Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss))) return *e;
  return {};
}

size_t put_pktinfo(uint8_t* control, size_t cap, const base::IpAddress& src) {
  std::memset(control, 0, cap);
  msghdr h{};
  h.msg_control = control;
  if (src.is_v4()) {
    h.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
    if (h.msg_controllen > cap) return 0;
    cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo pi{};
    std::memcpy(&pi.ipi_spec_dst, src.data(), 4);
    std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
  } else {
    h.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
    if (h.msg_controllen > cap) return 0;
    cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo pi{};
    std::memcpy(&pi.ipi6_addr, src.data(), 16);
    std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
  }
  return h.msg_controllen;
}

std::optional<base::IpAddress> get_pktinfo(msghdr& h) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      return base::IpAddress::v4(reinterpret_cast<const uint8_t*>(&pi.ipi_addr));
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      return base::IpAddress::v6(pi.ipi6_addr.s6_addr);
    }
  }
  return std::nullopt;
}

}  // namespace turn::io
