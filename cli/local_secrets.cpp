#include "local_secrets.hpp"

#include <array>

#include "base/encoding.hpp"
#include "crypto/hash.hpp"

namespace cli {

void ensure_turn_secret(Config& c, store::Store& s) {
  if (!c.turn.secrets.empty()) return;
  std::string km = s.local_secret("turn-km", [] {
    std::array<uint8_t, 32> k;
    crypto::random_bytes(k);
    return base::base64_encode(base::Bytes(k.data(), k.size()));
  });
  c.turn.secrets.push_back({"local", km, "sha1"});
}

}  // namespace cli
