// Big-endian readers and writers over caller-owned buffers: the only way codecs touch bytes.
// Neither allocates; ByteWriter reports overflow instead of growing so hot paths stay allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace base {

using Bytes = std::span<const uint8_t>;
using MutableBytes = std::span<uint8_t>;

inline Bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_string_view(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline uint16_t load_be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t load_be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline uint64_t load_be64(const uint8_t* p) { return uint64_t(load_be32(p)) << 32 | load_be32(p + 4); }
inline void store_be16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24); p[1] = uint8_t(v >> 16); p[2] = uint8_t(v >> 8); p[3] = uint8_t(v);
}
inline void store_be64(uint8_t* p, uint64_t v) { store_be32(p, uint32_t(v >> 32)); store_be32(p + 4, uint32_t(v)); }

class ByteReader {
 public:
  explicit ByteReader(Bytes b) : b_(b) {}
  size_t remaining() const { return b_.size() - pos_; }
  size_t position() const { return pos_; }
  bool u8(uint8_t& v) { if (remaining() < 1) return false; v = b_[pos_++]; return true; }
  bool u16(uint16_t& v) { if (remaining() < 2) return false; v = load_be16(&b_[pos_]); pos_ += 2; return true; }
  bool u32(uint32_t& v) { if (remaining() < 4) return false; v = load_be32(&b_[pos_]); pos_ += 4; return true; }
  bool u64(uint64_t& v) { if (remaining() < 8) return false; v = load_be64(&b_[pos_]); pos_ += 8; return true; }
  bool bytes(size_t n, Bytes& out) {
    if (remaining() < n) return false;
    out = b_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n) { if (remaining() < n) return false; pos_ += n; return true; }

 private:
  Bytes b_;
  size_t pos_ = 0;
};

class ByteWriter {
 public:
  explicit ByteWriter(MutableBytes b) : b_(b) {}
  size_t size() const { return pos_; }
  size_t capacity() const { return b_.size(); }
  bool overflow() const { return overflow_; }
  uint8_t* data() { return b_.data(); }
  Bytes written() const { return Bytes(b_.data(), pos_); }
  void u8(uint8_t v) { if (room(1)) b_[pos_++] = v; }
  void u16(uint16_t v) { if (room(2)) { store_be16(&b_[pos_], v); pos_ += 2; } }
  void u32(uint32_t v) { if (room(4)) { store_be32(&b_[pos_], v); pos_ += 4; } }
  void u64(uint64_t v) { if (room(8)) { store_be64(&b_[pos_], v); pos_ += 8; } }
  void bytes(Bytes v) { if (room(v.size())) { if (!v.empty()) std::memcpy(&b_[pos_], v.data(), v.size()); pos_ += v.size(); } }
  void bytes(std::string_view v) { bytes(as_bytes(v)); }
  void zeros(size_t n) { if (room(n)) { std::memset(&b_[pos_], 0, n); pos_ += n; } }
  // Position-based patching for length fields written after the body.
  void patch_u16(size_t at, uint16_t v) { if (at + 2 <= pos_) store_be16(&b_[at], v); }
  void truncate(size_t n) { if (n <= pos_) pos_ = n; }

 private:
  bool room(size_t n) {
    if (overflow_ || b_.size() - pos_ < n) { overflow_ = true; return false; }
    return true;
  }
  MutableBytes b_;
  size_t pos_ = 0;
  bool overflow_ = false;
};

}  // namespace base
