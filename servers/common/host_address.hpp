#pragma once

#include <string>

namespace servers {

// The first non-loopback IPv4 address of an interface that is up, else "127.0.0.1": what a
// server advertises when its configuration names no address (relay address, Via/Path host).
std::string primary_address();

}  // namespace servers
