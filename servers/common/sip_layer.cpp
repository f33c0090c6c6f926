#include "common/sip_layer.hpp"

namespace servers {

net::SipTransport transport_of(std::string_view t) {
  if (t == "TCP") return net::SipTransport::Tcp;
  if (t == "TLS") return net::SipTransport::Tls;
  return net::SipTransport::Udp;
}

net::SipPeer peer_of(const sip::Hop& to) {
  net::SipPeer peer;
  peer.transport = transport_of(to.transport);
  peer.remote = to.remote;
  peer.connection = to.flow;
  return peer;
}

std::unique_ptr<net::SipTransportLayer> open_sip_layer(boost::asio::io_context& io, const std::vector<std::string>& listen,
                                                       SipHooks hooks, std::shared_ptr<boost::asio::ssl::context> server_tls,
                                                       std::shared_ptr<boost::asio::ssl::context> client_tls, bool in_process) {
  net::SipTransportOptions options;
  options.in_process = in_process;
  auto layer = std::make_unique<net::SipTransportLayer>(
      io, listen,
      [on_message = std::move(hooks.on_message)](const net::SipPeer& from, sip::Message msg) {
        on_message({std::string(net::to_string(from.transport)), from.remote, from.connection}, std::move(msg));
      },
      [on_flow_closed = std::move(hooks.on_flow_closed)](const net::SipPeer& peer) {
        if (peer.connection) on_flow_closed(peer.connection);
      },
      std::move(server_tls), std::move(client_tls), options);
  layer->set_on_undelivered([on_undelivered = std::move(hooks.on_undelivered)](const net::SipPeer&, std::string_view bytes) {
    if (auto m = sip::parse_message(bytes)) on_undelivered(*m);
  });
  return layer;
}

}  // namespace servers
