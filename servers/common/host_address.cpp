#include "common/host_address.hpp"

#include <ifaddrs.h>
#include <net/if.h>

#include "base/ip.hpp"

namespace servers {

std::string primary_address() {
  ifaddrs* list = nullptr;
  std::string found = "127.0.0.1";
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
        continue;
      if (auto ep = base::Endpoint::from_sockaddr(i->ifa_addr)) {
        found = ep->addr.to_string();
        break;
      }
    }
    freeifaddrs(list);
  }
  return found;
}

}  // namespace servers
