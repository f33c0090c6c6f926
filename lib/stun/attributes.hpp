// Typed values of the TURN attributes whose body is more than a number or a string
// (RFC 8656 §18, RFC 8489 §14, RFC 7635 §6). Decoders return nullopt on a malformed value; the
// server answers 400 for those in requests.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "stun/constants.hpp"
#include "stun/message.hpp"

namespace stun {

//  |        Channel Number         |         RFFU = 0              |   RFC 8656 §18.1
std::optional<uint16_t> decode_channel_number(Bytes v);
//  |    Protocol   |                    RFFU                       |   §18.10
std::optional<uint8_t> decode_requested_transport(Bytes v);
//  |  Family       |            Reserved                           |   §18.8, §18.11
std::optional<uint8_t> decode_address_family(Bytes v);
//  |R|    RFFU     |                                                   §18.9
std::optional<bool> decode_even_port(Bytes v);
//  8 bytes                                                            §18.10
std::optional<uint64_t> decode_reservation_token(Bytes v);

//  |  Family       |    Reserved             |Class|     Number    |   §18.12
//  |      Reason Phrase (variable)                                ..
struct AddressErrorCode {
  uint8_t family;
  int code;
  std::string_view reason;
};
std::optional<AddressErrorCode> decode_address_error_code(Bytes v);

//  |     Reserved                  |  ICMP Type  |  ICMP Code      |   §18.13
//  |                          Error Data                           |
struct Icmp {
  uint8_t type;
  uint8_t code;
  uint32_t error_data;
};
std::optional<Icmp> decode_icmp(Bytes v);
void add_icmp(Builder& b, const Icmp& icmp);

//  |          Algorithm 1          | Algorithm 1 Parameters Length |   RFC 8489 §14.11-12
//  |                    Algorithm 1 Parameters (variable)          ..
struct PasswordAlgorithm {
  uint16_t algorithm;
  Bytes parameters;
};
// PASSWORD-ALGORITHMS: every entry; nullopt when an entry runs past the value.
std::optional<std::vector<PasswordAlgorithm>> decode_password_algorithms(Bytes v);
std::optional<PasswordAlgorithm> decode_password_algorithm(Bytes v);

// ACCESS-TOKEN (RFC 7635 §6.2): the self-contained token the TURN server decrypts with the
// AS-RS key. Outer structure only; lib/token opens the encrypted block.
//  |    nonce_length (16)          |  nonce (nonce_length bytes)   ..
//  |  encrypted_block (rest): {key_length, mac_key, timestamp, lifetime} AEAD-sealed, with tag
struct AccessToken {
  Bytes nonce;
  Bytes encrypted_block;
};
std::optional<AccessToken> decode_access_token(Bytes v);
void add_access_token(Builder& b, Bytes nonce, Bytes encrypted_block);

}  // namespace stun
