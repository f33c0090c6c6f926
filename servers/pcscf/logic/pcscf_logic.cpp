#include "pcscf/logic/pcscf_logic.hpp"

#include <algorithm>

#include "base/log.hpp"
#include "sip/auth.hpp"
#include "sip/salvage.hpp"
#include "sip/validate.hpp"

namespace pcscf {

namespace {

constexpr const char* kLog = "pcscf";
using sip::HeaderId;
using sip::Method;

sip::ProxyConfig proxy_config(const PcscfSettings& s) {
  sip::ProxyConfig c;
  c.sent_by = {{s.sip_transport, s.sip_host_port}, {"WSS", s.ws_sent_by}, {"WS", s.ws_sent_by}};
  c.default_sent_by = s.sip_host_port;
  c.local_names = {s.sip_host_port};
  return c;
}

// The IMPI of a REGISTER: the Digest username, else derived from the To IMPU (TR 33.871
// 6.1.1.2 NOTE 5: strip "sip:").
std::string impi_of(const sip::Message& req) {
  if (auto a = req.get(HeaderId::Authorization))
    if (auto v = sip::parse_auth(*a); v && v->is("Digest"))
      if (auto* u = v->find("username"); u && !u->value.empty()) return u->value;
  if (auto to = req.to()) {
    std::string aor = to->uri.address_of_record();
    if (aor.rfind("sip:", 0) == 0) return aor.substr(4);
    if (aor.rfind("sips:", 0) == 0) return aor.substr(5);
    return aor;
  }
  return {};
}

// The registration expiry the core granted to the contact(s) of this REGISTER (0 = removed).
uint32_t granted_expires(const sip::Message& response) {
  uint32_t best = 0;
  if (auto contacts = response.contacts()) {
    for (auto& c : *contacts) {
      if (c.star) continue;
      if (auto e = c.expires(); e && *e) best = std::max(best, **e);
      else if (auto h = response.expires()) best = std::max(best, *h);
    }
  }
  return best;
}

constexpr uint64_t kWantsTurnCredential = 1;  // forward() cookie bit 0; the bits above: a token registration id
constexpr uint16_t kPolicyViolation = 1008;    // RFC 6455 §7.4.1: the close after a refused token

bool is_dialog_creating(Method m) { return m == Method::Invite || m == Method::Subscribe || m == Method::Refer; }

}  // namespace

PcscfLogic::PcscfLogic(PcscfSettings settings, PcscfIo& io, base::Random& random)
    : settings_(std::move(settings)),
      io_(io),
      random_(random),
      tokens_(settings_.flow_key),
      proxy_(proxy_config(settings_), *this, random) {}

PcscfLogic::~PcscfLogic() = default;

sip::Hop PcscfLogic::ws_hop(uint64_t connection) const {
  sip::Hop h;
  auto it = flows_.find(connection);
  h.transport = it != flows_.end() && !it->second.tls ? "WS" : "WSS";
  if (it != flows_.end()) h.remote = it->second.remote;
  h.flow = ws_flow_id(connection);
  return h;
}

std::string PcscfLogic::our_uri(uint64_t connection, bool path) const {
  std::string t = settings_.sip_transport;
  std::transform(t.begin(), t.end(), t.begin(), [](char c) { return char(std::tolower(uint8_t(c))); });
  return "sip:" + tokens_.make(connection) + "@" + settings_.sip_host_port + ";transport=" + t + ";lr" +
         (path ? ";ob" : "");
}

namespace {
void strip_bearer(sip::Message& req) {
  auto auths = req.values(HeaderId::Authorization);
  std::vector<std::string> kept;
  for (auto a : auths) {
    auto v = sip::parse_auth(a);
    if (!v || !v->is("Bearer")) kept.emplace_back(a);  // unparsable ones are not ours to judge here
  }
  if (kept.size() == auths.size()) return;
  req.remove(HeaderId::Authorization);
  for (auto& k : kept) req.append(HeaderId::Authorization, k);
}
}  // namespace

bool PcscfLogic::send(const sip::Hop& to, const sip::Message& msg) {
  if (is_ws_flow(to.flow)) {
    uint64_t connection = to.flow & ~(1ull << 63);
    bool sent = io_.ws_send(connection, msg.to_string());
    // A token registration the core refused: the 403 goes out first, then the close (protocols.md).
    if (close_after_response_ == connection) {
      close_after_response_.reset();
      io_.ws_close(connection, kPolicyViolation, "Registration refused");
    }
    return sent;
  }
  return io_.sip_send(to, msg);
}

void PcscfLogic::refuse(const sip::Hop& from, const sip::Message& req, int status, std::string_view reason,
                        uint64_t* counter) {
  if (counter) ++*counter;
  if (req.method_id() == Method::Ack) return;  // an ACK is never answered
  proxy_.respond(from, req, status, reason,
                 {{"Warning", sip::format_warning(399, settings_.warning_agent, reason)}});
}

// ---------------------------------------------------------------------------------------------
// WebSocket side (W2)

void PcscfLogic::on_ws_open(const WsFlow& flow) {
  flows_[flow.id] = flow;
  ++stats_.ws_opened;
}

void PcscfLogic::on_ws_closed(uint64_t connection, const base::Now& now) {
  now_ = now;
  if (flows_.erase(connection) == 0) return;
  ++stats_.ws_closed;
  // Closing the connection ends its identity binding (protocols.md), and with it its TURN
  // credentials when revocation is configured (Approach 2).
  bindings_.drop_connection(connection);
  revoke_credentials(connection, nullptr, now.unix_s);
  std::erase_if(waiting_, [&](const auto& w) { return w.second.connection == connection; });
  std::erase_if(token_regs_, [&](const auto& r) { return r.second.connection == connection; });
  proxy_.on_flow_closed(ws_flow_id(connection), now);
}

void PcscfLogic::on_ws_message(uint64_t connection, std::string text, const base::Now& now) {
  now_ = now;
  if (!flows_.count(connection)) return;
  sip::Hop from = ws_hop(connection);
  auto parsed = sip::parse_message(std::string_view(text));
  if (!parsed) {
    ++stats_.refused_malformed;
    LOG_INFO(kLog) << "malformed SIP from " << from.remote.to_string() << ": " << parsed.error().reason;
    if (auto r = sip::salvage_response(text, 400, {}, settings_.warning_agent, parsed.error().reason))
      io_.ws_send(connection, std::move(*r));
    else
      io_.ws_close(connection, 1002, "malformed SIP");  // protocols.md W2: no response possible
    return;
  }
  sip::Message& m = *parsed;
  if (m.is_request()) {
    if (auto chk = sip::check_request(m); !chk) {
      LOG_INFO(kLog) << "bad request from " << from.remote.to_string() << ": " << chk.error().reason;
      return refuse(from, m, 400, chk.error().reason, &stats_.refused_malformed);
    }
  }
  if (proxy_.on_message(from, m, now) == sip::ProxyCore::Inbound::Consumed) return;
  switch (m.method_id()) {
    case Method::Register: return handle_register(from, connection, m, now);
    case Method::Options:
      if (auto h = m.get(kTurnCredHeader); h && wants_turn_credential(*h)) return handle_turn_options(from, connection, m, now);
      [[fallthrough]];
    default: return handle_originating(from, connection, m, now);
  }
}

void PcscfLogic::handle_register(const sip::Hop& from, uint64_t connection, sip::Message& req, const base::Now& now) {
  std::optional<std::string> bearer;
  auto auths = req.values(HeaderId::Authorization);
  if (!auths.empty()) {
    std::vector<std::string> kept;
    bool changed = false;
    for (auto a : auths) {
      auto v = sip::parse_auth(a);
      if (!v) return refuse(from, req, 400, "Malformed Authorization header", &stats_.refused_malformed);
      if (v->is("Bearer")) {
        if (auths.size() > 1)
          return refuse(from, req, 400, "A Bearer token must be the only Authorization", &stats_.refused_malformed);
        if (!settings_.token.enabled)
          return refuse(from, req, 403, "Token-based registration is not enabled on this eP-CSCF", &stats_.refused_token);
        bearer = sip::bearer_token(*v);
        if (!bearer || bearer->empty()) {
          refuse(from, req, 403, "Malformed Bearer credentials", &stats_.refused_token);
          io_.ws_close(connection, kPolicyViolation, "Malformed Bearer credentials");
          return;
        }
        continue;
      }
      kept.emplace_back(a);
      if (v->is("Digest")) {
        // A WIC may not claim Trusted Node Authentication for itself: drop what only we may
        // assert (protocols.md "Scenarios 2 and 3"), in every Authorization it sent.
        auto cred = sip::to_digest_credentials(*v);
        if (!cred) return refuse(from, req, 400, "Malformed Digest credentials", &stats_.refused_malformed);
        if (cred->remove_other("integrity-protected") + cred->remove_other("authorization-entity") > 0) {
          kept.back() = sip::format(*cred);
          changed = true;
        }
      }
    }
    if (changed) {
      req.remove(HeaderId::Authorization);
      for (auto& k : kept) req.append(HeaderId::Authorization, k);
    }
  }
  req.remove(HeaderId::PAssertedIdentity);
  req.remove(HeaderId::PPreferredIdentity);
  // Between WIC and eP-CSCF only: remembered with the transaction (the cookie) and answered on
  // the core's 200 OK in on_response.
  uint64_t cookie = 0;
  if (auto h = req.get(kTurnCredHeader); h && wants_turn_credential(*h)) cookie |= kWantsTurnCredential;
  req.remove(kTurnCredHeader);
  if (bearer) return handle_bearer(from, connection, req, std::move(*bearer), cookie, now);
  forward_register(from, connection, std::move(req), cookie, now);
}

void PcscfLogic::forward_register(const sip::Hop& from, uint64_t connection, sip::Message req, uint64_t cookie,
                                  const base::Now& now) {
  auto route = proxy_.preprocess_route(req);
  (void)route;
  sip::ProxyCore::add_path(req, our_uri(connection, true));
  bool has_path = false;
  for (auto s : req.values(HeaderId::Supported))
    if (s.find("path") != std::string_view::npos) has_path = true;
  if (!has_path) req.append(HeaderId::Supported, "path");
  proxy_.forward(from, std::move(req), settings_.next_hop, now, cookie);
}

// ---------------------------------------------------------------------------------------------
// Bearer tokens (scenarios 2 and 3)

void PcscfLogic::handle_bearer(const sip::Hop& from, uint64_t connection, sip::Message& req, std::string tok,
                               uint64_t cookie, const base::Now& now) {
  Waiting w{from, connection, std::move(req), std::move(tok), cookie, true};
  if (looks_like_jwt(w.token)) return validate_jwt(std::move(w), false, now);
  if (!settings_.token.introspection) return refuse_token(w, refusal_reason(token::TokenCheck::Malformed));
  w.for_keys = false;
  park(std::move(w), now);
}

bool PcscfLogic::may_fetch_jwks(const base::Now& now) const {
  if (!settings_.token.jwks_fetch || jwks_in_flight_) return false;
  // No keys at all yet (the WAF started after us): every waiting REGISTER may try, one fetch at a time.
  if (!keys_loaded_) return true;
  return !jwks_started_ || now.steady - *jwks_started_ >= std::chrono::seconds(settings_.token.jwks_refetch_interval_s);
}

void PcscfLogic::start_jwks_fetch(const base::Now& now) {
  jwks_in_flight_ = true;
  jwks_started_ = now.steady;
  ++stats_.jwks_fetches;
  io_.fetch_jwks();
}

void PcscfLogic::validate_jwt(Waiting w, bool after_fetch, const base::Now& now) {
  // Keys not there yet, or being fetched: wait for them rather than refuse a good token.
  if (!after_fetch && settings_.token.jwks_fetch && (jwks_in_flight_ || (!keys_loaded_ && may_fetch_jwks(now))))
    return park(std::move(w), now);
  auto r = token::verify_ims_token(w.token, keys_, settings_.token.policy, now.unix_s);
  if (!r && r.error().check == token::TokenCheck::UnknownKey) {
    // The WAF may have rotated its keys: fetch again, at most once per refetch interval.
    if (!after_fetch && may_fetch_jwks(now)) return park(std::move(w), now);
    if (settings_.token.jwks_fetch && jwks_last_failed_) {
      // Not the token's fault: the WAF's keys cannot be had. Say so, and keep the connection.
      ++stats_.token_unavailable;
      return refuse(w.from, w.req, 503, "Token signing keys unavailable");
    }
  }
  if (!r) {
    LOG_INFO(kLog) << "token REGISTER from " << w.from.remote.to_string() << " refused: " << to_string(r.error().check)
                   << ": " << r.error().reason;
    return refuse_token(w, refusal_reason(r.error().check));
  }
  accept_token(std::move(w), *r, now);
}

void PcscfLogic::park(Waiting w, const base::Now& now) {
  if (waiting_.size() >= settings_.token.max_waiting) {
    ++stats_.token_unavailable;
    return refuse(w.from, w.req, 503, "Too many registrations waiting for token validation");
  }
  uint64_t id = next_request_++;
  bool for_keys = w.for_keys;
  std::string tok = for_keys ? std::string() : w.token;
  waiting_.emplace(id, std::move(w));
  if (for_keys) {
    if (!jwks_in_flight_) start_jwks_fetch(now);
  } else {
    io_.introspect(id, tok);
  }
}

void PcscfLogic::set_verify_keys(token::VerifyKeys keys) {
  keys_ = std::move(keys);
  keys_loaded_ = true;
}

void PcscfLogic::on_jwks(base::Result<token::VerifyKeys, std::string> keys, const base::Now& now) {
  now_ = now;
  jwks_in_flight_ = false;
  if (keys) {
    LOG_INFO(kLog) << "token signing keys loaded: " << keys->size() << " ES256 key(s)";
    keys_ = std::move(*keys);
    keys_loaded_ = true;
    jwks_last_failed_ = false;
    jwks_loaded_at_ = now.steady;
  } else {
    ++stats_.jwks_fetch_failures;
    jwks_last_failed_ = true;
    LOG_WARN(kLog) << "cannot fetch the token signing keys: " << keys.error();
  }
  // Every REGISTER that waited for keys, validated once more with what we have now.
  std::vector<Waiting> ready;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second.for_keys) {
      ready.push_back(std::move(it->second));
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& w : ready) {
    if (!flows_.count(w.connection)) continue;
    validate_jwt(std::move(w), true, now);
  }
}

