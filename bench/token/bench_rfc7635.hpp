// The RFC 7635 half of token_bench: what a TURN server does with an Allocate carrying ACCESS-TOKEN
// (parse the STUN message, open the token under the AS-RS key, check MESSAGE-INTEGRITY keyed with
// the token's mac_key), against the raw OpenSSL work underneath: one AES-256-GCM decryption of the
// same token and one HMAC-SHA1 over the same message. The raw side is given every advantage a
// server could take: the AS-RS key schedule is set up once (only the nonce changes per token), and
// HMAC-SHA1 runs on OpenSSL's SHA-1 with the key pads (crypto::hmac_sha1), the cheapest HMAC there
// is; the mac_key differs per token, so its pads are computed every time, as they must be.
#pragma once

#include <openssl/evp.h>

#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/encoding.hpp"
#include "base/random.hpp"
#include "crypto/hash.hpp"
#include "stun/attributes.hpp"
#include "stun/constants.hpp"
#include "stun/message.hpp"
#include "token/oauth_token.hpp"

namespace bench_rfc7635 {

struct Random final : base::Random {
  uint64_t s = 0x9e3779b97f4a7c15ull;
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      b = uint8_t(s >> 56);
    }
  }
};

struct Setup {
  token::OAuthKey key;
  std::string server = "ims.example.org";
  std::vector<uint8_t> tok;
  std::vector<uint8_t> mac_key;
  uint8_t buf[1024];
  size_t len = 0;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();

  Setup() {
    Random r;
    key.kid = "north";
    key.key.assign(32, 0);
    r.fill(key.key);
    auto g = token::mint_oauth_grant(key, server, std::time(nullptr), 3600, r);
    tok = base::base64_decode(g.access_token).value_or(std::vector<uint8_t>{});
    mac_key = g.mac_key;
    stun::TransactionId tid{};
    stun::Builder b({buf, sizeof buf}, stun::Method::Allocate, stun::Class::Request, tid);
    b.add_requested_transport(17);
    b.add(stun::attr::Username, key.kid);
    b.add(stun::attr::AccessToken, base::Bytes(tok.data(), tok.size()));
    b.add_message_integrity(base::Bytes(mac_key.data(), mac_key.size()));
    auto m = b.finish();
    if (!m) throw std::runtime_error("cannot build the Allocate");
    len = m->size();
    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.key.data(), nullptr);  // key schedule once
    if (!full()) throw std::runtime_error("the sample Allocate does not verify");
    if (!raw()) throw std::runtime_error("the raw decryption fails");
  }
  ~Setup() { EVP_CIPHER_CTX_free(ctx); }

  // The server's work.
  bool full() const {
    auto m = stun::parse(base::Bytes(buf, len));
    if (!m) return false;
    auto* u = m->find(stun::attr::Username);
    auto* at = m->find(stun::attr::AccessToken);
    if (!u || !at) return false;
    auto t = token::decode_oauth_token(key, server, at->value);
    if (!t) return false;
    return stun::verify_message_integrity(*m, base::Bytes(t->mac_key.data(), t->mac_key.size()));
  }

  // The cryptography alone: AES-256-GCM open of the token's block, HMAC-SHA1 over the message.
  bool raw() {
    const uint8_t* nonce = tok.data() + 2;
    const uint8_t* ct = nonce + 12;
    size_t ct_len = tok.size() - 2 - 12 - 16;
    uint8_t out[256];
    int n = 0, n2 = 0;
    bool ok = EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) == 1 &&
              EVP_DecryptUpdate(ctx, nullptr, &n, reinterpret_cast<const uint8_t*>(server.data()), int(server.size())) == 1 &&
              EVP_DecryptUpdate(ctx, out, &n, ct, int(ct_len)) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, const_cast<uint8_t*>(ct + ct_len)) == 1 &&
              EVP_DecryptFinal_ex(ctx, out + n, &n2) == 1;
    auto md = crypto::hmac_sha1(base::Bytes(mac_key.data(), mac_key.size()), base::Bytes(buf, len - 24));
    return ok && md.size() == 20;
  }
};

}  // namespace bench_rfc7635
