#include "wic/user_agent.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <stdexcept>

#include "base/encoding.hpp"
#include "crypto/digest.hpp"
#include "sip/auth.hpp"

namespace wic {

namespace {

constexpr std::string_view kAllow = "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string seconds_text(base::Millis d) { return std::to_string((d.count() + 999) / 1000) + " s"; }

std::string cseq_text(uint32_t n, std::string_view method) {
  return std::to_string(n) + " " + std::string(method);
}

// "<uri>" for From/To/Route values built from a bare URI.
std::string bracket(std::string_view uri) { return "<" + std::string(uri) + ">"; }

}  // namespace

std::string_view to_string(EventKind k) {
  switch (k) {
    case EventKind::Registered: return "registered";
    case EventKind::Refreshed: return "refreshed";
    case EventKind::RegistrationFailed: return "registration-failed";
    case EventKind::Unregistered: return "unregistered";
    case EventKind::RequestDone: return "request-done";
    case EventKind::CallProgress: return "call-progress";
    case EventKind::CallAnswered: return "call-answered";
    case EventKind::CallFailed: return "call-failed";
    case EventKind::IncomingCall: return "incoming-call";
    case EventKind::CallConfirmed: return "call-confirmed";
    case EventKind::CallEnded: return "call-ended";
    case EventKind::IncomingMessage: return "incoming-message";
    case EventKind::Notice: return "notice";
  }
  return "unknown";
}

std::string random_token(base::Random& random, size_t n) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(n, 'a');
  std::vector<uint8_t> b(n);
  random.fill(b);
  for (size_t i = 0; i < n; ++i) out[i] = kAlphabet[b[i] % 36];  // slight bias: fine for tags
  return out;
}