void PcscfLogic::on_introspection(uint64_t request, base::Result<std::string, std::string> body, const base::Now& now) {
  now_ = now;
  auto it = waiting_.find(request);
  if (it == waiting_.end() || it->second.for_keys) return;  // its connection closed meanwhile
  Waiting w = std::move(it->second);
  waiting_.erase(it);
  if (!body) {
    ++stats_.token_unavailable;
    LOG_WARN(kLog) << "token introspection failed: " << body.error();
    return refuse(w.from, w.req, 503, "Token introspection unavailable");
  }
  auto r = check_introspection(*body, settings_.token.policy, now.unix_s);
  if (!r) {
    LOG_INFO(kLog) << "token REGISTER from " << w.from.remote.to_string() << " refused after introspection: "
                   << r.error().reason;
    return refuse_token(w, r.error().reason == "Token not active" ? std::string_view("Token not active")
                                                                  : refusal_reason(r.error().check));
  }
  accept_token(std::move(w), *r, now);
}

void PcscfLogic::set_wwsfs(std::vector<WwsfInfo> wwsfs) {
  wwsfs_.clear();
  for (auto& w : wwsfs) wwsfs_[w.id] = std::move(w);
}

void PcscfLogic::refuse_token(const Waiting& w, std::string_view reason) {
  refuse(w.from, w.req, 403, reason, &stats_.refused_token);
  // protocols.md: the WebSocket is closed on any failure, after the 403 (queued before the close).
  io_.ws_close(w.connection, kPolicyViolation, reason);
}

