#include "turn/logic/peer_policy.hpp"

#include <algorithm>
#include <iterator>

namespace turn {

PeerPolicy::PeerPolicy(std::vector<base::Cidr> allowed, std::vector<base::Cidr> denied, std::vector<base::IpAddress> own,
                       const OwnRelays* relays)
    : allowed_(std::move(allowed)), denied_(std::move(denied)), own_(std::move(own)), relays_(relays) {
  for (auto& a : own_) a = a.unmapped();
}

const std::vector<base::Cidr>& PeerPolicy::special_ranges() {
  // RFC 6890 special-purpose blocks a relay has no business reaching, plus multicast.
  static const std::vector<base::Cidr> ranges = [] {
    std::vector<base::Cidr> v;
    for (const char* s : {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
                          "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
                          "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "64:ff9b:1::/48",
                          "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8"})
      v.push_back(*base::Cidr::parse(s));
    return v;
  }();
  return ranges;
}

PeerPolicy::Verdict PeerPolicy::check(const base::Endpoint& peer) const {
  base::IpAddress a = peer.addr.unmapped();
  auto in = [&](const std::vector<base::Cidr>& list) {
    return std::any_of(list.begin(), list.end(), [&](const base::Cidr& c) { return c.contains(a); });
  };
  if (in(denied_)) return Verdict::DeniedByConfig;
  if (peer.port == 0) return Verdict::DeniedSpecial;
  if (in(allowed_)) return Verdict::Allowed;
  bool own = std::find(own_.begin(), own_.end(), a) != own_.end();
  if (!own && !in(special_ranges())) return Verdict::Allowed;
  // Not "own address and a port in relay_ports": other local sockets can sit in that range too.
  if (relays_ && relays_->live({a, peer.port})) return Verdict::AllowedOwnRelay;
  return own ? Verdict::DeniedOwnAddress : Verdict::DeniedSpecial;
}

std::string_view name(PeerPolicy::Verdict v) {
  static constexpr std::string_view n[] = {"allowed", "own_relay", "denied_range", "special_range", "own_address"};
  return size_t(v) < std::size(n) ? n[size_t(v)] : "?";
}

}  // namespace turn
