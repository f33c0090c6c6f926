// Identity binding (protocols.md "After registration"): after the core's 200 OK to a REGISTER,
// the IMPI and every registered IMPU are bound to the WebSocket connection (and its TLS session).
// Later requests on that connection may only assert a bound identity; closing the connection
// ends the binding, and so does the registration's expiry. Identities are compared as addresses of record (RFC 3261 §10.3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pcscf {

struct Binding {
  std::string impi;
  std::vector<std::string> impus;  // addresses of record, as sip::Uri::address_of_record()
  std::string default_impu;        // the first P-Associated-URI: asserted when none is preferred
  int64_t expires_unix = 0;        // the registration's expiry
  std::string tls_session;
};

class Bindings {
 public:
  // Replaces what the connection had for this IMPI (a re-registration) or adds it.
  void bind(uint64_t connection, Binding b);
  // A deregistration of `impi` on the connection.
  void unbind(uint64_t connection, std::string_view impi);
  void drop_connection(uint64_t connection);
  // Removes the bindings whose registration expired (expires_unix <= now) without a refresh;
  // returns them as (connection, IMPI).
  std::vector<std::pair<uint64_t, std::string>> expire(int64_t now_unix);
  // The binding under which `aor` (canonical form) is registered on the connection.
  const Binding* find(uint64_t connection, std::string_view aor) const;
  bool has_any(uint64_t connection) const;
  size_t connection_count() const { return by_connection_.size(); }
  size_t identity_count() const;
  // Latest registration expiry of the connection (0 if none): bounds TURN credential lifetime.
  int64_t expires(uint64_t connection) const;

 private:
  std::unordered_map<uint64_t, std::vector<Binding>> by_connection_;
};

// The canonical address of record of a URI text ("<sip:Alice@Example.org>" -> "sip:Alice@example.org"),
// nullopt when it does not parse as a sip/sips/tel URI.
std::optional<std::string> canonical_aor(std::string_view uri);

}  // namespace pcscf