void PcscfLogic::accept_token(Waiting w, const token::ImsAccessToken& t, const base::Now& now) {
  auto to = w.req.to();
  auto to_aor = to ? canonical_aor(to->uri.text) : std::nullopt;
  if (!to_aor) return refuse_token(w, "To-URI not among the token's IMPUs");
  if (auto why = check_token_authorization(t, wwsfs_, *to_aor)) {
    LOG_INFO(kLog) << "token REGISTER for " << *to_aor << " (WWSF " << t.wwsf << ") refused: " << *why;
    return refuse_token(w, *why);
  }
  // Trusted Node Authentication toward the S-CSCF (TS 24.292 6.2, TS 33.203 Annex U).
  w.req.set(HeaderId::Authorization, tna_authorization(t.sub, settings_.token.home_domain, t.wwsf));
  TokenRegistration reg{w.connection, {}};
  for (auto& u : t.impu)
    if (auto aor = canonical_aor(u)) reg.impus.push_back(*aor);
  uint64_t id = next_token_reg_++;
  token_regs_.emplace(id, std::move(reg));
  ++stats_.token_registrations;
  LOG_INFO(kLog) << "token REGISTER of " << t.sub << " for " << *to_aor << " via WWSF " << t.wwsf
                 << (t.pool ? " (pool)" : "") << ": registering with TNA";
  forward_register(w.from, w.connection, std::move(w.req), w.cookie | (id << 1), now);
}

