// The control listener of every server ([x] control_listen, protocols.md "Ports"): /metrics in the
// Prometheus text format from the server's registry, /health as the server's own JSON, 404 for
// anything else. Scrapers, dashboards and tests read these bytes: they stay as they are.
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>

#include "base/metrics.hpp"
#include "net/http_server.hpp"

namespace servers {

// Which methods the pages answer. The core and TURN answer only GET and HEAD (405 "method not
// allowed" otherwise); the eP-CSCF, WAF and WWSF have always answered any method.
enum class ControlMethods { Any, GetHead };

using HealthBody = std::function<std::string()>;

// The answer of the control pages to `r`.
net::HttpResponse control_page(const net::HttpRequest& r, const base::metrics::Registry& metrics,
                               const HealthBody& health, ControlMethods methods);

// An HTTP listener on `url` that answers with control_page. `metrics` and whatever `health` uses
// must outlive the listener's last request (stop it first). Throws as net::HttpServer does.
std::unique_ptr<net::HttpServer> open_control_listener(boost::asio::io_context& io, const std::string& url,
                                                       const base::metrics::Registry& metrics, HealthBody health,
                                                       ControlMethods methods);

}  // namespace servers
