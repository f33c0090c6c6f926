#include "core/logic/core_logic.hpp"

#include <algorithm>

#include "base/log.hpp"
#include "core/logic/identity.hpp"

namespace core {

namespace {

constexpr const char* kLog = "core";
constexpr size_t kMaxCachedSubscribers = 200000;  // beyond, the cache starts over (memory bound)
constexpr auto kSubscriberCheckEvery = std::chrono::milliseconds(100);

store::RegistrationChange removal(const std::string& impu, const std::string& contact) {
  store::RegistrationChange c{store::RegistrationChange::Kind::Remove, {}, 0};
  c.reg.impu = impu;
  c.reg.contact = contact;
  return c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x + 32);
    if (y >= 'A' && y <= 'Z') y = char(y + 32);
    if (x != y) return false;
  }
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = char(c + 32);
  return s;
}

sip::ProxyConfig proxy_config(const CoreConfig& cfg, const std::vector<LocalAddress>& local) {
  sip::ProxyConfig p;
  for (auto& l : local) p.sent_by.push_back({l.transport, l.host_port});
  if (!local.empty()) p.default_sent_by = local.front().host_port;
  p.local_names.push_back(cfg.home_domain);  // the I-CSCF entry point of the home network
  return p;
}

// Dialog-forming requests outside a dialog get our Record-Route (RFC 3261 §16.6 step 4).
bool forms_dialog(const sip::Message& m) {
  auto id = m.method_id();
  if (id != sip::Method::Invite && id != sip::Method::Subscribe && id != sip::Method::Refer) return false;
  auto to = m.to();
  return to && to->tag().empty();
}

}  // namespace

std::string_view name(RegisterResult r) {
  switch (r) {
    case RegisterResult::Registered: return "registered";
    case RegisterResult::Deregistered: return "deregistered";
    case RegisterResult::Queried: return "queried";
    case RegisterResult::Challenged: return "challenged";
    case RegisterResult::Forbidden: return "forbidden";
    case RegisterResult::BadRequest: return "bad_request";
    case RegisterResult::ServerError: return "server_error";
    case RegisterResult::Count: break;
  }
  return "unknown";
}

std::string_view name(AuthFailure f) {
  switch (f) {
    case AuthFailure::UnknownUser: return "unknown_user";
    case AuthFailure::ImpuNotOwned: return "impu_not_owned";
    case AuthFailure::WrongPassword: return "wrong_password";
    case AuthFailure::StaleNonce: return "stale_nonce";
    case AuthFailure::BadNonce: return "bad_nonce";
    case AuthFailure::Replay: return "replay";
    case AuthFailure::SyncFailure: return "sync_failure";
    case AuthFailure::BadAuts: return "bad_auts";
    case AuthFailure::TnaRefused: return "tna_refused";
    case AuthFailure::BadCredentials: return "bad_credentials";
    case AuthFailure::Count: break;
  }
  return "unknown";
}

TnaDecision default_tna_policy(const TnaRequest& r) {
  const sip::AuthParam* entity = r.credentials.find_other("authorization-entity");
  if (!entity) return {true, {}};  // authorized inside the operator domain: the trusted node vouches
  if (!r.wwsf) return {false, "Authorization entity is not a known WWSF"};
  // REQ 2.2: a blocked WWSF is refused here too, not only at the eP-CSCF (a token issued before the
  // block may still be valid there).
  if (r.wwsf->blocked) return {false, "WWSF blocked"};
  for (auto& w : r.subscriber.allowed_wwsf)
    if (iequals(w, r.wwsf->id)) return {true, {}};  // scenario 2, REQ 2.1/2.3
  if (!r.subscriber.pool_owner.empty() && iequals(r.subscriber.pool_owner, r.wwsf->id)) return {true, {}};  // scenario 3
  return {false, "WWSF not allowed for this subscription"};
}