void PcscfLogic::handle_turn_options(const sip::Hop& from, uint64_t connection, sip::Message& req, const base::Now& now) {
  // Only an authenticated, bound identity gets a credential (X.5.2 step 3; never on 401/403).
  auto who = asserted_identity(req);
  const Binding* b = who ? bindings_.find(connection, *who) : nullptr;
  if (!b) return refuse(from, req, 403, "Identity not registered on this connection", &stats_.refused_unbound_identity);
  sip::Message ok = proxy_.make_local_response(req, 200);
  if (settings_.turn_key) {
    auto issued = issue_turn_credential(*settings_.turn_key, settings_.turn_policy, now.unix_s, b->expires_unix, random_);
    ok.append(kTurnCredHeader, issued.header_value);
    io_.record_turn_credential({issued.credential.tid, *who, b->impi, issued.credential.texp, flows_[connection].origin});
    ++stats_.turn_credentials;
    LOG_INFO(kLog) << "TURN credential " << issued.credential.tid << " for " << *who << " until " << issued.credential.texp;
    credential_issued(connection, b->impi, issued.credential);
  }
  proxy_.respond(from, req, std::move(ok));
}

std::optional<std::string> PcscfLogic::asserted_identity(const sip::Message& req) const {
  // P-Preferred-Identity when the WIC names one (RFC 3325), else From.
  if (auto ppi = req.name_addrs(HeaderId::PPreferredIdentity); ppi && !ppi->empty())
    return canonical_aor((*ppi)[0].uri.text);
  if (auto from = req.from()) return canonical_aor(from->uri.text);
  return std::nullopt;
}

