#include "stun/attributes.hpp"

namespace stun {

using base::load_be16;
using base::load_be32;

std::optional<uint16_t> decode_channel_number(Bytes v) {
  if (v.size() != 4) return std::nullopt;
  return load_be16(v.data());
}

std::optional<uint8_t> decode_requested_transport(Bytes v) {
  if (v.size() != 4) return std::nullopt;
  return v[0];
}

std::optional<uint8_t> decode_address_family(Bytes v) {
  if (v.size() != 4) return std::nullopt;
  return v[0];
}

std::optional<bool> decode_even_port(Bytes v) {
  if (v.size() != 1) return std::nullopt;
  return (v[0] & 0x80) != 0;
}

std::optional<uint64_t> decode_reservation_token(Bytes v) {
  if (v.size() != 8) return std::nullopt;
  return base::load_be64(v.data());
}

std::optional<AddressErrorCode> decode_address_error_code(Bytes v) {
  if (v.size() < 4) return std::nullopt;
  int cls = v[2] & 0x07, num = v[3];
  if (cls < 3 || cls > 6 || num > 99) return std::nullopt;
  return AddressErrorCode{v[0], cls * 100 + num, base::as_string_view(v.subspan(4))};
}

std::optional<Icmp> decode_icmp(Bytes v) {
  if (v.size() != 8) return std::nullopt;
  return Icmp{v[2], v[3], load_be32(v.data() + 4)};
}

void add_icmp(Builder& b, const Icmp& icmp) {
  uint8_t v[8] = {0, 0, icmp.type, icmp.code};
  base::store_be32(v + 4, icmp.error_data);
  b.add(attr::Icmp, Bytes(v, 8));
}

std::optional<PasswordAlgorithm> decode_password_algorithm(Bytes v) {
  if (v.size() < 4) return std::nullopt;
  size_t plen = load_be16(v.data() + 2);
  if (4 + plen > v.size()) return std::nullopt;
  return PasswordAlgorithm{load_be16(v.data()), v.subspan(4, plen)};
}

std::optional<std::vector<PasswordAlgorithm>> decode_password_algorithms(Bytes v) {
  std::vector<PasswordAlgorithm> out;
  size_t pos = 0;
  while (pos < v.size()) {
    if (v.size() - pos < 4) return std::nullopt;
    size_t plen = load_be16(v.data() + pos + 2);
    size_t padded = (plen + 3) & ~size_t(3);
    if (v.size() - pos - 4 < plen) return std::nullopt;
    out.push_back({load_be16(v.data() + pos), v.subspan(pos + 4, plen)});
    pos += 4 + std::min(padded, v.size() - pos - 4);
  }
  return out;
}

std::optional<AccessToken> decode_access_token(Bytes v) {
  if (v.size() < 2) return std::nullopt;
  size_t n = load_be16(v.data());
  if (2 + n > v.size()) return std::nullopt;
  return AccessToken{v.subspan(2, n), v.subspan(2 + n)};
}

void add_access_token(Builder& b, Bytes nonce, Bytes encrypted_block) {
  std::vector<uint8_t> v(2 + nonce.size() + encrypted_block.size());
  base::store_be16(v.data(), uint16_t(nonce.size()));
  std::copy(nonce.begin(), nonce.end(), v.begin() + 2);
  std::copy(encrypted_block.begin(), encrypted_block.end(), v.begin() + 2 + long(nonce.size()));
  b.add(attr::AccessToken, Bytes(v.data(), v.size()));
}

}  // namespace stun