CoreLogic::CoreLogic(const CoreConfig& cfg, std::vector<LocalAddress> local, store::Store& store, Io& io,
                     base::Random& random, base::Bytes nonce_secret, const base::Now& now)
    : cfg_(cfg),
      local_(std::move(local)),
      store_(store),
      io_(io),
      proxy_(proxy_config(cfg_, local_), *this, random),
      auth_(cfg_, nonce_secret, store, random),
      trusted_(cfg_.trusted_ranges()) {
  load(now);
}

CoreLogic::~CoreLogic() {
  try {
    flush_store();
  } catch (const std::exception& e) {
    LOG_ERROR(kLog) << "store: " << e.what() << "; " << pending_.size() << " registration change(s) not written";
  }
}

bool CoreLogic::send(const sip::Hop& to, const sip::Message& msg) {
  if (msg.is_response()) {
    int cls = msg.status() / 100;
    if (cls >= 1 && cls <= 6) ++stats_.responses[size_t(cls)];
  }
  return io_.send(to, msg);
}

bool CoreLogic::trusted(const base::IpAddress& a) const {
  auto u = a.unmapped();
  for (auto& c : trusted_)
    if (c.contains(u)) return true;
  return false;
}

bool CoreLogic::is_home(const sip::Uri& uri) const {
  if (uri.scheme == sip::Scheme::Tel) return true;
  return uri.is_sip() && iequals(uri.host, cfg_.home_domain);
}

std::string CoreLogic::local_for(const std::string& transport) const {
  for (auto& l : local_)
    if (l.transport == transport) return l.host_port;
  return local_.empty() ? "127.0.0.1:5060" : local_.front().host_port;
}

std::string CoreLogic::uri_param_for(const std::string& transport) const {
  if (transport == "TCP") return ";transport=tcp";
  if (transport == "TLS") return ";transport=tls";
  return {};
}

void CoreLogic::reply(const sip::Hop& from, const sip::Message& req, int status, std::string_view reason,
                      const std::vector<std::pair<std::string, std::string>>& headers) {
  proxy_.respond(from, req, status, reason, headers);
}

// ---------------------------------------------------------------------------------------------
// Entry points

void CoreLogic::on_message(const sip::Hop& from, sip::Message msg, const base::Now& now) {
  last_steady_ = now.steady;
  if (from.flow) live_flows_.insert(from.flow);
  if (proxy_.on_message(from, msg, now) != sip::ProxyCore::Inbound::Request) return;
  try {
    handle(from, msg, now);
  } catch (const store::Error& e) {
    LOG_WARN(kLog) << "store: " << e.what();
    if (msg.method_id() == sip::Method::Register) register_result(RegisterResult::ServerError);
    reply(from, msg, 500, "Store unavailable");
  }
}

void CoreLogic::handle(const sip::Hop& from, sip::Message& msg, const base::Now& now) {
  // Only trusted nodes assert identities (RFC 3325 §5: the trust domain).
  if (!trusted(from.remote.addr)) msg.remove(sip::HeaderId::PAssertedIdentity);
  auto rc = proxy_.preprocess_route(msg);
  if (msg.method_id() == sip::Method::Register) {
    handle_register(from, msg, now);
    return;
  }
  bool originating = false;
  if (rc.popped) {
    auto u = sip::parse_uri(*rc.popped);
    originating = u && u->user == "orig";
  }
  route(from, msg, originating, now);
}

void CoreLogic::on_timer(const base::Now& now) {
  last_steady_ = now.steady;
  proxy_.on_timer(now);
  if (!pending_.empty() && now.steady >= pending_since_ + cfg_.registration_write_delay) {
    try {
      flush_store();
    } catch (const store::Error& e) {
      LOG_WARN(kLog) << "store: " << e.what() << "; " << pending_.size() << " registration change(s) kept for the next try";
    }
  }
  if (now.steady >= next_housekeeping_) {
    next_housekeeping_ = now.steady + std::chrono::seconds(1);
    auth_.on_timer(now);
    try {
      expire(now);
    } catch (const store::Error& e) {
      LOG_WARN(kLog) << "store: " << e.what();
    }
  }
}

