#include "stun/message.hpp"

#include <algorithm>
#include <cstring>

#include "crypto/hash.hpp"

namespace stun {

using base::load_be16;
using base::load_be32;

std::string_view to_string(Error e) {
  switch (e) {
    case Error::TooShort: return "message shorter than the 20-byte header";
    case Error::NotStun: return "first two bits are not zero";
    case Error::BadMagicCookie: return "magic cookie missing";
    case Error::BadLength: return "length field does not match the message";
    case Error::TruncatedAttribute: return "attribute runs past the end of the message";
    case Error::TooManyAttributes: return "too many attributes";
    case Error::AttributeAfterFingerprint: return "attribute after FINGERPRINT";
    case Error::BadFingerprint: return "FINGERPRINT does not match";
    case Error::BadAttribute: return "malformed attribute value";
    case Error::BufferTooSmall: return "buffer too small";
  }
  return "unknown error";
}

std::string_view method_name(Method m) {
  switch (m) {
    case Method::Binding: return "Binding";
    case Method::Allocate: return "Allocate";
    case Method::Refresh: return "Refresh";
    case Method::Send: return "Send";
    case Method::Data: return "Data";
    case Method::CreatePermission: return "CreatePermission";
    case Method::ChannelBind: return "ChannelBind";
  }
  return "Unknown";
}

std::string_view reason_phrase(int c) {
  switch (c) {
    case code::TryAlternate: return "Try Alternate";
    case code::BadRequest: return "Bad Request";
    case code::Unauthorized: return "Unauthorized";
    case code::Forbidden: return "Forbidden";
    case code::MobilityForbidden: return "Mobility Forbidden";
    case code::UnknownAttribute: return "Unknown Attribute";
    case code::AllocationMismatch: return "Allocation Mismatch";
    case code::StaleNonce: return "Stale Nonce";
    case code::AddressFamilyNotSupported: return "Address Family not Supported";
    case code::WrongCredentials: return "Wrong Credentials";
    case code::UnsupportedTransportProtocol: return "Unsupported Transport Protocol";
    case code::PeerAddressFamilyMismatch: return "Peer Address Family Mismatch";
    case code::AllocationQuotaReached: return "Allocation Quota Reached";
    case code::ServerError: return "Server Error";
    case code::InsufficientCapacity: return "Insufficient Capacity";
  }
  return "Error";
}

base::Result<Message, Error> parse(Bytes d) {
  if (d.size() < kHeaderSize) return base::fail(Error::TooShort);
  if ((d[0] & 0xC0) != 0) return base::fail(Error::NotStun);
  if (load_be32(d.data() + 4) != kMagicCookie) return base::fail(Error::BadMagicCookie);
  size_t len = load_be16(d.data() + 2);
  if (len % 4 != 0 || len + kHeaderSize != d.size()) return base::fail(Error::BadLength);

  Message m;
  m.raw_ = d;
  m.type_ = load_be16(d.data());
  std::memcpy(m.tid_.data(), d.data() + 8, 12);

  size_t pos = kHeaderSize;
  bool ignoring = false;  // after MESSAGE-INTEGRITY(-SHA256): only the allowed followers count
  while (pos < d.size()) {
    if (d.size() - pos < 4) return base::fail(Error::TruncatedAttribute);
    uint16_t type = load_be16(&d[pos]);
    size_t alen = load_be16(&d[pos + 2]);
    size_t padded = (alen + 3) & ~size_t(3);
    if (d.size() - pos - 4 < padded) return base::fail(Error::TruncatedAttribute);
    if (m.has_fp_) return base::fail(Error::AttributeAfterFingerprint);

    Attribute a{type, uint32_t(pos), d.subspan(pos + 4, alen)};
    bool keep = true;
    if (type == attr::Fingerprint) {
      if (alen != 4) return base::fail(Error::BadAttribute);
      uint32_t want = crypto::crc32(d.first(pos)) ^ kFingerprintXor;
      // The CRC covers the header with the length as transmitted; that already includes FINGERPRINT.
      if (load_be32(&d[pos + 4]) != want) return base::fail(Error::BadFingerprint);
      m.has_fp_ = true;
      keep = false;
    } else if (type == attr::MessageIntegritySha256) {
      if (m.mi256_ >= 0) keep = false;
      else if (alen < 16 || alen > 32 || alen % 4 != 0) return base::fail(Error::BadAttribute);  // §14.6
    } else if (type == attr::MessageIntegrity) {
      if (ignoring) keep = false;
      else if (alen != 20) return base::fail(Error::BadAttribute);
    } else if (ignoring) {
      keep = false;  // RFC 8489 §14.5: ignore everything else after MESSAGE-INTEGRITY
    }
    if (keep) {
      if (m.count_ == Message::kMaxAttributes) return base::fail(Error::TooManyAttributes);
      if (type == attr::MessageIntegrity) m.mi_ = int(m.count_);
      if (type == attr::MessageIntegritySha256) m.mi256_ = int(m.count_);
      m.attrs_[m.count_++] = a;
      if (type == attr::MessageIntegrity || type == attr::MessageIntegritySha256) ignoring = true;
    }
    pos += 4 + padded;
  }
  // MESSAGE-INTEGRITY after MESSAGE-INTEGRITY-SHA256 must be ignored (§14.6).
  if (m.mi_ >= 0 && m.mi256_ >= 0 && m.mi_ > m.mi256_) m.mi_ = -1;
  return m;
}

const Attribute* Message::find(uint16_t type) const {
  for (size_t i = 0; i < count_; ++i)
    if (attrs_[i].type == type) return &attrs_[i];
  return nullptr;
}

std::optional<std::string_view> Message::string(uint16_t type) const {
  auto* a = find(type);
  if (!a) return std::nullopt;
  return base::as_string_view(a->value);
}

std::optional<uint32_t> Message::u32(uint16_t type) const {
  auto* a = find(type);
  if (!a || a->value.size() != 4) return std::nullopt;
  return load_be32(a->value.data());
}

namespace {

//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |0 0 0 0 0 0 0 0|    Family     |         X-Port                |
// |                X-Address (Variable)
std::optional<base::Endpoint> decode_address(Bytes v, const TransactionId* xor_tid) {
  if (v.size() < 4) return std::nullopt;
  uint8_t family = v[1];
  uint16_t port = load_be16(&v[2]);
  if (xor_tid) port ^= uint16_t(kMagicCookie >> 16);
  if (family == kFamilyV4) {
    if (v.size() != 8) return std::nullopt;
    uint8_t a[4];
    std::memcpy(a, &v[4], 4);
    if (xor_tid) base::store_be32(a, load_be32(a) ^ kMagicCookie);
    return base::Endpoint{base::IpAddress::v4(a), port};
  }
  if (family == kFamilyV6) {
    if (v.size() != 20) return std::nullopt;
    uint8_t a[16];
    std::memcpy(a, &v[4], 16);
    if (xor_tid) {
      uint8_t mask[16];
      base::store_be32(mask, kMagicCookie);
      std::memcpy(mask + 4, xor_tid->data(), 12);
      for (int i = 0; i < 16; ++i) a[i] ^= mask[i];
    }
    return base::Endpoint{base::IpAddress::v6(a), port};
  }
  return std::nullopt;
}

}  // namespace

std::optional<base::Endpoint> decode_xor_address(Bytes value, const TransactionId& tid) {
  return decode_address(value, &tid);
}

std::optional<base::Endpoint> Message::xor_address(uint16_t type) const {
  auto* a = find(type);
  return a ? decode_address(a->value, &tid_) : std::nullopt;
}

std::optional<base::Endpoint> Message::address(uint16_t type) const {
  auto* a = find(type);
  return a ? decode_address(a->value, nullptr) : std::nullopt;
}

std::optional<Message::ErrorCodeValue> Message::error_code() const {
  auto* a = find(attr::ErrorCode);
  if (!a || a->value.size() < 4) return std::nullopt;
  int cls = a->value[2] & 0x07, num = a->value[3];
  if (cls < 3 || cls > 6 || num > 99) return std::nullopt;
  return ErrorCodeValue{cls * 100 + num, base::as_string_view(a->value.subspan(4))};
}

size_t Message::unknown_required(std::span<const uint16_t> known, std::span<uint16_t> out) const {
  size_t n = 0;
  for (size_t i = 0; i < count_ && n < out.size(); ++i) {
    uint16_t t = attrs_[i].type;
    if (!attr::comprehension_required(t)) continue;
    if (std::find(known.begin(), known.end(), t) != known.end()) continue;
    if (std::find(out.begin(), out.begin() + long(n), t) != out.begin() + long(n)) continue;
    out[n++] = t;
  }
  return n;
}

namespace {

// HMAC input for MESSAGE-INTEGRITY(-SHA256): the message up to the attribute, with the header
// length set as if the attribute were the last one (RFC 8489 §14.5).
template <class Mac>
bool verify_integrity(const Message& m, const Attribute* a, Bytes key, size_t mac_len, Mac mac) {
  if (!a || a->value.size() != mac_len) return false;
  Bytes raw = m.raw();
  uint8_t header[kHeaderSize];
  std::memcpy(header, raw.data(), kHeaderSize);
  base::store_be16(header + 2, uint16_t(a->offset + 4 + a->value.size() - kHeaderSize));
  auto digest = mac(key, {Bytes(header, kHeaderSize), raw.subspan(kHeaderSize, a->offset - kHeaderSize)});
  return crypto::constant_time_equal(Bytes(digest.data(), mac_len), a->value);
}

}  // namespace

bool verify_message_integrity(const Message& m, Bytes key) {
  return verify_integrity(m, m.message_integrity(), key, 20,
                          [](Bytes k, std::initializer_list<Bytes> p) { return crypto::hmac_sha1(k, p); });
}

bool verify_message_integrity_sha256(const Message& m, Bytes key) {
  const Attribute* a = m.message_integrity_sha256();
  if (!a) return false;
  // Truncated SHA-256 MACs are allowed down to 16 bytes (§14.6).
  return verify_integrity(m, a, key, a->value.size(),
                          [](Bytes k, std::initializer_list<Bytes> p) { return crypto::hmac_sha256(k, p); });
}

Builder::Builder(MutableBytes buf, uint16_t type, const TransactionId& tid) : w_(buf), tid_(tid) {
  w_.u16(type & 0x3FFF);
  w_.u16(0);
  w_.u32(kMagicCookie);
  w_.bytes(Bytes(tid.data(), tid.size()));
}

void Builder::set_length(size_t body) { w_.patch_u16(2, uint16_t(body)); }

void Builder::begin_attr(uint16_t type, size_t len) {
  if (len > 0xFFFF) {
    w_.zeros(w_.capacity());  // force overflow: an attribute cannot be this long
    return;
  }
  w_.u16(type);
  w_.u16(uint16_t(len));
}

void Builder::end_attr(size_t len) {
  size_t pad = (4 - len % 4) % 4;
  w_.zeros(pad);
}

void Builder::add(uint16_t type, Bytes value) {
  begin_attr(type, value.size());
  w_.bytes(value);
  end_attr(value.size());
}

void Builder::add_u32(uint16_t type, uint32_t v) {
  uint8_t b[4];
  base::store_be32(b, v);
  add(type, Bytes(b, 4));
}

void Builder::add_address(uint16_t type, const base::Endpoint& ep) {
  uint8_t b[20] = {0};
  bool v4 = ep.addr.is_v4();
  b[1] = v4 ? kFamilyV4 : kFamilyV6;
  base::store_be16(b + 2, ep.port);
  std::memcpy(b + 4, ep.addr.data(), v4 ? 4 : 16);
  add(type, Bytes(b, v4 ? 8 : 20));
}

void Builder::add_xor_address(uint16_t type, const base::Endpoint& ep) {
  uint8_t b[20] = {0};
  bool v4 = ep.addr.is_v4();
  b[1] = v4 ? kFamilyV4 : kFamilyV6;
  base::store_be16(b + 2, ep.port ^ uint16_t(kMagicCookie >> 16));
  uint8_t mask[16];
  base::store_be32(mask, kMagicCookie);
  std::memcpy(mask + 4, tid_.data(), 12);
  for (size_t i = 0; i < (v4 ? 4u : 16u); ++i) b[4 + i] = ep.addr.data()[i] ^ mask[i];
  add(type, Bytes(b, v4 ? 8 : 20));
}

void Builder::add_error_code(int c, std::string_view reason) {
  if (reason.empty()) reason = reason_phrase(c);
  if (reason.size() > 763) reason = reason.substr(0, 763);  // §14.8 limit
  begin_attr(attr::ErrorCode, 4 + reason.size());
  w_.u16(0);
  w_.u8(uint8_t((c / 100) & 0x07));
  w_.u8(uint8_t(c % 100));
  w_.bytes(reason);
  end_attr(4 + reason.size());
}

void Builder::add_unknown_attributes(std::span<const uint16_t> types) {
  begin_attr(attr::UnknownAttributes, types.size() * 2);
  for (uint16_t t : types) w_.u16(t);
  end_attr(types.size() * 2);
}

//  |        Channel Number         |         RFFU = 0              |
void Builder::add_channel_number(uint16_t channel) { add_u32(attr::ChannelNumber, uint32_t(channel) << 16); }

//  |    Protocol   |                    RFFU                       |
void Builder::add_requested_transport(uint8_t protocol) { add_u32(attr::RequestedTransport, uint32_t(protocol) << 24); }

void Builder::add_address_family(uint16_t type, uint8_t family) { add_u32(type, uint32_t(family) << 24); }

//  |  Family       |    Reserved             |Class|     Number    |
void Builder::add_address_error_code(uint8_t family, int c, std::string_view reason) {
  if (reason.empty()) reason = reason_phrase(c);
  if (reason.size() > 763) reason = reason.substr(0, 763);
  begin_attr(attr::AddressErrorCode, 4 + reason.size());
  w_.u8(family);
  w_.u8(0);
  w_.u8(uint8_t((c / 100) & 0x07));
  w_.u8(uint8_t(c % 100));
  w_.bytes(reason);
  end_attr(4 + reason.size());
}

void Builder::add_even_port(bool reserve) {
  uint8_t b = reserve ? 0x80 : 0x00;
  add(attr::EvenPort, Bytes(&b, 1));
}

void Builder::add_password_algorithms(std::span<const uint16_t> algorithms) {
  begin_attr(attr::PasswordAlgorithms, algorithms.size() * 4);
  for (uint16_t a : algorithms) {
    w_.u16(a);
    w_.u16(0);  // no parameters for MD5 and SHA-256
  }
  end_attr(algorithms.size() * 4);
}

void Builder::add_password_algorithm(uint16_t algorithm) { add_u32(attr::PasswordAlgorithm, uint32_t(algorithm) << 16); }

void Builder::add_message_integrity(Bytes key) {
  size_t start = w_.size();
  set_length(start + 24 - kHeaderSize);
  auto mac = crypto::hmac_sha1(key, w_.written());
  add(attr::MessageIntegrity, Bytes(mac.data(), mac.size()));
}

void Builder::add_message_integrity_sha256(Bytes key) {
  size_t start = w_.size();
  set_length(start + 36 - kHeaderSize);
  auto mac = crypto::hmac_sha256(key, w_.written());
  add(attr::MessageIntegritySha256, Bytes(mac.data(), mac.size()));
}

void Builder::add_fingerprint() {
  set_length(w_.size() + 8 - kHeaderSize);
  uint32_t crc = crypto::crc32(w_.written()) ^ kFingerprintXor;
  add_u32(attr::Fingerprint, crc);
}

base::Result<Bytes, Error> Builder::finish() {
  // The 16-bit length field caps the body at 65535 bytes (RFC 8489 §5); past that the field would
  // wrap and the message would be unparseable, so it is an overflow like any other.
  if (w_.overflow() || w_.size() - kHeaderSize > 0xFFFF) return base::fail(Error::BufferTooSmall);
  set_length(w_.size() - kHeaderSize);
  return w_.written();
}

}  // namespace stun
