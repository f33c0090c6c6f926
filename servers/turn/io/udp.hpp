// UDP socket plumbing for the relay path: sockets with SO_REUSEPORT and PKTINFO, and batched
// receive/send with recvmmsg/sendmmsg. Raw syscalls on purpose: this is the hot path
// (architecture.md "Threading and I/O"), and batching is not something Asio offers.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "base/ip.hpp"

namespace turn::io {

struct UdpOptions {
  bool reuse_port = false;
  bool pktinfo = false;   // learn the destination address of each datagram (wildcard listeners)
  int buffer_bytes = 0;   // SO_RCVBUF/SO_SNDBUF, 0 = kernel default
  bool dont_fragment = false;
};

// A bound non-blocking UDP socket, or -1 with `err` set (errno of the failing call in `errno_out`).
int open_udp(const base::Endpoint& bind_to, const UdpOptions& o, std::string& err, int* errno_out = nullptr);
base::Endpoint local_endpoint(int fd);

// Adds / reads IP_PKTINFO or IPV6_PKTINFO control data.
size_t put_pktinfo(uint8_t* control, size_t cap, const base::IpAddress& src);
std::optional<base::IpAddress> get_pktinfo(msghdr& h);

}  // namespace turn::io
