// Header field names: the ids the library knows, their canonical spelling, and the compact forms
// of RFC 3261 §7.3.3 (c e f i k l m s t v) plus the ones later RFCs registered with IANA
// (a b d j n o r u x y). Names compare case-insensitively (RFC 3261 §7.3.1); methods do not.
#pragma once

#include <cstdint>
#include <string_view>

namespace sip {

enum class HeaderId : uint8_t {
  Unknown = 0,
  Accept, AcceptContact, AcceptEncoding, AcceptLanguage, AlertInfo, Allow, AllowEvents,
  AuthenticationInfo, Authorization, CallId, CallInfo, Contact, ContentDisposition,
  ContentEncoding, ContentLanguage, ContentLength, ContentType, CSeq, Date, ErrorInfo, Event,
  Expires, FlowTimer, From, Identity, IdentityInfo, InReplyTo, MaxForwards, MimeVersion,
  MinExpires, MinSE, Organization, PAccessNetworkInfo, PAssertedIdentity, PAssociatedUri,
  PChargingFunctionAddresses, PChargingVector, PPreferredIdentity, PVisitedNetworkId, Path,
  Priority, Privacy, ProxyAuthenticate, ProxyAuthorization, ProxyRequire, RAck, Reason,
  RecordRoute, ReferTo, ReferredBy, RejectContact, ReplyTo, RequestDisposition, Require,
  RetryAfter, Route, RSeq, SecurityClient, SecurityServer, SecurityVerify, Server,
  ServiceRoute, SessionExpires, SipETag, SipIfMatch, Subject, SubscriptionState, Supported,
  Timestamp, To, Unsupported, UserAgent, Via, Warning, WWWAuthenticate,
  Count_  // number of ids; not a header
};

// Id of a header field name (long or compact form, any case); Unknown when not listed above.
HeaderId header_id(std::string_view name);
// Canonical long name ("Call-ID", "WWW-Authenticate"); "" for Unknown.
std::string_view header_name(HeaderId id);
// Compact form ('i' for Call-ID) or 0.
char compact_form(HeaderId id);

// Headers whose values are comma-separated lists (RFC 3261 §7.3.1): a line may carry several
// elements and several lines may be combined. The auth headers are not lists in that sense:
// their commas separate auth-params.
bool is_list_header(HeaderId id);

}  // namespace sip