std::optional<base::SteadyTime> CoreLogic::next_timer() {
  auto p = proxy_.next_timer();
  if (!p || *p > next_housekeeping_) p = next_housekeeping_;
  if (!pending_.empty()) p = std::min(*p, pending_since_ + cfg_.registration_write_delay);
  return p;
}

void CoreLogic::on_flow_closed(uint64_t flow, const base::Now& now) {
  live_flows_.erase(flow);
  proxy_.on_flow_closed(flow, now);
}

// ---------------------------------------------------------------------------------------------
// Registrar

void CoreLogic::handle_register(const sip::Hop& from, sip::Message& req, const base::Now& now) {
  auto forbid = [&](std::string_view reason, std::optional<AuthFailure> f = std::nullopt) {
    if (f) auth_failure(*f);
    register_result(RegisterResult::Forbidden);
    reply(from, req, 403, reason);
  };
  auto ruri = req.parse_request_uri();
  if (!ruri || !ruri->is_sip() || (!is_home(*ruri) && !proxy_.is_local(*ruri))) {
    forbid("Not the home domain");  // RFC 3261 §10.3 step 1; we do not relay REGISTER
    return;
  }
  auto to = req.to();
  auto impu = to ? canonical_impu(to->uri) : std::nullopt;
  if (!impu) {
    register_result(RegisterResult::BadRequest);
    reply(from, req, 400, "Bad To");
    return;
  }
  // The Digest credentials for our realm (RFC 3261 §22.4: several may be present).
  std::optional<sip::DigestCredentials> creds;
  for (auto v : req.values(sip::HeaderId::Authorization)) {
    auto a = sip::parse_auth(v);
    if (!a || !a->is("Digest")) continue;
    auto d = sip::to_digest_credentials(*a);
    if (d && iequals(d->realm, cfg_.home_domain)) {
      creds = std::move(*d);
      break;
    }
  }
  std::optional<std::string> impi;
  if (creds && !creds->username.empty()) impi = creds->username;
  else if (auto owner = impi_for_impu(*impu)) impi = *owner;  // the HSS knows the IMPU's IMPI
  else impi = impi_from_impu(to->uri);  // NOTE 5: derived from the IMPU
  if (!impi) {
    forbid("Private identity unknown", AuthFailure::UnknownUser);
    return;
  }
  check_subscribers();
  const store::Subscriber* sub = subscriber(*impi);
  if (!sub) {
    forbid("Unknown user", AuthFailure::UnknownUser);
    return;
  }
  bool owned = false;
  for (auto& i : sub->impus) owned = owned || canonical_impu(i) == impu;
  if (!owned) {
    forbid("Public identity not of this subscription", AuthFailure::ImpuNotOwned);
    return;
  }
  const sip::AuthParam* ip = creds ? creds->find_other("integrity-protected") : nullptr;
  if (ip && ip->value == "auth-done") {
    // TNA: the eP-CSCF vouches for the user (TS 24.229 5.4.1.2.2, TS 33.203 Annex U) - only a trusted one.
    if (!trusted(from.remote.addr)) {
      LOG_INFO(kLog) << "TNA REGISTER for '" << *impi << "' from untrusted " << from.to_string() << " refused";
      forbid("Trusted node authentication not allowed", AuthFailure::TnaRefused);
      return;
    }
    TnaRequest tr{*sub, *impu, *creds, from};
    if (auto* entity = creds->find_other("authorization-entity")) tr.wwsf = wwsf(entity->value);
    TnaDecision d = tna_policy_(tr);
    if (!d.accept) {
      LOG_INFO(kLog) << "TNA REGISTER for '" << *impi << "' refused: " << d.reason;
      forbid(d.reason.empty() ? "Trusted node authentication refused" : d.reason, AuthFailure::TnaRefused);
      return;
    }
  } else {
    const sip::DigestCredentials* c = creds && creds->realm == sub->realm ? &*creds : nullptr;
    auto out = auth_.check(req, *sub, c, now);
    if (out.failure) auth_failure(*out.failure);
    switch (out.kind) {
      case Authenticator::Outcome::Kind::Authenticated: break;
      case Authenticator::Outcome::Kind::Challenge: {
        std::vector<std::pair<std::string, std::string>> h;
        for (auto& ch : out.challenges) h.push_back({"WWW-Authenticate", ch});
        register_result(RegisterResult::Challenged);
        reply(from, req, 401, {}, h);
        return;
      }
      case Authenticator::Outcome::Kind::Forbidden:
        register_result(RegisterResult::Forbidden);
        reply(from, req, 403, out.reason);
        return;
      case Authenticator::Outcome::Kind::ServerError:
        register_result(RegisterResult::ServerError);
        reply(from, req, 500, out.reason);
        return;
    }
  }
  apply_bindings(from, req, *sub, *impu, now);
}