void PcscfLogic::handle_originating(const sip::Hop& from, uint64_t connection, sip::Message& req, const base::Now& now) {
  auto who = asserted_identity(req);
  const Binding* b = who ? bindings_.find(connection, *who) : nullptr;
  if (!b) {
    LOG_INFO(kLog) << req.method() << " from " << from.remote.to_string() << " refused: "
                   << (who ? *who : std::string("no identity")) << " is not registered on this connection";
    return refuse(from, req, 403, "Identity not registered on this connection", &stats_.refused_unbound_identity);
  }
  proxy_.preprocess_route(req);  // our own Record-Route (in-dialog requests) is removed here
  // JsSIP's authorization_jwt puts the bearer token on every request: it must never travel on,
  // or the callee could register as this user with it. (Digest answers stay: a core may challenge.)
  strip_bearer(req);
  req.remove(HeaderId::PAssertedIdentity);
  req.remove(HeaderId::PPreferredIdentity);
  req.append(HeaderId::PAssertedIdentity, "<" + *who + ">");
  if (is_dialog_creating(req.method_id())) sip::ProxyCore::add_record_route(req, our_uri(connection, false));
  proxy_.forward(from, std::move(req), settings_.next_hop, now);
}

// ---------------------------------------------------------------------------------------------
// Responses on their way back to a WIC

