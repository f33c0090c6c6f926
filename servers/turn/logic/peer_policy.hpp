// Which peers a client may reach through the relay (RFC 8656 §21 security considerations): by
// default nothing inside the operator's or the server's own networks, so a TURN server on the
// edge cannot be used to reach internal services or to loop traffic through itself.
#pragma once

#include <vector>

#include "base/ip.hpp"

namespace turn {

class PeerPolicy {
 public:
  // `own` = this server's relay and listener addresses.
  PeerPolicy(std::vector<base::Cidr> allowed, std::vector<base::Cidr> denied, std::vector<base::IpAddress> own);
  enum class Verdict { Allowed, DeniedByConfig, DeniedSpecial, DeniedOwnAddress };
  // Order: explicitly denied → refused; explicitly allowed → allowed; special-purpose ranges
  // (loopback, link-local, private, multicast, unspecified...) and own addresses → refused.
  Verdict check(const base::Endpoint& peer) const;
  bool allowed(const base::Endpoint& peer) const { return check(peer) == Verdict::Allowed; }
  static const std::vector<base::Cidr>& special_ranges();

 private:
  std::vector<base::Cidr> allowed_, denied_;
  std::vector<base::IpAddress> own_;
};

}  // namespace turn
