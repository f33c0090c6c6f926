#include "stun/channel_data.hpp"

namespace stun {

base::Result<ChannelData, Error> parse_channel_data(Bytes d) {
  if (d.size() < kChannelDataHeader) return base::fail(Error::TooShort);
  uint16_t ch = base::load_be16(d.data());
  size_t len = base::load_be16(d.data() + 2);
  if (!valid_channel(ch)) return base::fail(Error::BadAttribute);
  if (len > d.size() - kChannelDataHeader) return base::fail(Error::BadLength);
  return ChannelData{ch, d.subspan(kChannelDataHeader, len)};
}

Bytes frame_channel_data(MutableBytes buf, uint16_t channel, size_t payload_len, bool pad) {
  base::store_be16(buf.data(), channel);
  base::store_be16(buf.data() + 2, uint16_t(payload_len));
  size_t total = kChannelDataHeader + payload_len;
  if (pad)
    while (total % 4) buf[total++] = 0;
  return Bytes(buf.data(), total);
}

StreamFramer::Frame StreamFramer::next(Bytes d) {
  if (d.size() < 4) return {Kind::NeedMore, 0, 4};
  uint8_t top = d[0] & 0xC0;
  size_t len = base::load_be16(d.data() + 2);
  if (top == 0x00) {
    if (len % 4 != 0) return {Kind::Invalid, 0, 0};
    size_t total = kHeaderSize + len;
    if (d.size() < kHeaderSize) return {Kind::NeedMore, 0, kHeaderSize};
    if (base::load_be32(d.data() + 4) != kMagicCookie) return {Kind::Invalid, 0, 0};
    if (d.size() < total) return {Kind::NeedMore, 0, total};
    return {Kind::Stun, total, 0};
  }
  if (top == 0x40) {
    if (!valid_channel(base::load_be16(d.data()))) return {Kind::Invalid, 0, 0};
    size_t total = (kChannelDataHeader + len + 3) & ~size_t(3);
    if (d.size() < total) return {Kind::NeedMore, 0, total};
    return {Kind::ChannelData, total, 0};
  }
  return {Kind::Invalid, 0, 0};
}

}  // namespace stun
