// libFuzzer target for lib/token/oauth_token (RFC 7635 self-contained tokens, the bytes of a TURN
// request's ACCESS-TOKEN). The first octet picks the AS-RS key (A128GCM or A256GCM) and whether the
// rest is taken as a token to open or as a token body to seal. Invariants (a violation traps):
//  - decoding never reads out of bounds and a success has 1..64 mac_key bytes;
//  - a decoded token re-encoded under the same nonce gives back the input byte for byte (the
//    codec is a bijection on well-formed tokens, so nothing else slips through the tag check);
//  - whatever is sealed opens again to the same fields, and not under the other server name.
// Seeds in corpus/oauth_token/: the coturn-made tokens of oauth_token_test.cpp and truncations.
#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "token/oauth_token.hpp"

namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr std::string_view kServer = "blackdow.carleon.gov";
constexpr std::string_view kKey = "HGkj32KJGiuy098sdfaqbNjOiaz71923";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t mode = data[0];
  base::Bytes in(data + 1, size - 1);
  token::OAuthKey key;
  key.kid = "2783466234";
  key.alg = (mode & 1) ? token::OAuthAlg::A128GCM : token::OAuthAlg::A256GCM;
  key.key.assign(kKey.begin(), kKey.begin() + long(token::key_size(key.alg)));

  if ((mode & 2) == 0) {
    auto t = token::decode_oauth_token(key, kServer, in);
    if (!t) return 0;
    require(!t->mac_key.empty() && t->mac_key.size() <= token::kOAuthMaxMacKey);
    auto again = token::encode_oauth_token(key, kServer, *t, in.subspan(2, token::kOAuthNonceSize));
    require(again.ok() && again->size() == in.size() && std::equal(again->begin(), again->end(), in.begin()));
    return 0;
  }
  // Seal: mac_key = up to 64 input bytes, timestamp and lifetime from the next 12.
  if (in.size() < 1 + 12 + 12) return 0;
  token::OAuthToken t;
  size_t mac_len = 1 + in[0] % token::kOAuthMaxMacKey;
  if (in.size() < 1 + 12 + 12 + mac_len) return 0;
  base::Bytes nonce = in.subspan(1, 12);
  base::ByteReader r(in.subspan(13));
  require(r.u64(t.timestamp) && r.u32(t.lifetime));
  base::Bytes mac;
  require(r.bytes(mac_len, mac));
  t.mac_key.assign(mac.begin(), mac.end());
  auto sealed = token::encode_oauth_token(key, kServer, t, nonce);
  require(sealed.ok());
  auto opened = token::decode_oauth_token(key, kServer, *sealed);
  require(opened.ok() && opened->mac_key == t.mac_key && opened->timestamp == t.timestamp &&
          opened->lifetime == t.lifetime);
  require(!token::decode_oauth_token(key, "blackdow.carleon.gov.", *sealed).ok());
  return 0;
}