void CoreLogic::apply_bindings(const sip::Hop& from, sip::Message& req, const store::Subscriber& sub,
                               const std::string& impu, const base::Now& now) {
  auto bad = [&](std::string_view reason) {
    register_result(RegisterResult::BadRequest);
    reply(from, req, 400, reason);
  };
  auto contacts = req.contacts();
  if (!contacts && contacts.error() != sip::Error::MissingHeader) return bad("Bad Contact");
  std::optional<uint32_t> expires_header;
  if (auto e = req.expires()) expires_header = *e;
  else if (e.error() != sip::Error::MissingHeader) return bad("Bad Expires");
  std::string call_id(req.call_id().value_or(""));
  uint32_t cseq = req.cseq() ? req.cseq()->number : 0;
  const int64_t min_e = std::chrono::duration_cast<std::chrono::seconds>(cfg_.min_expires).count();
  const int64_t max_e = std::chrono::duration_cast<std::chrono::seconds>(cfg_.max_expires).count();
  const int64_t def_e = std::chrono::duration_cast<std::chrono::seconds>(cfg_.default_expires).count();

  std::vector<sip::NameAddr> list = contacts ? std::move(*contacts) : std::vector<sip::NameAddr>{};
  bool changed = false;
  const bool star = std::any_of(list.begin(), list.end(), [](const sip::NameAddr& c) { return c.star; });
  if (star) {
    // RFC 3261 §10.3 step 6: `*` only alone and with Expires: 0.
    if (list.size() != 1 || expires_header != 0u) return bad("Invalid wildcard");
    auto it = by_impu_.find(impu);
    if (it != by_impu_.end()) {
      std::vector<std::string> gone;
      for (auto& b : it->second) gone.push_back(b.contact);
      for (auto& c : gone) drop_binding(impu, c);
      changed = true;
    }
    store::RegistrationChange all{store::RegistrationChange::Kind::RemoveAll, {}, 0};
    all.reg.impu = impu;
    write(std::move(all));
    list.clear();
  }
  struct Change {
    std::string contact;
    int64_t expires;
    std::string instance;
    uint32_t reg_id;
  };
  std::vector<Change> changes;
  for (auto& c : list) {
    int64_t e = def_e;
    if (auto pe = c.expires()) {
      if (!*pe) return bad("Bad Contact expires");
      e = **pe;
    } else if (expires_header) {
      e = *expires_header;
    }
    if (e != 0) e = std::clamp(e, min_e, max_e);
    Change ch{std::string(c.uri.text), e, {}, 0};
    if (auto inst = c.param("+sip.instance")) ch.instance = std::string(*inst);
    if (auto rid = c.param("reg-id")) {
      auto n = sip::parse_number(*rid, 0x7fffffff);
      if (!n) return bad("Bad reg-id");
      ch.reg_id = *n;
    }
    // §10.3 step 7: the same Call-ID with a CSeq not above the stored one is out of order.
    auto it = by_impu_.find(impu);
    if (it != by_impu_.end())
      for (auto& b : it->second)
        if (b.contact == ch.contact && b.call_id == call_id && cseq <= b.cseq) {
          register_result(RegisterResult::ServerError);
          reply(from, req, 500, "Out of order REGISTER");
          return;
        }
    changes.push_back(std::move(ch));
  }

  std::vector<std::string> path;
  {
    std::vector<std::string_view> els;
    req.elements(sip::HeaderId::Path, els);
    path.assign(els.begin(), els.end());
  }
  for (auto& ch : changes) {
    if (ch.expires == 0) {
      drop_binding(impu, ch.contact);
      write(removal(impu, ch.contact));
      changed = true;
      continue;
    }
    // RFC 5626 §6: a new flow of the same instance and reg-id replaces the old binding.
    if (!ch.instance.empty()) {
      auto it = by_impu_.find(impu);
      std::vector<std::string> replaced;
      if (it != by_impu_.end())
        for (auto& b : it->second)
          if (b.contact != ch.contact && b.instance_id == ch.instance && b.reg_id == ch.reg_id)
            replaced.push_back(b.contact);
      for (auto& c : replaced) {
        drop_binding(impu, c);
        write(removal(impu, c));
      }
    }
    store::Registration r;
    r.impu = impu;
    r.impi = sub.impi;
    r.contact = ch.contact;
    r.path = path;
    r.instance_id = ch.instance;
    r.reg_id = ch.reg_id;
    r.expires_unix = now.unix_s + ch.expires;
    r.call_id = call_id;
    r.cseq = cseq;
    r.received = from.to_string();
    r.updated_unix = now.unix_s;
    put_binding(r);
    write({store::RegistrationChange::Kind::Put, std::move(r), 0});
    changed = true;
  }
  // Bound per IMPU: the least recently refreshed binding goes first.
  auto it = by_impu_.find(impu);
  while (it != by_impu_.end() && it->second.size() > size_t(cfg_.max_contacts)) {
    auto oldest = std::min_element(it->second.begin(), it->second.end(), [](auto& a, auto& b) {
      return a.updated_unix < b.updated_unix;
    });
    std::string c = oldest->contact;
    drop_binding(impu, c);
    write(removal(impu, c));
    it = by_impu_.find(impu);
  }

  // 200 OK (RFC 3261 §10.3 step 8, RFC 3327 §5.3, RFC 3608 §6, RFC 3455 §4.1).
  sip::Message ok = proxy_.make_local_response(req, 200);
  static const std::vector<store::Registration> kNone;
  auto found = by_impu_.find(impu);
  const auto& current = found == by_impu_.end() ? kNone : found->second;  // read only, not copied
  for (auto& b : current) {
    std::string v = "<" + b.contact + ">;expires=" + std::to_string(std::max<int64_t>(0, b.expires_unix - now.unix_s));
    if (!b.instance_id.empty()) v += ";+sip.instance=\"" + b.instance_id + "\"";
    if (b.reg_id) v += ";reg-id=" + std::to_string(b.reg_id);
    ok.append(sip::HeaderId::Contact, v);
  }
  for (auto& p : path) ok.append(sip::HeaderId::Path, p);
  if (!current.empty()) {
    ok.append(sip::HeaderId::ServiceRoute,
              "<sip:orig@" + local_for(from.transport) + uri_param_for(from.transport) + ";lr>");
    std::string pau;
    std::string registered;
    for (auto& i : sub.impus) {
      if (canonical_impu(i) == impu && registered.empty()) registered = "<" + i + ">";
      else pau += ", <" + i + ">";
    }
    ok.append(sip::HeaderId::PAssociatedUri, registered + pau);
  }
  if (!star && changes.empty()) register_result(RegisterResult::Queried);
  else register_result(current.empty() ? RegisterResult::Deregistered : RegisterResult::Registered);
  if (changed)
    LOG_DEBUG(kLog) << impu << ": " << current.size() << " binding(s) after REGISTER from " << from.to_string();
  proxy_.respond(from, req, std::move(ok));
}

