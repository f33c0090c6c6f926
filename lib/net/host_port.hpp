// Splits the "host[:port]" part of a listen URL; IPv6 addresses in brackets. Shared by the
// WebSocket, HTTP and SIP listeners.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace net::detail {

// Fills host and port (empty when absent); on bad text returns why. `example` shows the bracketed
// IPv6 form for the caller's scheme, e.g. "ws://[::1]:7080".
inline std::optional<std::string> split_host_port(std::string_view rest, std::string_view& host,
                                                  std::string_view& port, std::string_view example) {
  host = port = {};
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return "missing ']' after the IPv6 address";
    host = rest.substr(1, close - 1);
    auto after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "expected ':' and a port after ']'";
      port = after.substr(1);
    }
    return std::nullopt;
  }
  auto colon = rest.find(':');
  host = rest.substr(0, colon);
  if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  if (port.find(':') != std::string_view::npos)
    return "write IPv6 addresses in brackets, e.g. " + std::string(example);
  return std::nullopt;
}

}  // namespace net::detail
