// STUN/TURN numbers: RFC 8489 (STUN), RFC 8656 (TURN, incl. the RFC 6156 IPv6 attributes),
// RFC 7635 (OAuth), RFC 6062 (TCP allocations: only CONNECTION-ID is named here).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace stun {

constexpr uint32_t kMagicCookie = 0x2112A442;  // RFC 8489 §6
constexpr uint32_t kFingerprintXor = 0x5354554E;  // "STUN", RFC 8489 §14.7
constexpr size_t kHeaderSize = 20;
constexpr size_t kMaxMessageSize = 65535 + kHeaderSize;

using TransactionId = std::array<uint8_t, 12>;

// RFC 8489 §5: the class is carried in bits C1 (0x100) and C0 (0x010) of the message type.
enum class Class : uint8_t { Request = 0, Indication = 1, SuccessResponse = 2, ErrorResponse = 3 };

enum class Method : uint16_t {
  Binding = 0x001,
  Allocate = 0x003,          // RFC 8656 §17
  Refresh = 0x004,
  Send = 0x006,
  Data = 0x007,
  CreatePermission = 0x008,
  ChannelBind = 0x009,
};

constexpr uint16_t message_type(Method m, Class c) {
  uint16_t mv = uint16_t(m), cv = uint16_t(c);
  return uint16_t((mv & 0x000F) | ((mv & 0x0070) << 1) | ((mv & 0x0F80) << 2) | ((cv & 1) << 4) | ((cv & 2) << 7));
}
constexpr Method method_of(uint16_t type) {
  return Method((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
}
constexpr Class class_of(uint16_t type) { return Class(((type >> 4) & 1) | ((type >> 7) & 2)); }

std::string_view method_name(Method m);

// Attribute types. Below 0x8000 = comprehension-required (RFC 8489 §14).
namespace attr {
constexpr uint16_t MappedAddress = 0x0001;
constexpr uint16_t Username = 0x0006;
constexpr uint16_t MessageIntegrity = 0x0008;
constexpr uint16_t ErrorCode = 0x0009;
constexpr uint16_t UnknownAttributes = 0x000A;
constexpr uint16_t ChannelNumber = 0x000C;      // RFC 8656 §18.1
constexpr uint16_t Lifetime = 0x000D;
constexpr uint16_t XorPeerAddress = 0x0012;
constexpr uint16_t Data = 0x0013;
constexpr uint16_t Realm = 0x0014;
constexpr uint16_t Nonce = 0x0015;
constexpr uint16_t XorRelayedAddress = 0x0016;
constexpr uint16_t RequestedAddressFamily = 0x0017;
constexpr uint16_t EvenPort = 0x0018;
constexpr uint16_t RequestedTransport = 0x0019;
constexpr uint16_t DontFragment = 0x001A;
constexpr uint16_t AccessToken = 0x001B;        // RFC 7635 §6.2
constexpr uint16_t MessageIntegritySha256 = 0x001C;
constexpr uint16_t PasswordAlgorithm = 0x001D;
constexpr uint16_t Userhash = 0x001E;
constexpr uint16_t XorMappedAddress = 0x0020;
constexpr uint16_t ReservationToken = 0x0022;
constexpr uint16_t Priority = 0x0024;            // RFC 8445
constexpr uint16_t UseCandidate = 0x0025;
constexpr uint16_t ConnectionId = 0x002A;        // RFC 6062
constexpr uint16_t AdditionalAddressFamily = 0x8000;
constexpr uint16_t AddressErrorCode = 0x8001;
constexpr uint16_t PasswordAlgorithms = 0x8002;
constexpr uint16_t AlternateDomain = 0x8003;
constexpr uint16_t Icmp = 0x8004;
constexpr uint16_t Software = 0x8022;
constexpr uint16_t AlternateServer = 0x8023;
constexpr uint16_t Fingerprint = 0x8028;
constexpr uint16_t IceControlled = 0x8029;
constexpr uint16_t IceControlling = 0x802A;
constexpr uint16_t ResponseOrigin = 0x802B;
constexpr uint16_t OtherAddress = 0x802C;
constexpr uint16_t ThirdPartyAuthorization = 0x802E;  // RFC 7635 §6.1

constexpr bool comprehension_required(uint16_t type) { return type < 0x8000; }
}  // namespace attr

// Error codes used by STUN and TURN (RFC 8489 §14.8, RFC 8656 §19).
namespace code {
constexpr int TryAlternate = 300;
constexpr int BadRequest = 400;
constexpr int Unauthorized = 401;
constexpr int Forbidden = 403;
constexpr int MobilityForbidden = 405;
constexpr int UnknownAttribute = 420;
constexpr int AllocationMismatch = 437;
constexpr int StaleNonce = 438;
constexpr int AddressFamilyNotSupported = 440;
constexpr int WrongCredentials = 441;
constexpr int UnsupportedTransportProtocol = 442;
constexpr int PeerAddressFamilyMismatch = 443;
constexpr int AllocationQuotaReached = 486;
constexpr int ServerError = 500;
constexpr int InsufficientCapacity = 508;
}  // namespace code

// The recommended reason phrase for an error code.
std::string_view reason_phrase(int code);

// RFC 8489 §18.5 password algorithm registry.
namespace password_algorithm {
constexpr uint16_t Md5 = 0x0001;
constexpr uint16_t Sha256 = 0x0002;
}  // namespace password_algorithm

// REQUESTED-ADDRESS-FAMILY values (RFC 8656 §18.8), same as XOR-*-ADDRESS family bytes.
constexpr uint8_t kFamilyV4 = 0x01;
constexpr uint8_t kFamilyV6 = 0x02;
constexpr uint8_t kProtocolUdp = 17;  // REQUESTED-TRANSPORT

}  // namespace stun
