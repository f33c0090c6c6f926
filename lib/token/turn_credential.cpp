#include "token/turn_credential.hpp"

#include <algorithm>
#include <charconv>

#include "base/encoding.hpp"
#include "crypto/hash.hpp"

namespace token {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t to_int(std::string_view s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

std::optional<int64_t> ephemeral_expiry(std::string_view username) {
  // coturn's "Texp:Tid": the timestamp is everything before the first ':'.
  auto first = username.find(':');
  if (first == std::string_view::npos) return std::nullopt;
  if (all_digits(username.substr(0, first)) && first + 1 < username.size()) return to_int(username.substr(0, first));
  // webims' "Tid:Texp" (protocols.md): Tid is base64url, never all digits, so the last part decides.
  auto last = username.rfind(':');
  if (last + 1 < username.size() && last > 0 && all_digits(username.substr(last + 1))) return to_int(username.substr(last + 1));
  return std::nullopt;
}

std::string ephemeral_password(const TurnKey& key, std::string_view username) {
  auto k = base::as_bytes(key.secret);
  auto u = base::as_bytes(username);
  if (key.hmac == "sha256") {
    auto d = crypto::hmac_sha256(k, u);
    return base::base64_encode(base::Bytes(d.data(), d.size()));
  }
  auto d = crypto::hmac_sha1(k, u);
  return base::base64_encode(base::Bytes(d.data(), d.size()));
}

EphemeralCredential mint_ephemeral(const TurnKey& key, int64_t texp, base::Random& random, bool coturn_order) {
  EphemeralCredential c;
  do {
    uint8_t id[16];
    random.fill(id);
    c.tid = base::base64url_encode(base::Bytes(id, sizeof id));
  } while (std::all_of(c.tid.begin(), c.tid.end(), [](char ch) { return ch >= '0' && ch <= '9'; }));
  // (coturn tells the two parts apart by "all digits")
  c.texp = texp;
  c.username = coturn_order ? std::to_string(texp) + ":" + c.tid : c.tid + ":" + std::to_string(texp);
  c.password = ephemeral_password(key, c.username);
  return c;
}

}  // namespace token