// ---------------------------------------------------------------------------------------------
// Location service

std::vector<store::Registration> CoreLogic::bindings(const std::string& impu) const {
  auto it = by_impu_.find(impu);
  return it == by_impu_.end() ? std::vector<store::Registration>{} : it->second;
}

void CoreLogic::put_binding(const store::Registration& r) {
  auto& v = by_impu_[r.impu];
  for (auto& b : v)
    if (b.contact == r.contact) {
      expiry_.erase({b.expires_unix, b.impu, b.contact});
      b = r;
      expiry_.insert({r.expires_unix, r.impu, r.contact});
      return;
    }
  v.push_back(r);
  expiry_.insert({r.expires_unix, r.impu, r.contact});
  ++binding_count_;
}

void CoreLogic::drop_binding(const std::string& impu, const std::string& contact) {
  auto it = by_impu_.find(impu);
  if (it == by_impu_.end()) return;
  auto& v = it->second;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].contact == contact) {
      expiry_.erase({v[i].expires_unix, impu, contact});
      v.erase(v.begin() + ptrdiff_t(i));
      --binding_count_;
      break;
    }
  if (v.empty()) by_impu_.erase(it);
}

void CoreLogic::load(const base::Now& now) {
  flush_store();  // our own changes first, or the reload would lose them
  seen_generation_ = store_.registrations_generation();
  by_impu_.clear();
  expiry_.clear();
  binding_count_ = 0;
  for (auto& r : store_.list_registrations())
    if (r.expires_unix > now.unix_s) put_binding(r);
}

