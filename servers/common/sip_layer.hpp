// The SIP transport layer (RFC 3261 §18, lib/net) as the proxies' logic sees it: peers as sip::Hop
// values ("UDP"/"TCP"/"TLS" as in Via, the connection as the flow), and messages the layer gives
// back undelivered already parsed. Shared by the eP-CSCF's side toward the core and the core.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/sip_transport.hpp"
#include "sip/message.hpp"
#include "sip/proxy.hpp"

namespace servers {

// "TCP" and "TLS" as in Via; anything else is UDP (callers check the transports they support).
net::SipTransport transport_of(std::string_view via_transport);
// Where the layer sends what the logic addresses to `to`.
net::SipPeer peer_of(const sip::Hop& to);

// What the logic takes from the layer. Each hook reads the clock itself.
struct SipHooks {
  std::function<void(const sip::Hop& from, sip::Message msg)> on_message;
  std::function<void(uint64_t flow)> on_flow_closed;  // a TCP/TLS connection went away
  std::function<void(const sip::Message& msg)> on_undelivered;  // queued on a connection that never came up
};

// Binds `listen` as net::SipTransportLayer does (and throws as it does). `in_process`: see
// net::SipTransportOptions.
std::unique_ptr<net::SipTransportLayer> open_sip_layer(boost::asio::io_context& io, const std::vector<std::string>& listen,
                                                       SipHooks hooks, std::shared_ptr<boost::asio::ssl::context> server_tls,
                                                       std::shared_ptr<boost::asio::ssl::context> client_tls, bool in_process);

}  // namespace servers
