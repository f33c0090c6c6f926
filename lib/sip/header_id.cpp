#include "sip/header_id.hpp"

#include <array>

#include "sip/charset.hpp"

namespace sip {
namespace {

struct Entry {
  HeaderId id;
  std::string_view name;
  char compact;
  bool list;
};

// One row per id, in enum order (checked at compile time below).
constexpr Entry kEntries[] = {
    {HeaderId::Unknown, "", 0, false},
    {HeaderId::Accept, "Accept", 0, true},
    {HeaderId::AcceptContact, "Accept-Contact", 'a', true},         // RFC 3841
    {HeaderId::AcceptEncoding, "Accept-Encoding", 0, true},
    {HeaderId::AcceptLanguage, "Accept-Language", 0, true},
    {HeaderId::AlertInfo, "Alert-Info", 0, true},
    {HeaderId::Allow, "Allow", 0, true},
    {HeaderId::AllowEvents, "Allow-Events", 'u', true},             // RFC 6665
    {HeaderId::AuthenticationInfo, "Authentication-Info", 0, false},
    {HeaderId::Authorization, "Authorization", 0, false},
    {HeaderId::CallId, "Call-ID", 'i', false},
    {HeaderId::CallInfo, "Call-Info", 0, true},
    {HeaderId::Contact, "Contact", 'm', true},
    {HeaderId::ContentDisposition, "Content-Disposition", 0, false},
    {HeaderId::ContentEncoding, "Content-Encoding", 'e', true},
    {HeaderId::ContentLanguage, "Content-Language", 0, true},
    {HeaderId::ContentLength, "Content-Length", 'l', false},
    {HeaderId::ContentType, "Content-Type", 'c', false},
    {HeaderId::CSeq, "CSeq", 0, false},
    {HeaderId::Date, "Date", 0, false},
    {HeaderId::ErrorInfo, "Error-Info", 0, true},
    {HeaderId::Event, "Event", 'o', false},                         // RFC 6665
    {HeaderId::Expires, "Expires", 0, false},
    {HeaderId::FlowTimer, "Flow-Timer", 0, false},                  // RFC 5626
    {HeaderId::From, "From", 'f', false},
    {HeaderId::Identity, "Identity", 'y', false},                   // RFC 8224
    {HeaderId::IdentityInfo, "Identity-Info", 'n', false},          // RFC 4474
    {HeaderId::InReplyTo, "In-Reply-To", 0, true},
    {HeaderId::MaxForwards, "Max-Forwards", 0, false},
    {HeaderId::MimeVersion, "MIME-Version", 0, false},
    {HeaderId::MinExpires, "Min-Expires", 0, false},
    {HeaderId::MinSE, "Min-SE", 0, false},                          // RFC 4028
    {HeaderId::Organization, "Organization", 0, false},
    {HeaderId::PAccessNetworkInfo, "P-Access-Network-Info", 0, true},   // RFC 7315
    {HeaderId::PAssertedIdentity, "P-Asserted-Identity", 0, true},      // RFC 3325
    {HeaderId::PAssociatedUri, "P-Associated-URI", 0, true},
    {HeaderId::PChargingFunctionAddresses, "P-Charging-Function-Addresses", 0, false},
    {HeaderId::PChargingVector, "P-Charging-Vector", 0, false},
    {HeaderId::PPreferredIdentity, "P-Preferred-Identity", 0, true},
    {HeaderId::PVisitedNetworkId, "P-Visited-Network-ID", 0, true},
    {HeaderId::Path, "Path", 0, true},                              // RFC 3327
    {HeaderId::Priority, "Priority", 0, false},
    {HeaderId::Privacy, "Privacy", 0, false},                       // RFC 3323
    {HeaderId::ProxyAuthenticate, "Proxy-Authenticate", 0, false},
    {HeaderId::ProxyAuthorization, "Proxy-Authorization", 0, false},
    {HeaderId::ProxyRequire, "Proxy-Require", 0, true},
    {HeaderId::RAck, "RAck", 0, false},                             // RFC 3262
    {HeaderId::Reason, "Reason", 0, true},                          // RFC 3326
    {HeaderId::RecordRoute, "Record-Route", 0, true},
    {HeaderId::ReferTo, "Refer-To", 'r', false},                    // RFC 3515
    {HeaderId::ReferredBy, "Referred-By", 'b', false},              // RFC 3892
    {HeaderId::RejectContact, "Reject-Contact", 'j', true},         // RFC 3841
    {HeaderId::ReplyTo, "Reply-To", 0, false},
    {HeaderId::RequestDisposition, "Request-Disposition", 'd', true},   // RFC 3841
    {HeaderId::Require, "Require", 0, true},
    {HeaderId::RetryAfter, "Retry-After", 0, false},
    {HeaderId::Route, "Route", 0, true},
    {HeaderId::RSeq, "RSeq", 0, false},                             // RFC 3262
    {HeaderId::SecurityClient, "Security-Client", 0, true},         // RFC 3329
    {HeaderId::SecurityServer, "Security-Server", 0, true},
    {HeaderId::SecurityVerify, "Security-Verify", 0, true},
    {HeaderId::Server, "Server", 0, false},
    {HeaderId::ServiceRoute, "Service-Route", 0, true},             // RFC 3608
    {HeaderId::SessionExpires, "Session-Expires", 'x', false},      // RFC 4028
    {HeaderId::SipETag, "SIP-ETag", 0, false},                      // RFC 3903
    {HeaderId::SipIfMatch, "SIP-If-Match", 0, false},
    {HeaderId::Subject, "Subject", 's', false},
    {HeaderId::SubscriptionState, "Subscription-State", 0, false},  // RFC 6665
    {HeaderId::Supported, "Supported", 'k', true},
    {HeaderId::Timestamp, "Timestamp", 0, false},
    {HeaderId::To, "To", 't', false},
    {HeaderId::Unsupported, "Unsupported", 0, true},
    {HeaderId::UserAgent, "User-Agent", 0, false},
    {HeaderId::Via, "Via", 'v', true},
    {HeaderId::Warning, "Warning", 0, true},
    {HeaderId::WWWAuthenticate, "WWW-Authenticate", 0, false},
};
constexpr size_t kCount = sizeof(kEntries) / sizeof(kEntries[0]);
static_assert(kCount == static_cast<size_t>(HeaderId::Count_));

constexpr bool in_enum_order() {
  for (size_t i = 0; i < kCount; ++i)
    if (static_cast<size_t>(kEntries[i].id) != i) return false;
  return true;
}
static_assert(in_enum_order());

// The longest name is 29 characters; names are bucketed by length so a lookup compares against
// a handful of candidates (a header name lookup runs once per header line on the hot path).
constexpr size_t kMaxName = 32;
struct Buckets {
  std::array<std::array<uint8_t, 12>, kMaxName + 1> ids{};
  std::array<uint8_t, kMaxName + 1> n{};
  std::array<HeaderId, 128> compact{};
};
constexpr Buckets make_buckets() {
  Buckets b{};
  for (size_t i = 1; i < kCount; ++i) {
    size_t len = kEntries[i].name.size();
    b.ids[len][b.n[len]++] = static_cast<uint8_t>(i);
    if (kEntries[i].compact) b.compact[static_cast<uint8_t>(kEntries[i].compact)] = kEntries[i].id;
  }
  return b;
}
constexpr Buckets kBuckets = make_buckets();

}  // namespace

HeaderId header_id(std::string_view name) {
  if (name.size() == 1) {
    auto c = static_cast<uint8_t>(detail::lower(name[0]));
    return c < 128 ? kBuckets.compact[c] : HeaderId::Unknown;
  }
  if (name.size() > kMaxName) return HeaderId::Unknown;
  const auto& bucket = kBuckets.ids[name.size()];
  for (uint8_t k = 0; k < kBuckets.n[name.size()]; ++k) {
    if (detail::iequals(kEntries[bucket[k]].name, name)) return kEntries[bucket[k]].id;
  }
  return HeaderId::Unknown;
}

std::string_view header_name(HeaderId id) {
  auto i = static_cast<size_t>(id);
  return i < kCount ? kEntries[i].name : std::string_view{};
}

char compact_form(HeaderId id) {
  auto i = static_cast<size_t>(id);
  return i < kCount ? kEntries[i].compact : 0;
}

bool is_list_header(HeaderId id) {
  auto i = static_cast<size_t>(id);
  return i < kCount && kEntries[i].list;
}

}  // namespace sip