void CoreLogic::poll_store(const base::Now& now) {
  flush_store();
  if (store_.registrations_generation() == seen_generation_) return;
  load(now);
  LOG_INFO(kLog) << "registrations reloaded from the store: " << binding_count_ << " binding(s)";
}

void CoreLogic::expire(const base::Now& now) {
  bool any = false;
  while (!expiry_.empty() && std::get<0>(*expiry_.begin()) <= now.unix_s) {
    auto [e, impu, contact] = *expiry_.begin();
    LOG_DEBUG(kLog) << impu << ": binding expired";
    drop_binding(impu, contact);
    any = true;
  }
  if (any) write({store::RegistrationChange::Kind::Expire, {}, now.unix_s});
}

void CoreLogic::write(store::RegistrationChange c) {
  if (pending_.empty()) pending_since_ = last_steady_;
  if (c.kind == store::RegistrationChange::Kind::Put) {
    // A binding refreshed again before the write: the store would upsert every column of the row
    // twice, and the later upsert wins. Only with no other kind of change in between (a Remove or
    // Expire could concern it) and the same IMPI (whose subscriber decides whether it is written).
    std::string key = c.reg.impu;
    key += '\0';
    key += c.reg.contact;
    auto [it, fresh] = pending_puts_.try_emplace(std::move(key), pending_.size());
    if (!fresh && pending_[it->second].reg.impi == c.reg.impi) {
      pending_[it->second] = std::move(c);
      return;
    }
    it->second = pending_.size();
  } else {
    pending_puts_.clear();
  }
  pending_.push_back(std::move(c));
  // Immediate when configured so, and in bounded batches under load.
  if (cfg_.registration_write_delay.count() == 0 || pending_.size() >= 1024) flush_store();
}

void CoreLogic::flush_store() {
  if (pending_.empty()) return;
  auto g = store_.apply_registrations(pending_);
  // Nobody else wrote since we last looked: our view is the store's. Otherwise (or when a binding
  // could not be written because its subscriber is gone) poll_store() reloads.
  if (g.before == seen_generation_ && g.skipped == 0) seen_generation_ = g.after;
  pending_.clear();
  pending_puts_.clear();
}