std::string random_instance_id(base::Random& random) {
  uint8_t b[16];
  random.fill(b);
  b[6] = uint8_t((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = uint8_t((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string hex = base::hex_encode(base::Bytes(b, 16));
  return "urn:uuid:" + hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// ---------------------------------------------------------------------------------------------

UserAgent::UserAgent(UaConfig config, Credentials credentials, base::Random& random)
    : config_(std::move(config)), credentials_(std::move(credentials)), random_(random) {
  auto uri = sip::parse_uri(config_.impu);
  if (!uri || !uri->is_sip() || !uri->has_user || uri->host.empty())
    throw std::invalid_argument("the IMPU must be a SIP URI with a user part, e.g. sip:alice@ims.example.org");
  domain_ = std::string(uri->host);
  std::transform(domain_.begin(), domain_.end(), domain_.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  impu_user_ = std::string(uri->user);
  impi_ = config_.impi.empty() ? std::string(uri->user) + "@" + std::string(uri->host) : config_.impi;
  if (credentials_.isim) config_.initial_authorization = true;
  via_host_ = random_token(random_, 12) + ".invalid";
  contact_uri_ = "sip:" + random_token(random_, 8) + "@" + via_host_ + ";transport=ws";
  instance_ = config_.instance_id.empty() ? random_instance_id(random_) : config_.instance_id;
  from_tag_reg_ = random_token(random_, 10);
  reg_call_id_ = random_token(random_, 22);
  expires_asked_ = config_.expires;
}

std::string UserAgent::new_branch() { return "z9hG4bK" + random_token(random_, 16); }

sip::Message UserAgent::new_request(std::string_view method, std::string_view ruri, std::string_view from,
                                    std::string_view to, std::string_view call_id, uint32_t cseq) {
  sip::Message m = sip::Message::request(method, ruri);
  m.append(sip::HeaderId::MaxForwards, "70");
  m.append(sip::HeaderId::To, to);
  m.append(sip::HeaderId::From, from);
  m.append(sip::HeaderId::CallId, call_id);
  m.append(sip::HeaderId::CSeq, cseq_text(cseq, method));
  return m;
}

void UserAgent::add_common(sip::Message& m, bool with_contact) {
  if (with_contact) m.append(sip::HeaderId::Contact, "<" + contact_uri_ + ";ob>");
  m.append(sip::HeaderId::Allow, kAllow);
  m.append(sip::HeaderId::UserAgent, config_.user_agent);
}

void UserAgent::send_raw(const sip::Message& m) { outgoing_.push_back(m.to_string()); }

UserAgent::ClientTx& UserAgent::send(ClientTx tx, const base::Now& now, std::string branch) {
  if (branch.empty()) branch = new_branch();
  tx.request.remove(sip::HeaderId::Via);
  tx.request.prepend(sip::HeaderId::Via, "SIP/2.0/WSS " + via_host_ + ";branch=" + branch);
  tx.branch = branch;
  tx.deadline = now.steady + config_.transaction_timeout;
  send_raw(tx.request);
  std::string key = branch + " " + std::string(tx.request.method());
  return txs_.insert_or_assign(std::move(key), std::move(tx)).first->second;
}

void UserAgent::notice(std::string reason) {
  Event e;
  e.kind = EventKind::Notice;
  e.reason = std::move(reason);
  emit(std::move(e));
}

UserAgent::Dialog* UserAgent::find_dialog(std::string_view call_id) {
  auto it = dialogs_.find(std::string(call_id));
  return it == dialogs_.end() ? nullptr : &it->second;
}

// ---- registration --------------------------------------------------------------------------

sip::Message UserAgent::make_register(uint32_t expires) {
  std::string impu = bracket(config_.impu);
  sip::Message m = new_request("REGISTER", "sip:" + domain_, impu + ";tag=" + from_tag_reg_, impu, reg_call_id_,
                               ++reg_cseq_);
  // RFC 5626 §4.2 / RFC 7118 §5: instance and reg-id so the registrar treats this as an outbound
  // flow; ;ob in the URI says the UA keeps the flow.
  m.append(sip::HeaderId::Contact, "<" + contact_uri_ + ";ob>;+sip.instance=\"<" + instance_ +
                                       ">\";reg-id=1;expires=" + std::to_string(expires));
  m.append(sip::HeaderId::Expires, std::to_string(expires));
  m.append(sip::HeaderId::Supported, "path, outbound, gruu");
  m.append(sip::HeaderId::Allow, kAllow);
  m.append(sip::HeaderId::UserAgent, config_.user_agent);
  if (expires > 0 && config_.request_turn_credential && !turn_requested_once_) m.append(kTurnCredHeader, "request");
  if (config_.initial_authorization) {
    sip::DigestCredentials c;
    c.username = impi_;
    c.realm = domain_;
    c.uri = "sip:" + domain_;
    if (credentials_.isim) c.algorithm = std::string(crypto::to_string(config_.aka_version));
    m.append(sip::HeaderId::Authorization, sip::format(c));
  }
  return m;
}

void UserAgent::send_register(uint32_t expires, bool refresh, const base::Now& now) {
  ClientTx tx;
  tx.purpose = expires == 0 ? Purpose::Unregister : Purpose::Register;
  tx.refresh = refresh;
  tx.request = make_register(expires);
  send(std::move(tx), now);
}

void UserAgent::start_register(const base::Now& now) {
  reg_state_ = RegState::Registering;
  refresh_at_.reset();
  send_register(expires_asked_, false, now);
}

void UserAgent::start_unregister(const base::Now& now) {
  reg_state_ = RegState::Unregistering;
  refresh_at_.reset();
  send_register(0, false, now);
}

void UserAgent::on_register_response(ClientTx& tx, const sip::Message& m, const base::Now& now) {
  int status = m.status();
  if (tx.purpose == Purpose::Unregister) {
    reg_state_ = RegState::Unregistered;
    Event e;
    e.kind = EventKind::Unregistered;
    e.method = "REGISTER";
    e.status = status;
    e.reason = std::string(m.reason());
    emit(std::move(e));
    return;
  }
  if (status == 423) {  // RFC 3261 §10.2.8: Interval Too Brief
    auto min = m.get(sip::HeaderId::MinExpires);
    auto v = min ? sip::parse_delta_seconds(*min) : sip::Parsed<uint32_t>(base::fail(sip::Error::MissingHeader));
    if (v && *v > expires_asked_) {
      expires_asked_ = *v;
      send_register(expires_asked_, tx.refresh, now);
      return;
    }
    fail_tx(tx, status, std::string(m.reason()));
    return;
  }
  if (status >= 300) {
    fail_tx(tx, status, std::string(m.reason()));
    return;
  }
  Registration r;
  r.expires = expires_asked_;
  if (auto e = m.expires()) r.expires = *e;
  if (auto contacts = m.contacts()) {
    std::string want_instance = "<" + instance_ + ">";
    auto ours = sip::parse_uri(contact_uri_);
    for (const auto& c : *contacts) {
      bool match = false;
      if (auto inst = c.param("+sip.instance"); inst && *inst == want_instance) match = true;
      if (!match && ours && c.uri.user == ours->user && iequals(c.uri.host, ours->host)) match = true;
      if (!match) continue;
      if (auto ce = c.expires(); ce && ce->ok()) r.expires = ce->value();
      if (auto g = c.param("pub-gruu")) r.pub_gruu = std::string(*g);
      if (auto g = c.param("temp-gruu")) r.temp_gruu = std::string(*g);
      break;
    }
  }
  if (auto pau = m.name_addrs(sip::HeaderId::PAssociatedUri))
    for (const auto& a : *pau) r.associated_uris.emplace_back(a.uri.text);
  std::vector<std::string_view> routes;
  if (m.elements(sip::HeaderId::ServiceRoute, routes))
    for (auto s : routes) r.service_routes.emplace_back(s);
  if (r.expires == 0) {
    reg_state_ = RegState::Unregistered;
    fail_tx(tx, status, "the registrar granted 0 seconds");
    return;
  }
  registration_ = r;
  reg_state_ = RegState::Registered;
  // Refresh ahead of expiry: half-way for short registrations, a minute early for long ones.
  uint32_t margin = std::min<uint32_t>(r.expires / 2, 60);
  refresh_at_ = now.steady + std::chrono::seconds(std::max<uint32_t>(1, r.expires - margin));

  Event e;
  e.kind = tx.refresh ? EventKind::Refreshed : EventKind::Registered;
  e.method = "REGISTER";
  e.status = status;
  e.reason = std::string(m.reason());
  e.registration = std::move(r);
  if (auto t = m.get(kTurnCredHeader)) {
    if (auto cred = parse_turn_credential(*t)) e.turn = std::move(cred);
    else e.turn_malformed = std::string(*t);
  }
  if (config_.request_turn_credential) turn_requested_once_ = true;
  emit(std::move(e));
}

// ---- authentication ------------------------------------------------------------------------

std::optional<std::string> UserAgent::answer_challenge(ClientTx& tx, const sip::Message& challenge,
                                                       const base::Now& now) {
  bool proxy = challenge.status() == 407;
  auto values = challenge.values(proxy ? sip::HeaderId::ProxyAuthenticate : sip::HeaderId::WWWAuthenticate);
  if (values.empty()) return std::string("without a ") + (proxy ? "Proxy-Authenticate" : "WWW-Authenticate") + " challenge";

  // RFC 8760 §2.4: use the topmost challenge whose algorithm we support.
  std::optional<sip::DigestChallenge> chosen;
  std::optional<crypto::AkaVersion> aka;
  crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::Md5;
  std::string offered;
  for (auto v : values) {
    auto c = sip::parse_digest_challenge(v);
    if (!c) continue;
    std::string_view algo = c->algorithm.empty() ? std::string_view("MD5") : std::string_view(c->algorithm);
    if (!offered.empty()) offered += ", ";
    offered += algo;
    bool qop_ok = c->qop.empty() || std::any_of(c->qop.begin(), c->qop.end(), [](auto& q) { return iequals(q, "auth"); });
    if (!qop_ok) continue;
    if (auto a = crypto::parse_aka_algorithm(algo)) {
      if (!credentials_.isim) continue;
      aka = a;
      chosen = std::move(c).value();
      break;
    }
    if (auto d = crypto::parse_digest_algorithm(algo)) {
      if (!credentials_.password) continue;
      algorithm = *d;
      chosen = std::move(c).value();
      break;
    }
  }
  if (!chosen) {
    if (offered.empty()) return std::string("with a challenge that is not a valid Digest challenge");
    return "with a challenge we cannot answer (algorithm " + offered + "; we have " +
           (credentials_.isim && credentials_.password ? "a password and an ISIM"
            : credentials_.isim                        ? "an ISIM only (AKA)"
                                                       : "a password only (MD5/SHA-256)") +
           ")";
  }
  const sip::DigestChallenge& c = *chosen;
  // RFC 3261 §22.2: a second challenge for the same request means the credentials were refused,
  // unless the nonce was only stale (RFC 7616 §3.3) or we had just resynchronised (RFC 3310 §3.4).
  if (tx.challenges >= 1 && !tx.last_was_resync && !c.stale) return std::string("again: credentials rejected");
  if (tx.challenges >= 4) return std::string("again: too many challenges");

  sip::DigestCredentials cr;
  cr.username = impi_;
  cr.realm = c.realm;
  cr.uri = std::string(tx.request.request_uri());
  cr.nonce = c.nonce;
  cr.opaque = c.opaque;
  cr.algorithm = c.algorithm;
  bool qop = !c.qop.empty();
  if (qop) {
    if (nonce_counts_.size() > 64) nonce_counts_.clear();
    uint32_t nc = ++nonce_counts_[c.nonce];
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", nc);
    cr.qop = "auth";
    cr.nc = buf;
  }
  if (qop || crypto::is_session_algorithm(algorithm)) {
    uint8_t b[8];
    random_.fill(b);
    cr.cnonce = base::hex_encode(base::Bytes(b, 8));
  }

  crypto::SecretString password;
  bool resync = false;
  if (aka) {
    auto nonce = crypto::decode_aka_nonce(c.nonce);
    if (!nonce) return std::string("with an AKA nonce that is not base64(RAND || AUTN)");
    auto a = credentials_.isim->authenticate(nonce->rand, nonce->autn);
    if (!a) {
      if (a.error() == crypto::Error::MacFailure)
        return std::string("with an AKA challenge whose AUTN does not verify (MAC-A): wrong K/OPc, or not our home network");
      return "with an AKA challenge the ISIM refused (" + std::string(crypto::to_string(a.error())) + ")";
    }
    isim_dirty_ = true;
    if (a->kind == crypto::IsimAnswer::Kind::SyncFailure) {
      // RFC 3310 §3.4: AUTS in `auts`, response computed with an empty password.
      cr.auts = crypto::encode_auts(a->auts);
      resync = true;
    } else {
      password = crypto::aka_digest_password(*aka, a->res, a->ik, a->ck);
    }
  } else {
    password = *credentials_.password;
  }
  crypto::DigestInput in;
  in.algorithm = algorithm;  // AKA: MD5 over the AKA password
  in.username = cr.username;
  in.realm = cr.realm;
  in.nonce = cr.nonce;
  in.uri = cr.uri;
  in.method = tx.request.method();
  in.qop = cr.qop;
  in.nc = cr.nc;
  in.cnonce = cr.cnonce;
  auto response = crypto::digest_response_for_password(in, password.bytes());
  if (!response) return "and the Digest response could not be computed (" + std::string(crypto::to_string(response.error())) + ")";
  cr.response = *response;

  ClientTx next;
  next.purpose = tx.purpose;
  next.refresh = tx.refresh;
  next.challenges = tx.challenges + 1;
  next.last_was_resync = resync;
  next.request = tx.request;
  auto cseq = tx.request.cseq();
  uint32_t n = (cseq ? cseq->number : 0) + 1;
  next.request.set(sip::HeaderId::CSeq, cseq_text(n, tx.request.method()));
  auto hid = proxy ? sip::HeaderId::ProxyAuthorization : sip::HeaderId::Authorization;
  next.request.remove(hid);
  next.request.append(hid, sip::format(cr));
  std::string call_id(tx.request.call_id().value_or(std::string_view{}));
  ClientTx& sent = send(std::move(next), now);
  if (tx.purpose == Purpose::Register || tx.purpose == Purpose::Unregister) {
    reg_cseq_ = std::max(reg_cseq_, n);
  } else if (Dialog* d = find_dialog(call_id)) {
    d->local_cseq = std::max(d->local_cseq, n);
    if (tx.purpose == Purpose::Invite) {
      d->invite_cseq = n;
      d->invite = sent.request;
      d->invite_branch = sent.branch;
    }
  }
  return std::nullopt;
}

std::optional<crypto::IsimSqnState> UserAgent::take_isim_state_if_changed() {
  if (!isim_dirty_ || !credentials_.isim) return std::nullopt;
  isim_dirty_ = false;
  return credentials_.isim->sqn_state();
}

// ---- failures ------------------------------------------------------------------------------

void UserAgent::fail_tx(ClientTx& tx, int status, std::string reason) {
  Event e;
  e.method = std::string(tx.request.method());
  e.status = status;
  e.reason = std::move(reason);
  e.call_id = std::string(tx.request.call_id().value_or(std::string_view{}));
  if (auto to = tx.request.to()) e.peer = std::string(to->uri.text);
  switch (tx.purpose) {
    case Purpose::Register:
      reg_state_ = RegState::Unregistered;
      refresh_at_.reset();
      e.kind = EventKind::RegistrationFailed;
      break;
    case Purpose::Unregister:
      reg_state_ = RegState::Unregistered;
      e.kind = EventKind::Unregistered;
      break;
    case Purpose::Message:
    case Purpose::Options:
      e.kind = EventKind::RequestDone;
      break;
    case Purpose::Invite:
      dialogs_.erase(e.call_id);
      e.kind = EventKind::CallFailed;
      break;
    case Purpose::Bye:
      dialogs_.erase(e.call_id);
      e.kind = EventKind::CallEnded;
      break;
    case Purpose::Cancel:
      notice("CANCEL " + e.call_id + ": " + (status ? std::to_string(status) + " " : "") + e.reason);
      return;
  }
  emit(std::move(e));
}

// ---- out-of-dialog requests ----------------------------------------------------------------

std::string UserAgent::send_message(std::string_view to, std::string_view content_type, std::string_view text,
                                    const base::Now& now) {
  std::string call_id = random_token(random_, 22);
  ClientTx tx;
  tx.purpose = Purpose::Message;
  tx.request = new_request("MESSAGE", to, bracket(config_.impu) + ";tag=" + random_token(random_, 10), bracket(to),
                           call_id, 1);
  if (config_.preload_service_route)
    for (auto& r : registration_.service_routes) tx.request.append(sip::HeaderId::Route, r);
  add_common(tx.request, false);
  tx.request.append(sip::HeaderId::ContentType, content_type);
  tx.request.set_body(text);
  send(std::move(tx), now);
  return call_id;
}

std::string UserAgent::send_options(bool request_turn_credential, const base::Now& now) {
  std::string call_id = random_token(random_, 22);
  std::string ruri = config_.options_uri.empty() ? "sip:" + domain_ : config_.options_uri;
  ClientTx tx;
  tx.purpose = Purpose::Options;
  tx.request = new_request("OPTIONS", ruri, bracket(config_.impu) + ";tag=" + random_token(random_, 10), bracket(ruri),
                           call_id, 1);
  if (config_.preload_service_route)
    for (auto& r : registration_.service_routes) tx.request.append(sip::HeaderId::Route, r);
  add_common(tx.request, true);
  tx.request.append(sip::HeaderId::Accept, "application/sdp");
  if (request_turn_credential) tx.request.append(kTurnCredHeader, "request");
  send(std::move(tx), now);
  return call_id;
}

// ---- calls ---------------------------------------------------------------------------------

std::string UserAgent::invite(std::string_view to, std::string_view sdp, const base::Now& now) {
  Dialog d;
  d.outgoing = true;
  d.call_id = random_token(random_, 22);
  d.local_tag = random_token(random_, 10);
  d.local_uri = bracket(config_.impu);
  d.remote_uri = bracket(to);
  d.remote_target = std::string(to);
  d.local_cseq = 1;
  d.invite_cseq = 1;
  d.local_sdp = std::string(sdp);
  ClientTx tx;
  tx.purpose = Purpose::Invite;
  tx.request = new_request("INVITE", to, d.local_uri + ";tag=" + d.local_tag, d.remote_uri, d.call_id, 1);
  if (config_.preload_service_route)
    for (auto& r : registration_.service_routes) tx.request.append(sip::HeaderId::Route, r);
  add_common(tx.request, true);
  tx.request.append(sip::HeaderId::Supported, "outbound");
  tx.request.append(sip::HeaderId::ContentType, "application/sdp");
  tx.request.set_body(sdp);
  std::string call_id = d.call_id;
  ClientTx& sent = send(std::move(tx), now);
  d.invite = sent.request;  // as sent, with its Via: CANCEL copies it (RFC 3261 §9.1)
  d.invite_branch = sent.branch;
  dialogs_.emplace(call_id, std::move(d));
  return call_id;
}

void UserAgent::send_cancel(Dialog& d, const base::Now& now) {
  if (!d.invite) return;
  const sip::Message& inv = *d.invite;
  ClientTx tx;
  tx.purpose = Purpose::Cancel;
  tx.request = sip::Message::request("CANCEL", inv.request_uri());
  tx.request.append(sip::HeaderId::MaxForwards, "70");
  for (auto id : {sip::HeaderId::To, sip::HeaderId::From, sip::HeaderId::CallId})
    if (auto v = inv.get(id)) tx.request.append(id, *v);
  tx.request.append(sip::HeaderId::CSeq, cseq_text(d.invite_cseq, "CANCEL"));
  for (auto r : inv.values(sip::HeaderId::Route)) tx.request.append(sip::HeaderId::Route, r);
  tx.request.append(sip::HeaderId::UserAgent, config_.user_agent);
  d.cancel_wanted = false;
  send(std::move(tx), now, d.invite_branch);
}

bool UserAgent::cancel(std::string_view call_id, const base::Now& now) {
  Dialog* d = find_dialog(call_id);
  if (!d || !d->outgoing || (d->state != Dialog::State::Calling && d->state != Dialog::State::Early)) return false;
  if (d->provisional_seen) send_cancel(*d, now);
  else d->cancel_wanted = true;  // RFC 3261 §9.1: not before a provisional response
  return true;
}

bool UserAgent::bye(std::string_view call_id, const base::Now& now) {
  Dialog* d = find_dialog(call_id);
  if (!d || d->hanging_up || (d->state != Dialog::State::Confirmed && d->state != Dialog::State::WaitAck)) return false;
  d->hanging_up = true;
  d->ack_deadline.reset();
  ClientTx tx;
  tx.purpose = Purpose::Bye;
  tx.request = new_request("BYE", d->remote_target, d->local_uri + ";tag=" + d->local_tag,
                           d->remote_uri + (d->remote_tag.empty() ? "" : ";tag=" + d->remote_tag), d->call_id,
                           ++d->local_cseq);
  for (auto& r : d->route_set) tx.request.append(sip::HeaderId::Route, r);
  tx.request.append(sip::HeaderId::UserAgent, config_.user_agent);
  send(std::move(tx), now);
  return true;
}

bool UserAgent::answer(std::string_view call_id, std::string_view sdp, const base::Now& now) {
  Dialog* d = find_dialog(call_id);
  if (!d || d->outgoing || d->state != Dialog::State::Incoming || !d->invite) return false;
  d->local_sdp = std::string(sdp);
  respond(*d->invite, 200, d->local_tag, "application/sdp", sdp, true, true);
  d->state = Dialog::State::WaitAck;
  d->ack_deadline = now.steady + config_.ack_timeout;
  return true;
}

bool UserAgent::reject(std::string_view call_id, int status, const base::Now& now) {
  Dialog* d = find_dialog(call_id);
  if (!d || d->outgoing || d->state != Dialog::State::Incoming || !d->invite || status < 300 || status > 699) return false;
  respond(*d->invite, status, d->local_tag);
  dialogs_.erase(std::string(call_id));
  return true;
}

void UserAgent::send_ack_non2xx(const ClientTx& tx, const sip::Message& response) {
  // RFC 3261 §17.1.1.3: same branch, Request-URI, From, Call-ID and Route as the INVITE; To of
  // the response; CSeq number of the INVITE with method ACK.
  const sip::Message& inv = tx.request;
  sip::Message ack = sip::Message::request("ACK", inv.request_uri());
  if (auto v = inv.get(sip::HeaderId::Via)) ack.append(sip::HeaderId::Via, *v);
  ack.append(sip::HeaderId::MaxForwards, "70");
  if (auto v = response.get(sip::HeaderId::To)) ack.append(sip::HeaderId::To, *v);
  if (auto v = inv.get(sip::HeaderId::From)) ack.append(sip::HeaderId::From, *v);
  if (auto v = inv.get(sip::HeaderId::CallId)) ack.append(sip::HeaderId::CallId, *v);
  auto cseq = inv.cseq();
  ack.append(sip::HeaderId::CSeq, cseq_text(cseq ? cseq->number : 1, "ACK"));
  for (auto r : inv.values(sip::HeaderId::Route)) ack.append(sip::HeaderId::Route, r);
  send_raw(ack);
}

void UserAgent::send_ack_2xx(Dialog& d) {
  // RFC 3261 §13.2.2.4: a new transaction to the remote target along the route set.
  sip::Message ack = new_request("ACK", d.remote_target, d.local_uri + ";tag=" + d.local_tag,
                                 d.remote_uri + (d.remote_tag.empty() ? "" : ";tag=" + d.remote_tag), d.call_id,
                                 d.invite_cseq);
  ack.prepend(sip::HeaderId::Via, "SIP/2.0/WSS " + via_host_ + ";branch=" + new_branch());
  for (auto& r : d.route_set) ack.append(sip::HeaderId::Route, r);
  ack.append(sip::HeaderId::UserAgent, config_.user_agent);
  d.ack = ack.to_string();
  outgoing_.push_back(d.ack);
}

void UserAgent::on_invite_response(ClientTx& tx, const sip::Message& m, const base::Now& now, bool& done) {
  int status = m.status();
  std::string call_id(m.call_id().value_or(std::string_view{}));
  Dialog* d = find_dialog(call_id);
  auto to = m.to();
  if (status < 200) {
    tx.deadline.reset();  // Timer B only runs until the first provisional (RFC 3261 §17.1.1.2)
    if (!d) return;
    d->provisional_seen = true;
    if (status > 100 && to && !to->tag().empty()) {
      d->remote_tag = std::string(to->tag());
      d->state = Dialog::State::Early;
    }
    Event e;
    e.kind = EventKind::CallProgress;
    e.method = "INVITE";
    e.status = status;
    e.reason = std::string(m.reason());
    e.call_id = call_id;
    e.peer = d->remote_target;
    emit(std::move(e));
    if (d->cancel_wanted) send_cancel(*d, now);
    return;
  }
  done = true;
  if (status < 300) {
    if (!d) {
      notice("2xx to an INVITE without a dialog: " + call_id);
      return;
    }
    if (to) d->remote_tag = std::string(to->tag());
    if (auto contacts = m.contacts(); contacts && !contacts->empty() && !contacts->front().star)
      d->remote_target = std::string(contacts->front().uri.text);
    std::vector<std::string_view> rr;
    d->route_set.clear();
    if (m.elements(sip::HeaderId::RecordRoute, rr))
      for (auto it = rr.rbegin(); it != rr.rend(); ++it) d->route_set.emplace_back(*it);  // §12.1.2: reversed
    d->state = Dialog::State::Confirmed;
    send_ack_2xx(*d);
    bool cancelled = d->cancel_wanted;
    Event e;
    e.kind = EventKind::CallAnswered;
    e.method = "INVITE";
    e.status = status;
    e.reason = std::string(m.reason());
    e.call_id = call_id;
    e.peer = d->remote_target;
    e.body = std::string(m.body());
    if (auto ct = m.get(sip::HeaderId::ContentType)) e.content_type = std::string(*ct);
    if (cancelled) {
      // Answered while we wanted to give up (RFC 3261 §9.1 race): hang up at once.
      bye(call_id, now);
      e.kind = EventKind::CallFailed;
      e.reason = "answered after CANCEL; hung up with BYE";
    }
    emit(std::move(e));
    return;
  }
  send_ack_non2xx(tx, m);
  if (status == 401 || status == 407) {
    auto err = answer_challenge(tx, m, now);
    if (!err) {
      done = true;
      return;
    }
    fail_tx(tx, status, std::string(m.reason()) + " (challenged " + *err + ")");
    return;
  }
  fail_tx(tx, status, std::string(m.reason()));
}

// ---- receiving -----------------------------------------------------------------------------

void UserAgent::on_message(std::string_view text, const base::Now& now) {
  auto m = sip::parse_message(text);
  if (!m) {
    notice("dropped a malformed SIP message: " + m.error().reason);
    return;
  }
  if (m->is_response()) on_response(std::move(m).value(), now);
  else on_request(std::move(m).value(), now);
}

void UserAgent::on_response(sip::Message&& m, const base::Now& now) {
  auto via = m.top_via();
  auto cseq = m.cseq();
  if (!via || !cseq) {
    notice("dropped a response without Via or CSeq");
    return;
  }
  auto it = txs_.find(std::string(via->branch) + " " + std::string(cseq->method));
  if (it == txs_.end()) {
    // A 2xx to INVITE repeated by a proxy: ACK again (RFC 3261 §13.2.2.4).
    if (cseq->method_id == sip::Method::Invite && m.status() >= 200 && m.status() < 300)
      if (Dialog* d = find_dialog(m.call_id().value_or("")); d && !d->ack.empty()) {
        outgoing_.push_back(d->ack);
        return;
      }
    notice("dropped a response that matches no transaction (" + std::to_string(m.status()) + " " +
           std::string(cseq->method) + ")");
    return;
  }
  ClientTx& tx = it->second;
  int status = m.status();
  if (tx.purpose == Purpose::Invite) {
    bool done = false;
    if (status >= 200) {
      auto node = txs_.extract(it);
      on_invite_response(node.mapped(), m, now, done);
    } else {
      on_invite_response(tx, m, now, done);
    }
    return;
  }
  if (status < 200) return;  // Timer F keeps running for non-INVITE (RFC 3261 §17.1.2.2)
  auto node = txs_.extract(it);
  ClientTx& t = node.mapped();
  if ((status == 401 || status == 407) && t.purpose != Purpose::Cancel) {
    auto err = answer_challenge(t, m, now);
    if (!err) return;
    fail_tx(t, status, std::string(m.reason()) + " (challenged " + *err + ")");
    return;
  }
  switch (t.purpose) {
    case Purpose::Register:
    case Purpose::Unregister:
      on_register_response(t, m, now);
      return;
    case Purpose::Message:
    case Purpose::Options: {
      Event e;
      e.kind = EventKind::RequestDone;
      e.method = std::string(t.request.method());
      e.status = status;
      e.reason = std::string(m.reason());
      e.call_id = std::string(m.call_id().value_or(std::string_view{}));
      if (auto to = t.request.to()) e.peer = std::string(to->uri.text);
      if (auto v = m.get(kTurnCredHeader)) {
        if (auto c = parse_turn_credential(*v)) e.turn = std::move(c);
        else e.turn_malformed = std::string(*v);
      }
      e.body = std::string(m.body());
      emit(std::move(e));
      return;
    }
    case Purpose::Bye: {
      std::string call_id(m.call_id().value_or(std::string_view{}));
      dialogs_.erase(call_id);
      Event e;
      e.kind = EventKind::CallEnded;
      e.method = "BYE";
      e.status = status;
      e.reason = std::string(m.reason());
      e.call_id = call_id;
      emit(std::move(e));
      return;
    }
    case Purpose::Cancel:
      if (status >= 300) notice("CANCEL answered " + std::to_string(status) + " " + std::string(m.reason()));
      return;
    case Purpose::Invite:
      return;
  }
}

void UserAgent::respond(const sip::Message& request, int status, std::string_view to_tag,
                        std::string_view content_type, std::string_view body, bool contact, bool record_route) {
  sip::Message r = sip::make_response(request, status, {}, to_tag);
  if (record_route)
    for (auto v : request.values(sip::HeaderId::RecordRoute)) r.append(sip::HeaderId::RecordRoute, v);
  if (contact) r.append(sip::HeaderId::Contact, "<" + contact_uri_ + ";ob>");
  if (status == 405 || request.method_id() == sip::Method::Options || request.method_id() == sip::Method::Invite)
    r.append(sip::HeaderId::Allow, kAllow);
  r.append(sip::HeaderId::UserAgent, config_.user_agent);
  if (!body.empty()) {
    r.append(sip::HeaderId::ContentType, content_type);
    r.set_body(body);
  }
  send_raw(r);
}

void UserAgent::on_request(sip::Message&& m, const base::Now& now) {
  auto call_id_r = m.call_id();
  auto cseq = m.cseq();
  auto from = m.from();
  auto to = m.to();
  if (!m.top_via() || !call_id_r || !cseq || !from || !to) {
    notice("dropped a request without Via, Call-ID, CSeq, From or To");
    return;
  }
  std::string call_id(*call_id_r);
  Dialog* d = find_dialog(call_id);
  switch (m.method_id()) {
    case sip::Method::Ack:
      if (d && d->state == Dialog::State::WaitAck) {
        d->state = Dialog::State::Confirmed;
        d->ack_deadline.reset();
        Event e;
        e.kind = EventKind::CallConfirmed;
        e.method = "ACK";
        e.call_id = call_id;
        e.peer = std::string(from->uri.text);
        emit(std::move(e));
      }
      return;  // ACKs for non-2xx and strays: nothing to answer
    case sip::Method::Cancel: {
      std::string branch(m.top_via()->branch);
      if (d && !d->outgoing && d->state == Dialog::State::Incoming && d->invite_branch == branch) {
        respond(m, 200, random_token(random_, 10));
        respond(*d->invite, 487, d->local_tag);  // RFC 3261 §9.2
        Event e;
        e.kind = EventKind::CallEnded;
        e.method = "CANCEL";
        e.status = 487;
        e.reason = "cancelled by the caller";
        e.remote = true;
        e.call_id = call_id;
        e.peer = std::string(from->uri.text);
        dialogs_.erase(call_id);
        emit(std::move(e));
      } else if (d && d->invite_branch == branch) {
        respond(m, 200, d->local_tag);  // already answered: the CANCEL has no effect
      } else {
        respond(m, 481);
      }
      return;
    }
    case sip::Method::Invite: {
      if (!to->tag().empty()) {
        // re-INVITE (session refresh, hold): accept with the SDP we already gave.
        if (!d || d->remote_tag != from->tag()) {
          respond(m, 481);
          return;
        }
        respond(m, 200, {}, "application/sdp", d->local_sdp, true, false);
        return;
      }
      if (d) return;  // the same INVITE again (a retransmission through a proxy): already ringing
      auto contacts = m.contacts();
      if (!contacts || contacts->empty() || contacts->front().star) {
        respond(m, 400, random_token(random_, 10));
        return;
      }
      Dialog nd;
      nd.outgoing = false;
      nd.call_id = call_id;
      nd.local_tag = random_token(random_, 10);
      nd.remote_tag = std::string(from->tag());
      nd.local_uri = bracket(to->uri.text);
      nd.remote_uri = bracket(from->uri.text);
      nd.remote_target = std::string(contacts->front().uri.text);
      std::vector<std::string_view> rr;
      if (m.elements(sip::HeaderId::RecordRoute, rr))
        for (auto r : rr) nd.route_set.emplace_back(r);  // §12.1.1: in order for the UAS
      nd.state = Dialog::State::Incoming;
      nd.invite_branch = std::string(m.top_via()->branch);
      respond(m, 180, nd.local_tag, {}, {}, true, true);
      Event e;
      e.kind = EventKind::IncomingCall;
      e.method = "INVITE";
      e.call_id = call_id;
      e.peer = std::string(from->uri.text);
      e.body = std::string(m.body());
      if (auto ct = m.get(sip::HeaderId::ContentType)) e.content_type = std::string(*ct);
      nd.invite = std::move(m);
      dialogs_.emplace(call_id, std::move(nd));
      emit(std::move(e));
      return;
    }
    case sip::Method::Bye: {
      if (!d) {
        respond(m, 481);
        return;
      }
      respond(m, 200);
      Event e;
      e.kind = EventKind::CallEnded;
      e.method = "BYE";
      e.status = 200;
      e.reason = "BYE from the peer";
      e.remote = true;
      e.call_id = call_id;
      e.peer = std::string(from->uri.text);
      dialogs_.erase(call_id);
      // Our own BYE, if one crossed theirs, will get a 481; its transaction ends quietly.
      emit(std::move(e));
      return;
    }
    case sip::Method::Message: {
      respond(m, 200, random_token(random_, 10));
      Event e;
      e.kind = EventKind::IncomingMessage;
      e.method = "MESSAGE";
      e.call_id = call_id;
      e.peer = std::string(from->uri.text);
      if (auto ct = m.get(sip::HeaderId::ContentType)) e.content_type = std::string(*ct);
      e.body = std::string(m.body());
      emit(std::move(e));
      return;
    }
    case sip::Method::Options:
      respond(m, 200, random_token(random_, 10));
      return;
    default:
      respond(m, 405, random_token(random_, 10));
      return;
  }
}

// ---- timers --------------------------------------------------------------------------------

void UserAgent::on_timer(const base::Now& now) {
  for (auto it = txs_.begin(); it != txs_.end();) {
    if (it->second.deadline && *it->second.deadline <= now.steady) {
      auto node = txs_.extract(it++);
      ClientTx& tx = node.mapped();
      std::string what = "no response within " + seconds_text(config_.transaction_timeout);
      fail_tx(tx, 0, std::move(what));
    } else {
      ++it;
    }
  }
  for (auto& [id, d] : dialogs_) {
    if (d.ack_deadline && *d.ack_deadline <= now.steady) {
      d.ack_deadline.reset();
      notice("no ACK for our 2xx to " + id + " within " + seconds_text(config_.ack_timeout) + ": BYE");
      d.state = Dialog::State::Confirmed;
      std::string cid = id;
      bye(cid, now);
    }
  }
  if (auto_refresh_ && reg_state_ == RegState::Registered && refresh_at_ && *refresh_at_ <= now.steady) {
    refresh_at_.reset();
    send_register(expires_asked_, true, now);
  }
}

std::optional<base::SteadyTime> UserAgent::next_deadline() const {
  std::optional<base::SteadyTime> t;
  auto take = [&](const std::optional<base::SteadyTime>& c) {
    if (c && (!t || *c < *t)) t = c;
  };
  for (auto& [k, tx] : txs_) take(tx.deadline);
  for (auto& [k, d] : dialogs_) take(d.ack_deadline);
  if (auto_refresh_ && reg_state_ == RegState::Registered) take(refresh_at_);
  return t;
}

std::vector<std::string> UserAgent::take_outgoing() { return std::exchange(outgoing_, {}); }

std::vector<Event> UserAgent::take_events() {
  std::vector<Event> out(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
  events_.clear();
  return out;
}

// ---- logs and files ------------------------------------------------------------------------

std::string redact_for_log(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_headers = true;
  size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    size_t end = eol == std::string_view::npos ? text.size() : eol + 1;
    std::string line(text.substr(pos, end - pos));
    pos = end;
    std::string_view trimmed = line;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) trimmed.remove_suffix(1);
    if (!first && in_headers && trimmed.empty()) in_headers = false;
    first = false;
    if (in_headers) {
      size_t colon = line.find(':');
      std::string_view name = colon == std::string::npos ? std::string_view{} : std::string_view(line).substr(0, colon);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      if (iequals(name, "Authorization") || iequals(name, "Proxy-Authorization")) {
        std::string lower = line;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        size_t p = lower.find("response=", colon);
        if (p != std::string::npos) {
          size_t v = p + 9;
          size_t e = v;
          if (v < line.size() && line[v] == '"') {
            e = line.find('"', v + 1);
            e = e == std::string::npos ? line.size() : e + 1;
          } else {
            while (e < line.size() && line[e] != ',' && line[e] != '\r' && line[e] != '\n') ++e;
          }
          std::string mask = v < line.size() && line[v] == '"' ? "\"***\"" : "***";
          if (e > v) line.replace(v, e - v, mask);
        }
      } else if (iequals(name, kTurnCredHeader)) {
        size_t c1 = line.find(':', colon + 1);
        size_t c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
        if (c2 != std::string::npos) {
          size_t e = c2 + 1;
          while (e < line.size() && line[e] != ';' && line[e] != '\r' && line[e] != '\n') ++e;
          line.replace(c2 + 1, e - c2 - 1, "***");
        }
      }
    }
    out += line;
  }
  return out;
}

std::string format_sqn_state(const crypto::IsimSqnState& s) {
  std::string out = "# webims wic: ISIM SQN state, SEQ_MS per IND (TS 33.102 Annex C.2.2): IND SEQ_MS\n";
  for (size_t i = 0; i < s.seq_ms.size(); ++i) out += std::to_string(i) + " " + std::to_string(s.seq_ms[i]) + "\n";
  return out;
}

std::optional<crypto::IsimSqnState> parse_sqn_state(std::string_view text) {
  crypto::IsimSqnState s;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    size_t sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos) return std::nullopt;
    std::string_view a = line.substr(0, sp), b = line.substr(sp);
    while (!b.empty() && (b.front() == ' ' || b.front() == '\t')) b.remove_prefix(1);
    unsigned ind = 0;
    uint64_t seq = 0;
    auto r1 = std::from_chars(a.data(), a.data() + a.size(), ind);
    auto r2 = std::from_chars(b.data(), b.data() + b.size(), seq);
    if (r1.ec != std::errc() || r1.ptr != a.data() + a.size() || r2.ec != std::errc() ||
        r2.ptr != b.data() + b.size() || ind >= crypto::Sqn::kIndCount || seq > crypto::Sqn::kMaxSeq)
      return std::nullopt;
    s.seq_ms[ind] = seq;
  }
  return s;
}

}  // namespace wic
