#include "common/control_listener.hpp"

namespace servers {

net::HttpResponse control_page(const net::HttpRequest& r, const base::metrics::Registry& metrics,
                               const HealthBody& health, ControlMethods methods) {
  net::HttpResponse res;
  if (methods == ControlMethods::GetHead && r.method != "GET" && r.method != "HEAD") {
    res.status = 405;
    res.body = "method not allowed\n";
  } else if (r.path == "/metrics") {
    res.content_type = base::metrics::Registry::content_type;
    res.body = metrics.render();
  } else if (r.path == "/health") {
    res.content_type = "application/json";
    res.body = health();
  } else {
    res.status = 404;
    res.body = "not found\n";
  }
  return res;
}

std::unique_ptr<net::HttpServer> open_control_listener(boost::asio::io_context& io, const std::string& url,
                                                       const base::metrics::Registry& metrics, HealthBody health,
                                                       ControlMethods methods) {
  return std::make_unique<net::HttpServer>(
      io, url, net::HttpHandler([&metrics, health = std::move(health), methods](const net::HttpRequest& r) {
        return control_page(r, metrics, health, methods);
      }));
}

}  // namespace servers