void CoreLogic::check_subscribers() {
  // At most every 100 ms: the read costs an SQLite read transaction (file locks), which was a tenth
  // of a registration's CPU when done per request. New subscribers are never cached as unknown.
  if (subscribers_checked_ != base::SteadyTime{} && last_steady_ < subscribers_checked_ + kSubscriberCheckEvery) return;
  subscribers_checked_ = last_steady_;
  uint64_t g = store_.subscribers_generation();
  if (g == subscribers_generation_) return;
  subscribers_.clear();
  impi_of_impu_.clear();
  subscribers_generation_ = g;
}

const store::Subscriber* CoreLogic::subscriber(const std::string& impi) {
  if (auto it = subscribers_.find(impi); it != subscribers_.end()) return &it->second;
  auto s = store_.find_subscriber(impi);
  if (!s) return nullptr;  // unknown ones are not cached: an added subscriber registers at once
  if (subscribers_.size() >= kMaxCachedSubscribers) subscribers_.clear();
  return &subscribers_.emplace(impi, std::move(*s)).first->second;
}

const store::Wwsf* CoreLogic::wwsf(const std::string& id) {
  if (!wwsfs_generation_ || wwsfs_checked_ == base::SteadyTime{} ||
      last_steady_ >= wwsfs_checked_ + kSubscriberCheckEvery) {
    wwsfs_checked_ = last_steady_;
    uint64_t g = store_.wwsfs_generation();
    if (g != wwsfs_generation_) {
      // Few and small: reloaded whole. The counter is read first, so a change racing the list is
      // seen again at the next check rather than missed.
      wwsfs_.clear();
      for (auto& w : store_.list_wwsfs()) {
        auto key = lower(w.id);
        wwsfs_.emplace(std::move(key), std::move(w));
      }
      wwsfs_generation_ = g;
    }
  }
  auto it = wwsfs_.find(lower(id));
  return it == wwsfs_.end() ? nullptr : &it->second;
}

std::optional<std::string> CoreLogic::impi_for_impu(const std::string& impu) {
  if (auto it = impi_of_impu_.find(impu); it != impi_of_impu_.end()) return it->second;
  auto i = store_.impi_for_impu(impu);
  if (!i) return std::nullopt;
  if (impi_of_impu_.size() >= kMaxCachedSubscribers) impi_of_impu_.clear();
  impi_of_impu_.emplace(impu, *i);
  return i;
}

std::vector<const store::Registration*> CoreLogic::reachable(const store::Subscriber& sub) const {
  std::vector<const store::Registration*> out;
  for (auto& i : sub.impus) {
    auto c = canonical_impu(i);
    if (!c) continue;
    auto it = by_impu_.find(*c);
    if (it == by_impu_.end()) continue;
    for (auto& b : it->second) {
      bool dup = std::any_of(out.begin(), out.end(), [&](auto* o) { return o->contact == b.contact; });
      if (!dup) out.push_back(&b);
    }
  }
  return out;
}

