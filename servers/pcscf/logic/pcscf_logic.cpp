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

constexpr uint64_t kWantsTurnCredential = 1;  // forward() cookie bit

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

bool PcscfLogic::send(const sip::Hop& to, const sip::Message& msg) {
  if (is_ws_flow(to.flow)) return io_.ws_send(to.flow & ~(1ull << 63), msg.to_string());
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
  // Closing the connection ends its identity binding (protocols.md).
  bindings_.drop_connection(connection);
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
  // A WIC may not claim Trusted Node Authentication for itself: drop what only we may assert
  // (protocols.md "Scenarios 2 and 3").
  if (auto a = req.get(HeaderId::Authorization)) {
    auto v = sip::parse_auth(*a);
    if (!v) return refuse(from, req, 400, "Malformed Authorization header", &stats_.refused_malformed);
    if (v->is("Bearer"))
      return refuse(from, req, 403, "Token-based registration is not enabled on this eP-CSCF", &stats_.refused_token);
    if (v->is("Digest")) {
      auto cred = sip::to_digest_credentials(*v);
      if (!cred) return refuse(from, req, 400, "Malformed Digest credentials", &stats_.refused_malformed);
      if (cred->remove_other("integrity-protected") + cred->remove_other("authorization-entity") > 0)
        req.set(HeaderId::Authorization, sip::format(*cred));
    }
  }
  req.remove(HeaderId::PAssertedIdentity);
  req.remove(HeaderId::PPreferredIdentity);
  // Between WIC and eP-CSCF only: remembered with the transaction (the cookie) and answered on
  // the core's 200 OK in on_response.
  uint64_t cookie = 0;
  if (auto h = req.get(kTurnCredHeader); h && wants_turn_credential(*h)) cookie |= kWantsTurnCredential;
  req.remove(kTurnCredHeader);
  auto route = proxy_.preprocess_route(req);
  (void)route;
  sip::ProxyCore::add_path(req, our_uri(connection, true));
  bool has_path = false;
  for (auto s : req.values(HeaderId::Supported))
    if (s.find("path") != std::string_view::npos) has_path = true;
  if (!has_path) req.append(HeaderId::Supported, "path");
  proxy_.forward(from, std::move(req), settings_.next_hop, now, cookie);
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
  req.remove(HeaderId::PAssertedIdentity);
  req.remove(HeaderId::PPreferredIdentity);
  req.append(HeaderId::PAssertedIdentity, "<" + *who + ">");
  if (is_dialog_creating(req.method_id())) sip::ProxyCore::add_record_route(req, our_uri(connection, false));
  proxy_.forward(from, std::move(req), settings_.next_hop, now);
}

// ---------------------------------------------------------------------------------------------
// Responses on their way back to a WIC

void PcscfLogic::on_response(const sip::ForwardContext& ctx, sip::Message& response) {
  if (!is_ws_flow(ctx.upstream.flow) || ctx.request.method_id() != Method::Register || response.status() != 200) return;
  uint64_t connection = ctx.upstream.flow & ~(1ull << 63);
  if (!flows_.count(connection)) return;
  std::string impi = impi_of(ctx.request);
  uint32_t expires = granted_expires(response);
  int64_t now_unix = now_.unix_s;
  if (expires == 0) {
    bindings_.unbind(connection, impi);
    ++stats_.deregistrations;
    LOG_INFO(kLog) << "deregistered " << impi << " on connection " << connection;
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
  }
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
}

}  // namespace pcscf
