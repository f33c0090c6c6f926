#include "turn/logic/server_logic.hpp"

#include <algorithm>
#include <cstring>

#include "base/log.hpp"
#include "stun/attributes.hpp"
#include "stun/channel_data.hpp"
#include "base/encoding.hpp"
#include "token/oauth_token.hpp"

namespace turn {

using namespace std::chrono_literals;
using stun::Class;
using stun::Method;
namespace attr = stun::attr;
namespace code = stun::code;

namespace {

constexpr auto kPermissionLifetime = 300s;  // RFC 8656 §9
constexpr auto kChannelLifetime = 600s;     // RFC 8656 §12
constexpr auto kChannelQuarantine = 300s;

// Comprehension-required attributes this server understands (RFC 8489 §6.3.1: others get 420).
constexpr uint16_t kKnown[] = {attr::MappedAddress, attr::Username, attr::MessageIntegrity, attr::ErrorCode,
                               attr::UnknownAttributes, attr::ChannelNumber, attr::Lifetime, attr::XorPeerAddress,
                               attr::Data, attr::Realm, attr::Nonce, attr::XorRelayedAddress,
                               attr::RequestedAddressFamily, attr::EvenPort, attr::RequestedTransport,
                               attr::DontFragment, attr::MessageIntegritySha256, attr::PasswordAlgorithm,
                               attr::Userhash, attr::XorMappedAddress, attr::ReservationToken, attr::Priority,
                               attr::UseCandidate, attr::AccessToken};
constexpr uint16_t kPasswordAlgorithms[] = {stun::password_algorithm::Md5, stun::password_algorithm::Sha256};

const char* log_name = "turn";

}  // namespace

std::string_view name(Transport t) {
  switch (t) {
    case Transport::Udp: return "udp";
    case Transport::Tcp: return "tcp";
    case Transport::Tls: return "tls";
  }
  return "?";
}

std::string_view name(AuthFailure r) {
  static constexpr std::string_view n[] = {"stale_nonce", "unknown_user", "expired_credential", "revoked_credential",
                                           "bad_integrity", "wrong_credentials", "bad_request", "bad_token"};
  return n[size_t(r)];
}
std::string_view name(Drop r) {
  static constexpr std::string_view n[] = {"malformed", "no_allocation", "no_permission", "no_channel", "rate_limited",
                                           "peer_denied"};
  return n[size_t(r)];
}
std::string_view name(Teardown r) {
  static constexpr std::string_view n[] = {"refresh", "expired", "credential_expired", "credential_revoked",
                                           "connection_closed", "shutdown"};
  return n[size_t(r)];
}

namespace {
std::optional<base::IpAddress> advertised_relay_v4(const TurnConfig& cfg) {
  return base::IpAddress::parse(cfg.relay_address.empty() ? default_relay_address() : cfg.relay_address);
}
std::optional<base::IpAddress> parsed(const std::string& s) {
  return s.empty() ? std::nullopt : base::IpAddress::parse(s);
}
// What peers name our relay sockets by: the advertised addresses, and the bound ones behind a NAT.
std::vector<base::IpAddress> relay_names(const TurnConfig& cfg, const std::optional<base::IpAddress>& v4,
                                         const std::optional<base::IpAddress>& v6) {
  std::vector<base::IpAddress> out;
  for (const auto& a : {v4, v6, parsed(cfg.relay_bind), parsed(cfg.relay_bind_v6)})
    if (a) out.push_back(*a);
  return out;
}
}  // namespace

Shared::Shared(const TurnConfig& cfg, std::array<uint8_t, 32> key, std::vector<base::IpAddress> own)
    : config(cfg),
      relay_v4(advertised_relay_v4(cfg)),
      relay_v6(parsed(cfg.relay_address_v6)),
      credentials(cfg.realm, cfg.secrets),
      quota(cfg.user_quota, cfg.total_quota),
      relay_ports(relay_names(cfg, relay_v4, relay_v6)),
      policy(cfg.allowed_ranges(), cfg.denied_ranges(), std::move(own), &relay_ports),
      nonce_key(key) {
  credentials.set_oauth_keys(cfg.oauth_key_set());
}

const RelaySocket* Allocation::relay_for(base::Family f) const {
  for (auto& r : relays)
    if (r.open && r.advertised.addr.family() == f) return &r;
  return nullptr;
}

ServerLogic::ServerLogic(Shared& shared, Io& io, base::Random& random)
    : shared_(shared),
      io_(io),
      random_(random),
      nonces_(shared.nonce_key,
              std::chrono::duration_cast<std::chrono::seconds>(shared.config.nonce_lifetime).count()),
      limiter_(shared.config.unauth_rate, shared.config.unauth_burst),
      scratch_(stun::kMaxMessageSize + 64) {}

ServerLogic::~ServerLogic() = default;

const Allocation* ServerLogic::find(const FiveTuple& t) const {
  auto it = by_tuple_.find(t);
  return it == by_tuple_.end() ? nullptr : slots_[it->second].get();
}

uint64_t ServerLogic::tag_of(const Allocation& a, uint8_t relay_index) {
  return uint64_t(a.slot) << 32 | uint64_t(a.generation & 0x7FFFFFFF) << 1 | relay_index;
}

Allocation* ServerLogic::allocation_by_tag(uint64_t tag, uint8_t& relay_index) {
  uint32_t slot = uint32_t(tag >> 32);
  if (slot >= slots_.size() || !slots_[slot]) return nullptr;
  Allocation* a = slots_[slot].get();
  if ((a->generation & 0x7FFFFFFF) != uint32_t(tag >> 1 & 0x7FFFFFFF)) return nullptr;
  relay_index = uint8_t(tag & 1);
  return a->relays[relay_index].open ? a : nullptr;
}

// ---------------------------------------------------------------------------------------------
// Input demultiplexing

void ServerLogic::on_client_packet(const ClientFlow& flow, base::Bytes data, const base::Now& now) {
  if (stun::looks_like_channel_data(data)) return handle_channel_data(flow, data, now);
  auto parsed = stun::parse(data);
  if (!parsed) {
    // RFC 8489 §6.3: malformed messages are discarded without an answer.
    Stats::inc(stats_.drops[size_t(Drop::Malformed)]);
    LOG_DEBUG(log_name) << "dropped from " << flow.tuple.client.to_string() << ": " << stun::to_string(parsed.error());
    return;
  }
  const stun::Message& m = *parsed;
  switch (m.cls()) {
    case Class::Request: return handle_request(flow, m, now);
    case Class::Indication:
      if (m.method() == Method::Send) return handle_send(flow, m, now);
      return;
    default:
      return;  // a server does not expect responses
  }
}

void ServerLogic::handle_request(const ClientFlow& flow, const stun::Message& m, const base::Now& now) {
  uint16_t method = uint16_t(m.method());
  if (method < stats_.requests.size()) Stats::inc(stats_.requests[method]);

  std::array<uint16_t, 16> unknown;
  size_t n = m.unknown_required(kKnown, unknown);
  if (n > 0) {
    if (!allow_unauthenticated(flow, now)) return;
    std::vector<uint16_t> list(unknown.begin(), unknown.begin() + long(n));
    return send_error(flow, m, code::UnknownAttribute, {}, nullptr, &list);
  }
  switch (m.method()) {
    case Method::Binding: return handle_binding(flow, m, now);
    case Method::Allocate: return handle_allocate(flow, m, now);
    case Method::Refresh: return handle_refresh(flow, m, now);
    case Method::CreatePermission: return handle_create_permission(flow, m, now);
    case Method::ChannelBind: return handle_channel_bind(flow, m, now);
    default:
      if (!allow_unauthenticated(flow, now)) return;
      return send_error(flow, m, code::BadRequest, "Unknown method");
  }
}

bool ServerLogic::allow_unauthenticated(const ClientFlow& flow, const base::Now& now) {
  if (limiter_.allow(flow.tuple.client.addr, now.steady)) return true;
  Stats::inc(stats_.drops[size_t(Drop::RateLimited)]);
  if (now.steady - last_rate_log_ > 10s) {
    last_rate_log_ = now.steady;
    LOG_WARN(log_name) << "rate limit: dropping unauthenticated requests from " << flow.tuple.client.addr.to_string()
                       << " (unauth_rate " << shared_.config.unauth_rate << "/s)";
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Responses

void ServerLogic::finish_and_send(const ClientFlow& flow, stun::Builder& b, const Auth* auth, bool fingerprint) {
  if (!shared_.config.software.empty()) b.add(attr::Software, shared_.config.software);
  if (auth) {
    base::Bytes key(auth->key.bytes.data(), auth->key.len);
    if (auth->sha256_integrity) b.add_message_integrity_sha256(key);
    else b.add_message_integrity(key);
  }
  if (fingerprint) b.add_fingerprint();
  auto out = b.finish();
  if (!out) {
    LOG_ERROR(log_name) << "response did not fit the buffer";
    return;
  }
  io_.send_to_client(flow, *out);
}

void ServerLogic::send_error(const ClientFlow& flow, const stun::Message& req, int c, std::string_view reason,
                             const Auth* auth, const std::vector<uint16_t>* unknown) {
  stun::Builder b(scratch_, req.method(), Class::ErrorResponse, req.transaction_id());
  b.add_error_code(c, reason);
  if (unknown) b.add_unknown_attributes(*unknown);
  finish_and_send(flow, b, auth, req.has_fingerprint());
}

void ServerLogic::send_challenge(const ClientFlow& flow, const stun::Message& req, int c, const base::Now& now) {
  stun::Builder b(scratch_, req.method(), Class::ErrorResponse, req.transaction_id());
  b.add_error_code(c);
  b.add(attr::Realm, shared_.config.realm);
  b.add(attr::Nonce, nonces_.make(flow.tuple.client.addr, now.unix_s));
  b.add_password_algorithms(kPasswordAlgorithms);
  // RFC 7635 §6.1: where to get a token, when tokens are accepted.
  if (shared_.credentials.oauth_enabled()) b.add(attr::ThirdPartyAuthorization, shared_.config.server_name());
  finish_and_send(flow, b, nullptr, req.has_fingerprint());
}

// ---------------------------------------------------------------------------------------------
// Authentication (RFC 8489 §9.2.4)

bool ServerLogic::authenticate(const ClientFlow& flow, const stun::Message& m, const base::Now& now, Auth& out) {
  auto fail = [&](AuthFailure why, int c, std::string_view user) {
    Stats::inc(stats_.auth_failures[size_t(why)]);
    LOG_DEBUG(log_name) << "auth failed (" << name(why) << ") for \"" << user << "\" from "
                        << flow.tuple.client.to_string();
    if (!allow_unauthenticated(flow, now)) return false;
    if (c == code::BadRequest) send_error(flow, m, c, "Missing or inconsistent credential attributes");
    else send_challenge(flow, m, c, now);
    return false;
  };
  const stun::Attribute* mi = m.message_integrity();
  const stun::Attribute* mi256 = m.message_integrity_sha256();
  if (!mi && !mi256) {
    if (!allow_unauthenticated(flow, now)) return false;
    Stats::inc(stats_.challenges);
    send_challenge(flow, m, code::Unauthorized, now);
    return false;
  }
  auto username = m.string(attr::Username);
  const stun::Attribute* userhash = m.find(attr::Userhash);
  auto realm = m.string(attr::Realm);
  auto nonce = m.string(attr::Nonce);
  if ((!username && !userhash) || !realm || !nonce || (userhash && userhash->value.size() != 32) ||
      (username && username->size() > 512))
    return fail(AuthFailure::BadRequest, code::BadRequest, username.value_or(""));

  if (nonces_.check(*nonce, flow.tuple.client.addr, now.unix_s) != NonceManager::Check::Valid)
    return fail(AuthFailure::StaleNonce, code::StaleNonce, username.value_or(""));

  // Bid-down protection (RFC 8489 §9.2.4): either neither attribute (MD5), or both, with
  // PASSWORD-ALGORITHMS exactly as we offered it and PASSWORD-ALGORITHM one of them.
  uint16_t algorithm = stun::password_algorithm::Md5;
  const stun::Attribute* pa = m.find(attr::PasswordAlgorithm);
  const stun::Attribute* pas = m.find(attr::PasswordAlgorithms);
  if (pa || pas) {
    auto chosen = pa ? stun::decode_password_algorithm(pa->value) : std::nullopt;
    auto list = pas ? stun::decode_password_algorithms(pas->value) : std::nullopt;
    bool as_offered = list && list->size() == std::size(kPasswordAlgorithms);
    for (size_t i = 0; as_offered && i < list->size(); ++i)
      as_offered = (*list)[i].algorithm == kPasswordAlgorithms[i] && (*list)[i].parameters.empty();
    if (!chosen || !as_offered ||
        std::find(std::begin(kPasswordAlgorithms), std::end(kPasswordAlgorithms), chosen->algorithm) ==
            std::end(kPasswordAlgorithms))
      return fail(AuthFailure::BadRequest, code::BadRequest, username.value_or(""));
    algorithm = chosen->algorithm;
  }

  if (*realm != shared_.config.realm) return fail(AuthFailure::UnknownUser, code::Unauthorized, username.value_or(""));

  const stun::Attribute* access_token = m.find(attr::AccessToken);
  auto on_token_allocation = [&] {
    auto it = by_tuple_.find(flow.tuple);
    return it != by_tuple_.end() && slots_[it->second]->oauth && slots_[it->second]->username == *username;
  };
  if (username && (access_token || on_token_allocation()) && shared_.credentials.oauth_enabled()) {
    auto why = authenticate_oauth(flow, m, now, *username, access_token, out);
    if (!why) return true;
    return fail(*why, *why == AuthFailure::BadRequest ? code::BadRequest : code::Unauthorized, *username);
  }
  if (access_token) return fail(AuthFailure::BadToken, code::Unauthorized, username.value_or("<userhash>"));

  if (!username) {
    auto u = shared_.credentials.username_for_userhash(userhash->value);
    if (!u) return fail(AuthFailure::UnknownUser, code::Unauthorized, "<userhash>");
    out.username_storage = std::move(*u);
    out.username = out.username_storage;
  } else {
    out.username = *username;
  }

  Credential cred;
  CredentialStatus st = shared_.credentials.resolve(out.username, algorithm, now.unix_s, cred);
  if (st == CredentialStatus::Expired) return fail(AuthFailure::ExpiredCredential, code::Unauthorized, out.username);
  if (st == CredentialStatus::Revoked) return fail(AuthFailure::RevokedCredential, code::Unauthorized, out.username);
  if (st != CredentialStatus::Ok) return fail(AuthFailure::UnknownUser, code::Unauthorized, out.username);

  // MESSAGE-INTEGRITY-SHA256 takes precedence when both are present (RFC 8489 §14.6).
  out.sha256_integrity = mi256 != nullptr;
  for (size_t i = 0; i < cred.count; ++i) {
    base::Bytes key(cred.keys[i].bytes.data(), cred.keys[i].len);
    bool ok = out.sha256_integrity ? stun::verify_message_integrity_sha256(m, key) : stun::verify_message_integrity(m, key);
    if (ok) {
      out.key = cred.keys[i];
      out.expires_unix = cred.expires_unix;
      out.fingerprint = m.has_fingerprint();
      out.quota_key = std::string(out.username);
      return true;
    }
  }
  return fail(AuthFailure::BadIntegrity, code::Unauthorized, out.username);
}

std::optional<AuthFailure> ServerLogic::authenticate_oauth(const ClientFlow& flow, const stun::Message& m,
                                                           const base::Now& now, std::string_view kid,
                                                           const stun::Attribute* token, Auth& out) {
  out.username = kid;
  out.oauth = true;
  out.sha256_integrity = m.message_integrity_sha256() != nullptr;
  out.fingerprint = m.has_fingerprint();
  auto verify = [&](const Credential::Key& k) {
    base::Bytes key(k.bytes.data(), k.len);
    return out.sha256_integrity ? stun::verify_message_integrity_sha256(m, key) : stun::verify_message_integrity(m, key);
  };
  if (Credentials::revoked(*shared_.credentials.revocations(), kid, now.unix_s)) return AuthFailure::RevokedCredential;
  if (!token) {
    // A later request on the token's allocation may leave the token out: its mac_key is known.
    auto it = by_tuple_.find(flow.tuple);
    if (it == by_tuple_.end() || !slots_[it->second]->oauth || slots_[it->second]->username != kid)
      return AuthFailure::UnknownUser;
    const Allocation& a = *slots_[it->second];
    if (!verify(a.oauth_key)) return AuthFailure::BadIntegrity;
    out.key = a.oauth_key;
    out.expires_unix = a.credential_expires_unix;
    out.quota_key = a.quota_key;
    return std::nullopt;
  }
  auto key = shared_.credentials.oauth_key(kid);
  if (!key) return AuthFailure::UnknownUser;
  auto t = token::decode_oauth_token(*key, shared_.config.server_name(), token->value);
  if (!t) {
    LOG_DEBUG(log_name) << "ACCESS-TOKEN under kid \"" << kid << "\" refused: " << token::to_string(t.error());
    return AuthFailure::BadToken;
  }
  // 20 bytes: HMAC-SHA1 MESSAGE-INTEGRITY (what coturn accepts); 32: MESSAGE-INTEGRITY-SHA256.
  if (t->mac_key.size() != 20 && t->mac_key.size() != 32) return AuthFailure::BadToken;
  // Tokens must expire; one from the future (beyond clock skew) was not made by a sane AS.
  constexpr int64_t kSkew = 60;
  if (t->lifetime == 0 || t->seconds() > now.unix_s + kSkew) return AuthFailure::BadToken;
  int64_t expires = *t->expires_unix();
  if (expires < now.unix_s) return AuthFailure::ExpiredCredential;
  std::memcpy(out.key.bytes.data(), t->mac_key.data(), t->mac_key.size());
  out.key.len = uint8_t(t->mac_key.size());
  if (!verify(out.key)) {
    // coturn's clients key HMAC-SHA1 with the first 16 bytes of a 20-byte mac_key (its long-term
    // key size); accepted too, and answered the same way.
    if (out.key.len != 20 || out.sha256_integrity) return AuthFailure::BadIntegrity;
    out.key.len = 16;
    if (!verify(out.key)) return AuthFailure::BadIntegrity;
  }
  out.expires_unix = expires;
  // Quotas count per token (its nonce), not per kid, which every client of the WAF shares.
  out.quota_key = std::string(kid) + "#" + base::base64_encode(token->value.subspan(2, token::kOAuthNonceSize));
  return std::nullopt;
}

Allocation* ServerLogic::allocation_for(const ClientFlow& flow, const stun::Message& m, const Auth& auth) {
  auto it = by_tuple_.find(flow.tuple);
  if (it == by_tuple_.end()) {
    send_error(flow, m, code::AllocationMismatch, {}, &auth);
    return nullptr;
  }
  Allocation* a = slots_[it->second].get();
  // RFC 8656 §5: later requests on an allocation must use the credential that created it.
  bool same = a->username == auth.username && a->oauth == auth.oauth &&
              (!a->oauth || (a->oauth_key.len == auth.key.len &&
                             std::memcmp(a->oauth_key.bytes.data(), auth.key.bytes.data(), auth.key.len) == 0));
  if (!same) {
    Stats::inc(stats_.auth_failures[size_t(AuthFailure::WrongCredentials)]);
    send_error(flow, m, code::WrongCredentials, {}, &auth);
    return nullptr;
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// Binding (RFC 8489 §7.3): no authentication, reflexive address only.

void ServerLogic::handle_binding(const ClientFlow& flow, const stun::Message& m, const base::Now& now) {
  // Binding is unauthenticated; it still counts against the per-source budget.
  if (!allow_unauthenticated(flow, now)) return;
  stun::Builder b(scratch_, Method::Binding, Class::SuccessResponse, m.transaction_id());
  b.add_xor_address(attr::XorMappedAddress, flow.tuple.client);
  finish_and_send(flow, b, nullptr, m.has_fingerprint());
}

// ---------------------------------------------------------------------------------------------
// Allocate (RFC 8656 §7.2)

void ServerLogic::send_allocate_success(const ClientFlow& flow, const stun::Message& req, const Allocation& a,
                                        const Auth& auth, const base::Now& now) {
  stun::Builder b(scratch_, Method::Allocate, Class::SuccessResponse, req.transaction_id());
  for (auto& r : a.relays)
    if (r.open) b.add_xor_address(attr::XorRelayedAddress, r.advertised);
  if (a.address_error) b.add_address_error_code(a.address_error->first, a.address_error->second);
  auto left = std::chrono::duration_cast<std::chrono::seconds>(a.expires - now.steady).count();
  b.add_u32(attr::Lifetime, uint32_t(std::max<int64_t>(left, 0)));
  if (a.reservation_token) {
    uint8_t t[8];
    base::store_be64(t, *a.reservation_token);
    b.add(attr::ReservationToken, base::Bytes(t, 8));
  }
  b.add_xor_address(attr::XorMappedAddress, flow.tuple.client);
  finish_and_send(flow, b, &auth, auth.fingerprint);
}

void ServerLogic::handle_allocate(const ClientFlow& flow, const stun::Message& m, const base::Now& now) {
  Auth auth;
  if (!authenticate(flow, m, now, auth)) return;

  if (auto it = by_tuple_.find(flow.tuple); it != by_tuple_.end()) {
    Allocation& a = *slots_[it->second];
    // A retransmitted Allocate gets the same success again (RFC 8656 §7.2).
    if (a.allocate_tid == m.transaction_id() && a.username == auth.username)
      return send_allocate_success(flow, m, a, auth, now);
    return send_error(flow, m, code::AllocationMismatch, {}, &auth);
  }

  // Each attribute present must be well formed; absent ones are nullopt.
  auto decoded = [&](uint16_t type, auto decode) -> decltype(decode(base::Bytes{})) {
    const stun::Attribute* a = m.find(type);
    if (!a) return std::nullopt;
    return decode(a->value);
  };
  const stun::Attribute* transport = m.find(attr::RequestedTransport);
  auto protocol = transport ? stun::decode_requested_transport(transport->value) : std::nullopt;
  if (!protocol) return send_error(flow, m, code::BadRequest, "REQUESTED-TRANSPORT missing or malformed", &auth);
  if (*protocol != stun::kProtocolUdp) return send_error(flow, m, code::UnsupportedTransportProtocol, {}, &auth);

  bool has_even = m.has(attr::EvenPort), has_token = m.has(attr::ReservationToken);
  bool has_fam = m.has(attr::RequestedAddressFamily), has_extra = m.has(attr::AdditionalAddressFamily);
  auto even = decoded(attr::EvenPort, stun::decode_even_port);
  auto token = decoded(attr::ReservationToken, stun::decode_reservation_token);
  auto fam = decoded(attr::RequestedAddressFamily, stun::decode_address_family);
  auto extra = decoded(attr::AdditionalAddressFamily, stun::decode_address_family);
  if (has_even != bool(even) || has_token != bool(token) || has_fam != bool(fam) || has_extra != bool(extra))
    return send_error(flow, m, code::BadRequest, "Malformed attribute", &auth);
  if (token && (even || fam || extra))
    return send_error(flow, m, code::BadRequest, "RESERVATION-TOKEN with EVEN-PORT or an address family", &auth);
  if (fam && extra)
    return send_error(flow, m, code::BadRequest, "REQUESTED- and ADDITIONAL-ADDRESS-FAMILY together", &auth);

  base::Family family = base::Family::V4;
  if (fam) {
    if (*fam == stun::kFamilyV6) family = base::Family::V6;
    else if (*fam != stun::kFamilyV4) return send_error(flow, m, code::AddressFamilyNotSupported, {}, &auth);
  }
  // RFC 8656 §7.2: only IPv6 may be requested in addition (to the default IPv4).
  if (extra && *extra != stun::kFamilyV6)
    return send_error(flow, m, code::BadRequest, "ADDITIONAL-ADDRESS-FAMILY must be IPv6", &auth);
  bool dual = bool(extra);
  const auto& advertised_v4 = shared_.relay_v4;
  const auto& advertised_v6 = shared_.relay_v6;
  if ((family == base::Family::V4 && !advertised_v4) || (family == base::Family::V6 && !advertised_v6))
    return send_error(flow, m, code::AddressFamilyNotSupported, {}, &auth);

  if (!shared_.quota.acquire(auth.quota_key)) {
    LOG_INFO(log_name) << "allocation quota reached for \"" << auth.username << "\"";
    return send_error(flow, m, code::AllocationQuotaReached, {}, &auth);
  }

  // Take a slot now: the relay tag names it.
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = uint32_t(slots_.size());
    slots_.emplace_back();
    generations_.push_back(0);
  }
  auto a = std::make_unique<Allocation>();
  a->flow = flow;
  a->username = std::string(auth.username);
  a->quota_key = auth.quota_key;
  a->credential_expires_unix = auth.expires_unix;
  a->oauth = auth.oauth;
  if (auth.oauth) a->oauth_key = auth.key;
  a->allocate_tid = m.transaction_id();
  a->slot = slot;
  a->generation = ++generations_[slot];

  auto release_slot = [&] {
    free_slots_.push_back(slot);
    shared_.quota.release(auth.quota_key);
  };

  Io::RelayRequest req;
  req.family = family;
  req.even_port = bool(even);
  req.reserve_next = even.value_or(false);
  req.reservation_token = token;
  req.dont_fragment = m.has(attr::DontFragment);
  req.tag = tag_of(*a, 0);
  auto opened = io_.open_relay(req);
  if (!opened) {
    release_slot();
    LOG_WARN(log_name) << "no relay port for \"" << auth.username << "\" (" << opened.error() << ")";
    return send_error(flow, m, opened.error(), {}, &auth);
  }
  // A reserved socket (RESERVATION-TOKEN) has the family of the Allocate that reserved it.
  const auto& adv = opened->bound.addr.is_v4() ? advertised_v4 : advertised_v6;
  if (!adv) {
    io_.close_relay(opened->handle);
    release_slot();
    return send_error(flow, m, code::AddressFamilyNotSupported, {}, &auth);
  }
  a->relays[0] = {opened->handle, {*adv, opened->bound.port}, true};
  a->reservation_token = opened->reservation_token;
  if (dual) {
    if (!advertised_v6) {
      a->address_error = std::make_pair(stun::kFamilyV6, code::AddressFamilyNotSupported);
    } else {
      Io::RelayRequest r6;
      r6.family = base::Family::V6;
      r6.dont_fragment = req.dont_fragment;
      r6.tag = tag_of(*a, 1);
      auto o6 = io_.open_relay(r6);
      if (o6) {
        a->relays[1] = {o6->handle, {*advertised_v6, o6->bound.port}, true};
      } else {
        a->address_error = std::make_pair(stun::kFamilyV6, o6.error());
      }
    }
  }

  // Lifetime: max(default, min(requested, max)) (RFC 8656 §7.2).
  auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(shared_.config.default_lifetime);
  if (auto l = m.u32(attr::Lifetime)) {
    auto req_s = std::chrono::seconds(*l);
    auto max_s = std::chrono::duration_cast<std::chrono::seconds>(shared_.config.max_lifetime);
    lifetime = std::max(lifetime, std::min(req_s, max_s));
  }
  a->expires = now.steady + lifetime;

  Allocation& ref = *a;
  slots_[slot] = std::move(a);
  by_tuple_.emplace(flow.tuple, slot);
  Stats::inc(stats_.allocations_created);
  Stats::inc(stats_.allocations);
  LOG_INFO(log_name) << "allocation for \"" << ref.username << "\" from " << name(flow.tuple.transport) << " "
                     << flow.tuple.client.to_string() << ": relay " << ref.relays[0].advertised.to_string()
                     << (ref.relays[1].open ? " and " + ref.relays[1].advertised.to_string() : std::string())
                     << ", lifetime " << lifetime.count() << "s";
  send_allocate_success(flow, m, ref, auth, now);
}

// ---------------------------------------------------------------------------------------------
// Refresh (RFC 8656 §7.3)

void ServerLogic::handle_refresh(const ClientFlow& flow, const stun::Message& m, const base::Now& now) {
  Auth auth;
  if (!authenticate(flow, m, now, auth)) return;
  Allocation* a = allocation_for(flow, m, auth);
  if (!a) return;

  std::optional<base::Family> only;
  if (const stun::Attribute* fam = m.find(attr::RequestedAddressFamily)) {
    auto f = stun::decode_address_family(fam->value);
    if (!f || (*f != stun::kFamilyV4 && *f != stun::kFamilyV6))
      return send_error(flow, m, code::BadRequest, "Malformed REQUESTED-ADDRESS-FAMILY", &auth);
    only = *f == stun::kFamilyV4 ? base::Family::V4 : base::Family::V6;
    if (!a->relay_for(*only)) return send_error(flow, m, code::PeerAddressFamilyMismatch, {}, &auth);
  }

  uint32_t requested = m.u32(attr::Lifetime).value_or(
      uint32_t(std::chrono::duration_cast<std::chrono::seconds>(shared_.config.default_lifetime).count()));
  stun::Builder b(scratch_, Method::Refresh, Class::SuccessResponse, m.transaction_id());
  if (requested == 0) {
    if (only && a->relays[0].open && a->relays[1].open) {
      // Dual allocation: only the named family's relay ends (RFC 8656 §7.3).
      RelaySocket& r = a->relays[a->relays[0].advertised.addr.family() == *only ? 0 : 1];
      io_.close_relay(r.handle);
      r.open = false;
    } else {
      teardown(*a, Teardown::Refresh);
    }
    b.add_u32(attr::Lifetime, 0);
    return finish_and_send(flow, b, &auth, auth.fingerprint);
  }
  auto max_s = std::chrono::duration_cast<std::chrono::seconds>(shared_.config.max_lifetime);
  auto lifetime = std::min(std::chrono::seconds(requested), max_s);
  a->expires = now.steady + lifetime;
  a->credential_expires_unix = auth.expires_unix;
  b.add_u32(attr::Lifetime, uint32_t(lifetime.count()));
  finish_and_send(flow, b, &auth, auth.fingerprint);
}

// ---------------------------------------------------------------------------------------------
// Peers (RFC 8656 §21)

PeerPolicy::Verdict ServerLogic::check_peer(const Allocation& a, const base::Endpoint& peer) {
  auto verdict = shared_.policy.check(peer);
  if (!PeerPolicy::permits(verdict)) {
    Stats::inc(stats_.drops[size_t(Drop::PeerDenied)]);
    Stats::inc(stats_.peers_refused[size_t(verdict)]);
    LOG_INFO(log_name) << "peer " << base::Endpoint{peer.addr.unmapped(), peer.port}.to_string() << " refused for \""
                       << a.username << "\": " << name(verdict);
  } else if (verdict == PeerPolicy::Verdict::AllowedOwnRelay) {
    LOG_DEBUG(log_name) << "peer " << base::Endpoint{peer.addr.unmapped(), peer.port}.to_string() << " for \""
                        << a.username << "\" is a relayed address of this server";
  }
  return verdict;
}

// ---------------------------------------------------------------------------------------------
// CreatePermission (RFC 8656 §9.2)

void ServerLogic::handle_create_permission(const ClientFlow& flow, const stun::Message& m, const base::Now& now) {
  Auth auth;
  if (!authenticate(flow, m, now, auth)) return;
  Allocation* a = allocation_for(flow, m, auth);
  if (!a) return;

  // All peers are checked before any is installed: the request succeeds or fails as a whole.
  std::array<base::Endpoint, 16> peers;
  size_t n = 0;
  for (const auto& at : m.attributes()) {
    if (at.type != attr::XorPeerAddress) continue;
    if (n == peers.size()) return send_error(flow, m, code::BadRequest, "Too many XOR-PEER-ADDRESS", &auth);
    auto p = stun::decode_xor_address(at.value, m.transaction_id());
    if (!p) return send_error(flow, m, code::BadRequest, "Malformed XOR-PEER-ADDRESS", &auth);
    peers[n++] = *p;
  }
  if (n == 0) return send_error(flow, m, code::BadRequest, "XOR-PEER-ADDRESS missing", &auth);
  size_t fresh = 0;
  std::array<bool, 16> own_relay{};
  for (size_t i = 0; i < n; ++i) {
    if (!a->relay_for(peers[i].addr.unmapped().family()))
      return send_error(flow, m, code::PeerAddressFamilyMismatch, {}, &auth);
    auto verdict = check_peer(*a, peers[i]);
    if (!PeerPolicy::permits(verdict)) return send_error(flow, m, code::Forbidden, "Peer address not allowed", &auth);
    own_relay[i] = verdict == PeerPolicy::Verdict::AllowedOwnRelay;
    bool have = std::any_of(a->permissions.begin(), a->permissions.end(),
                            [&](const Permission& p) { return p.peer == peers[i].addr.unmapped(); });
    if (!have) ++fresh;
  }
  if (a->permissions.size() + fresh > size_t(shared_.config.max_permissions))
    return send_error(flow, m, code::InsufficientCapacity, "Too many permissions", &auth);
  for (size_t i = 0; i < n; ++i) {
    base::IpAddress ip = peers[i].addr.unmapped();
    auto it = std::find_if(a->permissions.begin(), a->permissions.end(), [&](const Permission& p) { return p.peer == ip; });
    if (it != a->permissions.end()) {
      it->expires = now.steady + kPermissionLifetime;
      it->own_relay = own_relay[i];
    } else {
      a->permissions.push_back({ip, now.steady + kPermissionLifetime, own_relay[i]});
    }
  }
  stun::Builder b(scratch_, Method::CreatePermission, Class::SuccessResponse, m.transaction_id());
  finish_and_send(flow, b, &auth, auth.fingerprint);
}

// ---------------------------------------------------------------------------------------------
// ChannelBind (RFC 8656 §11.2)

void ServerLogic::handle_channel_bind(const ClientFlow& flow, const stun::Message& m, const base::Now& now) {
  Auth auth;
  if (!authenticate(flow, m, now, auth)) return;
  Allocation* a = allocation_for(flow, m, auth);
  if (!a) return;

  const stun::Attribute* cn = m.find(attr::ChannelNumber);
  auto channel = cn ? stun::decode_channel_number(cn->value) : std::nullopt;
  if (!channel) return send_error(flow, m, code::BadRequest, "CHANNEL-NUMBER missing or malformed", &auth);
  uint16_t number = *channel;
  if (!stun::valid_channel(number)) return send_error(flow, m, code::BadRequest, "Channel number out of range", &auth);
  auto peer = m.xor_address(attr::XorPeerAddress);
  if (!peer) return send_error(flow, m, code::BadRequest, "XOR-PEER-ADDRESS missing", &auth);
  peer->addr = peer->addr.unmapped();
  if (!a->relay_for(peer->addr.family())) return send_error(flow, m, code::PeerAddressFamilyMismatch, {}, &auth);

  Channel* existing = nullptr;
  for (auto& c : a->channels) {
    if (now.steady >= c.reserved_until) continue;
    bool same_number = c.number == number, same_peer = c.peer == *peer;
    if (same_number && same_peer) existing = &c;
    else if (same_number || same_peer)
      return send_error(flow, m, code::BadRequest, "Channel or peer already bound differently", &auth);
  }
  auto verdict = check_peer(*a, *peer);
  if (!PeerPolicy::permits(verdict)) return send_error(flow, m, code::Forbidden, "Peer address not allowed", &auth);
  bool own_relay = verdict == PeerPolicy::Verdict::AllowedOwnRelay;
  auto it = std::find_if(a->permissions.begin(), a->permissions.end(), [&](const Permission& p) { return p.peer == peer->addr; });
  if (it == a->permissions.end() && a->permissions.size() >= size_t(shared_.config.max_permissions))
    return send_error(flow, m, code::InsufficientCapacity, "Too many permissions", &auth);

  base::SteadyTime until = now.steady + kChannelLifetime;
  if (existing) {
    existing->expires = until;
    existing->reserved_until = until + kChannelQuarantine;
  } else {
    // Drop a quarantined entry for the same number/peer before re-adding.
    a->channels.erase(std::remove_if(a->channels.begin(), a->channels.end(),
                                     [&](const Channel& c) { return now.steady >= c.reserved_until; }),
                      a->channels.end());
    a->channels.push_back({number, *peer, until, until + kChannelQuarantine});
  }
  // A channel binding installs or refreshes the permission for the peer (RFC 8656 §11.2).
  if (it != a->permissions.end()) {
    it->expires = now.steady + kPermissionLifetime;
    it->own_relay = own_relay;
  } else {
    a->permissions.push_back({peer->addr, now.steady + kPermissionLifetime, own_relay});
  }

  stun::Builder b(scratch_, Method::ChannelBind, Class::SuccessResponse, m.transaction_id());
  finish_and_send(flow, b, &auth, auth.fingerprint);
}

// ---------------------------------------------------------------------------------------------
// Data path: Send indication / ChannelData from the client, datagrams from peers.

void ServerLogic::handle_send(const ClientFlow& flow, const stun::Message& m, const base::Now& now) {
  auto it = by_tuple_.find(flow.tuple);
  if (it == by_tuple_.end()) return Stats::inc(stats_.drops[size_t(Drop::NoAllocation)]);
  Allocation& a = *slots_[it->second];
  auto peer = m.xor_address(attr::XorPeerAddress);
  const stun::Attribute* data = m.find(attr::Data);
  if (!peer || !data) return Stats::inc(stats_.drops[size_t(Drop::Malformed)]);
  base::IpAddress ip = peer->addr.unmapped();
  const RelaySocket* relay = a.relay_for(ip.family());
  if (!relay) return Stats::inc(stats_.drops[size_t(Drop::NoPermission)]);
  // RFC 8656 §10.2: without a permission for the peer the data is silently discarded.
  auto perm = std::find_if(a.permissions.begin(), a.permissions.end(),
                           [&](const Permission& p) { return p.peer == ip && now.steady < p.expires; });
  if (perm == a.permissions.end()) return Stats::inc(stats_.drops[size_t(Drop::NoPermission)]);
  // A permission for our own relay address reaches only its live relay sockets, not the
  // listeners or other local services on the same address (the bit lookup first: it is the
  // common case; the full check only names the reason).
  if (perm->own_relay && !shared_.policy.own_relay({ip, peer->port})) {
    auto verdict = shared_.policy.check({ip, peer->port});
    if (!PeerPolicy::permits(verdict)) {
      Stats::inc(stats_.drops[size_t(Drop::PeerDenied)]);
      Stats::inc(stats_.peers_refused[size_t(verdict)]);
      LOG_DEBUG(log_name) << "Send to " << base::Endpoint{ip, peer->port}.to_string() << " from \"" << a.username
                          << "\" dropped: " << name(verdict);
      return;
    }
  }
  io_.send_to_peer(relay->handle, {ip, peer->port}, data->value);
  Stats::inc(stats_.to_peer_packets);
  Stats::inc(stats_.to_peer_bytes, data->value.size());
}

void ServerLogic::handle_channel_data(const ClientFlow& flow, base::Bytes d, const base::Now& now) {
  auto cd = stun::parse_channel_data(d);
  if (!cd) return Stats::inc(stats_.drops[size_t(Drop::Malformed)]);
  auto it = by_tuple_.find(flow.tuple);
  if (it == by_tuple_.end()) return Stats::inc(stats_.drops[size_t(Drop::NoAllocation)]);
  Allocation& a = *slots_[it->second];
  for (const Channel& c : a.channels) {
    if (c.number != cd->channel) continue;
    // RFC 8656 §12.6: data on a channel that is not bound is discarded.
    if (now.steady >= c.expires) break;
    // A channel to another allocation's relay socket was checked when bound or refreshed; it is
    // not checked per packet, so it outlives that allocation until it expires (like a channel to
    // any peer that went away).
    const RelaySocket* relay = a.relay_for(c.peer.addr.family());
    if (!relay) break;
    io_.send_to_peer(relay->handle, c.peer, cd->data);
    Stats::inc(stats_.to_peer_packets);
    Stats::inc(stats_.to_peer_bytes, cd->data.size());
    return;
  }
  Stats::inc(stats_.drops[size_t(Drop::NoChannel)]);
}

void ServerLogic::on_peer_packet(uint64_t tag, const base::Endpoint& raw_peer, base::MutableBytes buf, size_t headroom,
                                 size_t len, const base::Now& now) {
  uint8_t relay_index;
  Allocation* a = allocation_by_tag(tag, relay_index);
  if (!a) return Stats::inc(stats_.drops[size_t(Drop::NoAllocation)]);
  base::Endpoint peer{raw_peer.addr.unmapped(), raw_peer.port};
  // RFC 8656 §9: only peers with a permission reach the client.
  bool permitted = false;
  for (const Permission& p : a->permissions)
    if (p.peer == peer.addr && now.steady < p.expires) {
      permitted = true;
      break;
    }
  if (!permitted) return Stats::inc(stats_.drops[size_t(Drop::NoPermission)]);

  for (const Channel& c : a->channels) {
    if (c.peer != peer || now.steady >= c.expires) continue;
    // ChannelData framed in place in the receive buffer's headroom (no copy).
    auto msg = stun::frame_channel_data(buf.subspan(headroom - stun::kChannelDataHeader), c.number, len, a->flow.stream());
    io_.send_to_client(a->flow, msg);
    Stats::inc(stats_.to_client_packets);
    Stats::inc(stats_.to_client_bytes, len);
    return;
  }
  // No channel: a Data indication (RFC 8656 §11.4).
  stun::TransactionId tid;
  random_.fill(tid);
  stun::Builder b(scratch_, Method::Data, Class::Indication, tid);
  b.add_xor_address(attr::XorPeerAddress, peer);
  b.add(attr::Data, base::Bytes(buf.data() + headroom, len));
  auto out = b.finish();
  if (!out) return Stats::inc(stats_.drops[size_t(Drop::Malformed)]);
  io_.send_to_client(a->flow, *out);
  Stats::inc(stats_.to_client_packets);
  Stats::inc(stats_.to_client_bytes, len);
}

// ---------------------------------------------------------------------------------------------
// Lifetimes

void ServerLogic::teardown(Allocation& a, Teardown why) {
  LOG_INFO(log_name) << "allocation of \"" << a.username << "\" from " << name(a.flow.tuple.transport) << " "
                     << a.flow.tuple.client.to_string() << " ended: " << name(why);
  for (auto& r : a.relays)
    if (r.open) io_.close_relay(r.handle);
  shared_.quota.release(a.quota_key);
  Stats::inc(stats_.allocations_deleted[size_t(why)]);
  stats_.allocations.store(stats_.allocations.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  ClientFlow flow = a.flow;
  uint32_t slot = a.slot;
  by_tuple_.erase(flow.tuple);
  free_slots_.push_back(slot);
  slots_[slot].reset();  // `a` is gone from here on
  // Credentials that ended take the client's stream with them, so it notices at once. Last, as
  // closing re-enters on_client_closed.
  if ((why == Teardown::CredentialExpired || why == Teardown::CredentialRevoked) && flow.stream())
    io_.close_client(flow);
}

void ServerLogic::on_client_closed(const FiveTuple& t, const base::Now&) {
  auto it = by_tuple_.find(t);
  if (it != by_tuple_.end()) teardown(*slots_[it->second], Teardown::ConnectionClosed);
}

void ServerLogic::on_timer(const base::Now& now) {
  auto revoked = shared_.credentials.revocations();  // one snapshot for the whole sweep
  for (auto& s : slots_) {
    if (!s) continue;
    Allocation& a = *s;
    if (Credentials::revoked(*revoked, a.username, now.unix_s)) {
      teardown(a, Teardown::CredentialRevoked);
      continue;
    }
    if (a.credential_expires_unix != 0 && a.credential_expires_unix < now.unix_s) {
      teardown(a, Teardown::CredentialExpired);
      continue;
    }
    if (now.steady >= a.expires) {
      teardown(a, Teardown::Expired);
      continue;
    }
    std::erase_if(a.permissions, [&](const Permission& p) { return now.steady >= p.expires; });
    std::erase_if(a.channels, [&](const Channel& c) { return now.steady >= c.reserved_until; });
  }
}

void ServerLogic::shutdown() {
  for (auto& s : slots_)
    if (s) teardown(*s, Teardown::Shutdown);
}

}  // namespace turn