std::optional<sip::Hop> CoreLogic::hop_for(const store::Registration& b) const {
  auto received = parse_hop(b.received);
  bool live = received && (received->flow ? live_flows_.count(received->flow) > 0 : !received->reliable());
  if (live) return received;  // the connection the REGISTER came over (RFC 5626 style)
  if (!b.path.empty()) {  // the first Path entry is the eP-CSCF (RFC 3327)
    auto first = sip::parse_name_addr(b.path.front());
    if (first) return sip::ProxyCore::hop_for_uri(first->uri);
    return std::nullopt;
  }
  auto contact = sip::parse_uri(b.contact);
  if (contact) return sip::ProxyCore::hop_for_uri(*contact);
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Routing

void CoreLogic::route(const sip::Hop& from, sip::Message& req, bool originating, const base::Now& now) {
  const bool ack = req.method_id() == sip::Method::Ack;
  auto record_route = [&](sip::Message& m) {
    if (forms_dialog(m))
      sip::ProxyCore::add_record_route(m, "sip:" + local_for(from.transport) + uri_param_for(from.transport) + ";lr");
  };
  // A Route left after ours (in-dialog requests, preloaded routes): follow it, toward trusted nodes only.
  if (auto routes = req.routes(); routes && !routes->empty()) {
    auto hop = sip::ProxyCore::hop_for_uri(routes->front().uri);
    if (!hop || !trusted(hop->remote.addr)) {
      reply(from, req, 403, "Relaying not allowed");
      return;
    }
    record_route(req);
    ++stats_.routed[size_t(req.method_id())];
    proxy_.forward(from, std::move(req), *hop, now);
    return;
  }
  auto ruri = req.parse_request_uri();
  if (!ruri) {
    reply(from, req, 400, "Bad Request-URI");
    return;
  }
  if (originating) {
    // The served user (RFC 3325 P-Asserted-Identity from the eP-CSCF, else From) must be registered.
    std::optional<std::string> served;
    if (auto pai = req.name_addrs(sip::HeaderId::PAssertedIdentity); pai && !pai->empty())
      served = canonical_impu(pai->front().uri);
    else if (auto f = req.from())
      served = canonical_impu(f->uri);
    check_subscribers();
    const store::Subscriber* sub = nullptr;
    if (served)
      if (auto impi = impi_for_impu(*served)) sub = subscriber(*impi);
    if (!sub || reachable(*sub).empty()) {
      reply(from, req, 403, "Originating user not registered");
      return;
    }
  }
  if (ruri->is_sip() && !ruri->has_user && (proxy_.is_local(*ruri) || is_home(*ruri))) {
    // Addressed to the core itself.
    if (req.method_id() == sip::Method::Options)
      reply(from, req, 200, {}, {{"Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, REGISTER, UPDATE, INFO, PRACK, "
                                           "SUBSCRIBE, NOTIFY, REFER"}});
    else
      reply(from, req, 404, "Not Found");
    return;
  }
  if (!is_home(*ruri)) {
    reply(from, req, 403, "Relaying not allowed");  // no interconnect: not an open relay
    return;
  }
  auto target = canonical_impu(*ruri);
  check_subscribers();
  std::optional<std::string> impi;
  if (target) impi = impi_for_impu(*target);
  const store::Subscriber* sub = nullptr;
  if (impi) sub = subscriber(*impi);
  if (!sub) {
    reply(from, req, 404, "Not Found");
    return;
  }
  std::vector<sip::ProxyCore::Target> targets;
  std::vector<std::pair<std::string, std::string>> behind;
  for (auto* b : reachable(*sub)) {
    auto hop = hop_for(*b);
    if (!hop) continue;
    sip::Message m = req;
    if (!m.set_request_uri(b->contact)) continue;
    m.remove(sip::HeaderId::Route);
    for (auto& p : b->path) m.append(sip::HeaderId::Route, p);  // RFC 3327 §5.3: Path becomes Route
    record_route(m);
    targets.push_back({*hop, std::move(m)});
    behind.emplace_back(b->impu, b->contact);
  }
  if (targets.empty()) {
    if (!ack) reply(from, req, 480, "Temporarily Unavailable");
    return;
  }
  ++stats_.routed[size_t(req.method_id())];
  uint64_t cookie = 0;
  if (!ack) {
    cookie = next_cookie_++;
    forwarded_[cookie] = std::move(behind);
  }
  if (!proxy_.forward(from, std::move(targets), now, cookie)) forwarded_.erase(cookie);
}

void CoreLogic::on_branch_final(const sip::ForwardContext& ctx, size_t target, int status) {
  if (status != 430) return;
  auto it = forwarded_.find(ctx.cookie);
  if (it == forwarded_.end() || target >= it->second.size()) return;
  const auto& [impu, contact] = it->second[target];
  LOG_INFO("core") << "flow to " << contact << " of " << impu << " failed (430): binding removed";
  write(removal(impu, contact));
  drop_binding(impu, contact);
}

void CoreLogic::on_response(const sip::ForwardContext& ctx, sip::Message& response) {
  if (response.status() >= 200) forwarded_.erase(ctx.cookie);
}

}  // namespace core