void PcscfLogic::on_response(const sip::ForwardContext& ctx, sip::Message& response) {
  // A token registration's IMPUs, held until its final response.
  std::optional<TokenRegistration> token_reg;
  if (uint64_t id = ctx.cookie >> 1; id && response.status() >= 200) {
    if (auto it = token_regs_.find(id); it != token_regs_.end()) {
      token_reg = std::move(it->second);
      token_regs_.erase(it);
    }
  }
  // The core (S-CSCF/HSS) refused a token registration (REQ 2.1-2.3, 3.2): 403 and the WebSocket
  // closed, as for a refusal here.
  if (token_reg && is_ws_flow(ctx.upstream.flow) && (response.status() == 403 || response.status() == 401)) {
    close_after_response_ = token_reg->connection;
    ++stats_.refused_token;
    return;
  }
  if (!is_ws_flow(ctx.upstream.flow) || ctx.request.method_id() != Method::Register || response.status() != 200) return;
  uint64_t connection = ctx.upstream.flow & ~(1ull << 63);
  if (!flows_.count(connection)) return;
  std::string impi = impi_of(ctx.request);  // for a token registration: the TNA username, the token's sub
  uint32_t expires = granted_expires(response);
  int64_t now_unix = now_.unix_s;
  if (expires == 0) {
    bindings_.unbind(connection, impi);
    ++stats_.deregistrations;
    LOG_INFO(kLog) << "deregistered " << impi << " on connection " << connection;
    revoke_credentials(connection, &impi, now_unix);
    return;
  }
  // Bind the IMPI and every IMPU the core associated with it (P-Associated-URI), plus the To.
  Binding b;
  b.impi = impi;
  if (auto pau = response.name_addrs(HeaderId::PAssociatedUri))
    for (auto& na : *pau)
      if (auto aor = canonical_aor(na.uri.text)) b.impus.push_back(*aor);
  if (auto to = ctx.request.to())
    if (auto aor = canonical_aor(to->uri.text); aor && std::find(b.impus.begin(), b.impus.end(), *aor) == b.impus.end())
      b.impus.push_back(*aor);
  if (token_reg) {
    // Only what the WAF authorised (REQ 2.4): the implicit registration set may hold IMPUs the
    // token does not name, and the WIC must not assert those.
    std::erase_if(b.impus, [&](const std::string& u) {
      return std::find(token_reg->impus.begin(), token_reg->impus.end(), u) == token_reg->impus.end();
    });
  }
  b.default_impu = b.impus.empty() ? std::string() : b.impus.front();
  b.expires_unix = now_unix + expires;
  b.tls_session = flows_[connection].tls_session;
  std::string to_aor = b.impus.empty() ? impi : b.impus.back();
  bindings_.bind(connection, b);
  ++stats_.registrations;
  LOG_INFO(kLog) << "registered " << impi << " (" << b.impus.size() << " IMPU) on connection " << connection
                 << " until " << b.expires_unix;

  if ((ctx.cookie & kWantsTurnCredential) && settings_.turn_key) {
    std::string impu = ctx.request.to() ? canonical_aor(ctx.request.to()->uri.text).value_or(to_aor) : to_aor;
    auto issued = issue_turn_credential(*settings_.turn_key, settings_.turn_policy, now_unix, b.expires_unix, random_);
    response.append(kTurnCredHeader, issued.header_value);
    io_.record_turn_credential({issued.credential.tid, impu, impi, issued.credential.texp, flows_[connection].origin});
    ++stats_.turn_credentials;
    LOG_INFO(kLog) << "TURN credential " << issued.credential.tid << " for " << impu << " until " << issued.credential.texp;
    credential_issued(connection, impi, issued.credential);
  }
}

// ---------------------------------------------------------------------------------------------
// Approach 2: push and revocation

