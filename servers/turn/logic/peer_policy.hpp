// Which peers a client may reach through the relay (RFC 8656 §21 security considerations): by
// default nothing inside the operator's or the server's own networks, so a TURN server on the
// edge cannot be used to reach internal services or to loop traffic through itself. The one
// exception is a relayed transport address this very server holds for another allocation: two
// clients of the same server (two browsers on one `webims all`, whose relay candidates are both on
// the server's address) must be able to reach each other without any configuration.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/ip.hpp"
#include "turn/logic/relay_ports.hpp"

namespace turn {

class PeerPolicy {
 public:
  // `own` = this server's relay and listener addresses. `relays` (may be null: no exception) tells
  // which of our relayed transport addresses are live; it must outlive the policy.
  PeerPolicy(std::vector<base::Cidr> allowed, std::vector<base::Cidr> denied, std::vector<base::IpAddress> own,
             const OwnRelays* relays = nullptr);
  enum class Verdict : uint8_t { Allowed, AllowedOwnRelay, DeniedByConfig, DeniedSpecial, DeniedOwnAddress, Count };
  // Order: explicitly denied → refused; explicitly allowed → allowed; outside the special-purpose
  // ranges (loopback, link-local, private, multicast, unspecified...) and our own addresses →
  // allowed; a live relayed transport address of ours → AllowedOwnRelay; anything else → refused,
  // as DeniedOwnAddress when the address is ours (listener and control ports, other local sockets,
  // relay ports no allocation holds) and DeniedSpecial otherwise.
  //
  // AllowedOwnRelay holds for that (address, port) only, but RFC 8656 permissions are per IP
  // address (§9), so the logic marks such a permission and checks the port again on every Send
  // indication; ChannelBind checks the channel's own peer. What the per-IP permission opens the
  // other way: datagrams from our relay address, any port, reach the client. They come from our
  // other relay sockets (each driven by an authenticated client through these same checks) or from
  // local services, which answer only what is sent to them, and nothing reaches them through us; a
  // datagram from outside that forges our address as its source is no different from one forging
  // any permitted peer's (UDP permissions never authenticated sources; Linux drops such IPv4
  // packets as martians anyway). Nothing loops: what a relay socket receives goes to its client,
  // never out of another relay socket.
  Verdict check(const base::Endpoint& peer) const;
  bool allowed(const base::Endpoint& peer) const { return permits(check(peer)); }
  // The per-packet re-check of an AllowedOwnRelay permission: a lookup of one bit.
  bool own_relay(const base::Endpoint& peer) const { return relays_ && relays_->live(peer); }
  static bool permits(Verdict v) { return v == Verdict::Allowed || v == Verdict::AllowedOwnRelay; }
  static const std::vector<base::Cidr>& special_ranges();

 private:
  std::vector<base::Cidr> allowed_, denied_;
  std::vector<base::IpAddress> own_;
  const OwnRelays* relays_;
};

// For logs and the metric label of refusals: "allowed", "own_relay", "denied_range",
// "special_range", "own_address".
std::string_view name(PeerPolicy::Verdict v);

}  // namespace turn