void PcscfLogic::credential_issued(uint64_t connection, const std::string& impi, const token::EphemeralCredential& c) {
  if (!settings_.turn_push.push) return;
  ++stats_.turn_pushes;
  io_.push_turn_credential(c.username, c.password, c.texp);
  if (!settings_.turn_push.revoke) return;
  auto& list = issued_[connection];
  std::erase_if(list, [&](const IssuedCredential& i) { return i.texp <= now_.unix_s; });
  // Bounded: a WIC asking again and again keeps its most recent credentials only; older ones
  // simply expire at their Texp.
  constexpr size_t kMaxPerConnection = 32;
  if (list.size() >= kMaxPerConnection) list.erase(list.begin());
  list.push_back({impi, c.username, c.texp});
}

void PcscfLogic::revoke_credentials(uint64_t connection, const std::string* impi, int64_t now_unix) {
  auto it = issued_.find(connection);
  if (it == issued_.end()) return;
  auto& list = it->second;
  for (auto i = list.begin(); i != list.end();) {
    if (impi && i->impi != *impi) {
      ++i;
      continue;
    }
    if (i->texp > now_unix) {
      ++stats_.turn_revocations;
      LOG_INFO(kLog) << "revoking TURN credential " << i->username << " of " << i->impi;
      io_.revoke_turn_credential(i->username, i->texp);
    }
    i = list.erase(i);
  }
  if (list.empty()) issued_.erase(it);
}

// ---------------------------------------------------------------------------------------------
// Core side (Mw)

void PcscfLogic::on_sip_message(const sip::Hop& from, sip::Message msg, const base::Now& now) {
  now_ = now;
  if (proxy_.on_message(from, msg, now) == sip::ProxyCore::Inbound::Consumed) return;
  // A request toward a WIC: our Path or Record-Route URI names the flow in its user part.
  auto rc = proxy_.preprocess_route(msg);
  std::optional<uint64_t> connection;
  if (rc.popped)
    if (auto u = sip::parse_uri(*rc.popped); u && u->has_user) connection = tokens_.check(u->user);
  if (!connection) {
    LOG_INFO(kLog) << msg.method() << " from " << from.to_string() << " names no flow of ours";
    if (msg.method_id() != Method::Ack) proxy_.respond(from, msg, 404, "Not a WIC flow of this eP-CSCF");
    return;
  }
  if (!flows_.count(*connection)) {
    ++stats_.flow_failed;
    // RFC 5626 §5.3: the flow is gone; the registrar should try another contact.
    if (msg.method_id() != Method::Ack) proxy_.respond(from, msg, 430, "Flow Failed");
    return;
  }
  if (is_dialog_creating(msg.method_id())) sip::ProxyCore::add_record_route(msg, our_uri(*connection, false));
  proxy_.forward(from, std::move(msg), ws_hop(*connection), now);
}

void PcscfLogic::on_sip_flow_closed(uint64_t flow, const base::Now& now) {
  now_ = now;
  proxy_.on_flow_closed(flow, now);
}

void PcscfLogic::on_sip_undelivered(const sip::Message& msg, const base::Now& now) {
  now_ = now;
  proxy_.on_undelivered(msg, now);
}

void PcscfLogic::on_timer(const base::Now& now) {
  now_ = now;
  proxy_.on_timer(now);
  // Registrations that ran out without a refresh end their identity binding (and, with Approach 2
  // revocation, their TURN credentials). Once a second is plenty: expiry is in whole seconds.
  if (!last_expiry_sweep_ || now.steady - *last_expiry_sweep_ >= std::chrono::seconds(1)) {
    last_expiry_sweep_ = now.steady;
    for (auto& [connection, impi] : bindings_.expire(now.unix_s)) {
      LOG_INFO(kLog) << "registration of " << impi << " on connection " << connection << " expired";
      revoke_credentials(connection, &impi, now.unix_s);
    }
  }
  // Keys removed at the WAF (a compromised key) stop working here within the maximum age.
  if (settings_.token.enabled && settings_.token.jwks_fetch && jwks_loaded_at_ &&
      now.steady - *jwks_loaded_at_ >= std::chrono::seconds(settings_.token.jwks_max_age_s) && may_fetch_jwks(now))
    start_jwks_fetch(now);
}

}  // namespace pcscf
