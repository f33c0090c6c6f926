#include "sip/proxy.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "base/encoding.hpp"
#include "base/log.hpp"
#include "sip/charset.hpp"
#include "sip/validate.hpp"

namespace sip {

using detail::iequals;
using detail::lower;
using base::SteadyTime;

namespace {

constexpr const char* kLog = "sip-proxy";
constexpr SteadyTime kNever = SteadyTime::max();

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = char(c - 32);
  return out;
}

std::string lower_copy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

uint16_t default_port(std::string_view transport) {
  if (transport == "TLS") return 5061;
  if (transport == "WSS") return 443;
  if (transport == "WS") return 80;
  return 5060;
}

// "host", "host:port", "[v6]", "[v6]:port" -> lower-case host (brackets kept) and port.
std::pair<std::string, std::optional<uint16_t>> split_host_port(std::string_view s) {
  std::string_view host = s, port;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close != std::string_view::npos) {
      host = s.substr(0, close + 1);
      if (close + 1 < s.size() && s[close + 1] == ':') port = s.substr(close + 2);
    }
  } else if (size_t colon = s.rfind(':'); colon != std::string_view::npos && s.find(':') == colon) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  std::optional<uint16_t> p;
  if (!port.empty()) {
    auto n = parse_number(port, 65535);
    if (n) p = uint16_t(*n);
  }
  return {lower_copy(host), p};
}

// Server transaction key (RFC 3261 §17.2.3): branch, sent-by and method, ACK counting as INVITE;
// RFC 2543 requests (no magic cookie) by Request-URI, tags, Call-ID, CSeq and top Via (§17.2.3 end).
std::string server_key(const Message& m) {
  auto via = m.top_via();
  std::string_view method = m.method_id() == Method::Ack ? std::string_view("INVITE") : m.method();
  std::string key;
  if (via && via->rfc3261_branch()) {
    // One allocation: method, branch, lower-case host and port ("INVITE\nz9hG4bK..\nhost:5060").
    key.reserve(method.size() + via->branch.size() + via->host.size() + 9);
    key += method;
    key += '\n';
    key += via->branch;
    key += '\n';
    for (char c : via->host) key += lower(c);
    key += ':';
    char port[8];
    auto r = std::to_chars(port, port + sizeof port, unsigned(via->port.value_or(0)));
    key.append(port, size_t(r.ptr - port));
    return key;
  }
  key += method;
  key += '\n';
  key += "2543\n";
  if (m.method_id() != Method::Ack) key += m.request_uri();
  key += '\n';
  if (auto f = m.from()) key += f->tag();
  key += '\n';
  key += m.call_id().value_or("");
  key += '\n';
  if (auto c = m.cseq()) key += std::to_string(c->number);
  key += '\n';
  key += m.get(HeaderId::Via).value_or("");
  return key;
}

bool is_invite(const Message& m) { return m.method_id() == Method::Invite; }

// Every Route element of `m`, in order.
std::vector<std::string> route_values(const Message& m) {
  std::vector<std::string_view> els;
  m.elements(HeaderId::Route, els);
  return {els.begin(), els.end()};
}

}  // namespace

std::string Hop::to_string() const {
  std::string s = transport + " " + remote.to_string();
  if (flow) s += " flow " + std::to_string(flow);
  return s;
}

// One target of a forwarded request: a client transaction (RFC 3261 §17.1).
struct ProxyCore::Branch {
  enum class State : uint8_t { Calling, Proceeding, Completed, Accepted, Terminated };
  std::string branch;
  Hop to;
  Message request;  // as sent, with our Via
  State state = State::Calling;
  bool invite = false;
  int final_status = 0;
  SteadyTime retransmit_at = kNever;  // Timer A / E
  base::Millis interval{0};
  SteadyTime timeout_at = kNever;     // Timer B / F, then C for INVITE after a provisional
  SteadyTime end_at = kNever;         // Timer D / K / M
  std::optional<Message> ack;         // our ACK for a non-2xx final (§17.1.1.3), resent on retransmissions
  bool cancel_wanted = false;         // CANCEL once a provisional arrives (§9.1)
  bool cancel_sent = false;
  std::optional<Message> cancel;
  SteadyTime cancel_retransmit_at = kNever;
  base::Millis cancel_interval{0};
  SteadyTime cancel_end_at = kNever;

  bool pending() const { return state == State::Calling || state == State::Proceeding; }
};

// A server transaction with its response context (RFC 3261 §16.7, §17.2).
struct ProxyCore::Txn {
  enum class State : uint8_t {
    Proceeding,  // no final response sent upstream yet
    Completed,   // non-2xx final sent (INVITE: waiting for the ACK, Timer G/H; else Timer J)
    Confirmed,   // INVITE: ACK received (Timer I)
    Accepted,    // INVITE: 2xx sent (RFC 6026 Timer L): more 2xx are relayed, retransmissions absorbed
    Done,        // server side over; waits for its branches to end
  };
  uint64_t id = 0;
  std::string key;
  Hop upstream;
  Message request;  // as received (with received/rport)
  bool invite = false;
  uint64_t cookie = 0;
  std::string to_tag;
  State state = State::Proceeding;
  std::optional<Message> last_response;
  bool forwarded = false;
  bool cancelled = false;
  std::vector<Branch> branches;
  std::optional<Message> best;
  SteadyTime g_at = kNever;  // Timer G
  base::Millis g_interval{0};
  SteadyTime end_at = kNever;  // Timer H / I / J / L, or the cap on a local 1xx without final
  SteadyTime wake = kNever;
};

ProxyCore::ProxyCore(ProxyConfig config, ProxyUser& user, base::Random& random)
    : config_(std::move(config)), user_(user), random_(random) {}

ProxyCore::~ProxyCore() = default;

std::string ProxyCore::new_branch() {
  uint8_t b[10];
  random_.fill(b);
  return "z9hG4bK" + base::hex_encode({b, sizeof b});
}

std::string ProxyCore::new_tag() {
  uint8_t b[8];
  random_.fill(b);
  return base::hex_encode({b, sizeof b});
}

std::string ProxyCore::sent_by(const std::string& transport) const {
  for (auto& [t, s] : config_.sent_by)
    if (iequals(t, transport)) return s;
  return config_.default_sent_by;
}

bool ProxyCore::is_local(const Uri& uri) const {
  if (!uri.is_sip()) return false;
  std::string host = lower_copy(uri.host);
  std::string tp = upper(uri.transport());
  uint16_t port = uri.port.value_or(uri.scheme == Scheme::Sips || tp == "TLS" ? 5061 : default_port(tp));
  auto match = [&](std::string_view name) {
    auto [h, p] = split_host_port(name);
    return h == host && (!p || *p == port);
  };
  for (auto& [t, s] : config_.sent_by)
    if (match(s)) return true;
  if (match(config_.default_sent_by)) return true;
  for (auto& n : config_.local_names)
    if (match(n)) return true;
  return false;
}

std::optional<Hop> ProxyCore::hop_for_uri(const Uri& uri) {
  if (!uri.is_sip()) return std::nullopt;
  if (uri.host_type != HostType::IPv4 && uri.host_type != HostType::IPv6) return std::nullopt;
  auto addr = base::IpAddress::parse(uri.host_address());
  if (!addr) return std::nullopt;
  Hop h;
  std::string tp = upper(uri.transport());
  if (tp.empty()) tp = "UDP";
  if (uri.scheme == Scheme::Sips) tp = tp == "WS" || tp == "WSS" ? "WSS" : "TLS";
  if (tp != "UDP" && tp != "TCP" && tp != "TLS" && tp != "WS" && tp != "WSS") return std::nullopt;
  h.transport = tp;
  h.remote = {*addr, uri.port.value_or(default_port(tp))};
  return h;
}

std::optional<Hop> ProxyCore::hop_for_via(const Via& via) {
  Hop h;
  h.transport = upper(via.transport);
  std::string_view host = via.received.empty() ? via.host : via.received;
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  auto addr = base::IpAddress::parse(host);
  if (!addr) return std::nullopt;
  h.remote = {*addr, via.rport_value ? *via.rport_value : via.port.value_or(default_port(h.transport))};
  return h;
}

bool ProxyCore::add_record_route(Message& request, std::string_view uri) {
  return request.prepend(HeaderId::RecordRoute, "<" + std::string(uri) + ">");
}

bool ProxyCore::add_path(Message& request, std::string_view uri) {
  return request.prepend(HeaderId::Path, "<" + std::string(uri) + ">");
}

bool ProxyCore::stamp_via(Message& request, const base::Endpoint& source) {
  for (size_t i = 0; i < request.header_count(); ++i) {
    Message::Header h = request.header(i);
    if (h.id != HeaderId::Via) continue;
    size_t end = detail::element_end(h.value, 0);
    if (end == std::string_view::npos) return false;
    std::string_view element = detail::trim_lws(h.value.substr(0, end));
    auto via = parse_via(element);
    if (!via) return false;
    std::string src = source.addr.to_string();
    auto host_ip = base::IpAddress::parse(via->host.size() >= 2 && via->host.front() == '['
                                              ? via->host.substr(1, via->host.size() - 2)
                                              : via->host);
    // RFC 3261 §18.2.1: received when sent-by is a name or another address; RFC 3581 §4: always with rport.
    bool need_received = via->rport || !host_ip || *host_ip != source.addr;
    if (!need_received && via->received.empty()) return true;
    std::string_view raw = via->params.raw();
    std::string out(raw.empty() ? element : element.substr(0, size_t(raw.data() - element.data())));
    via->params.for_each([&](const Param& p) {
      if (iequals(p.name, "received") || iequals(p.name, "rport")) return true;
      out += ';';
      out += p.name;
      if (p.has_value) {
        out += '=';
        if (p.quoted) out += '"';
        out += p.value;
        if (p.quoted) out += '"';
      }
      return true;
    });
    if (need_received) out += ";received=" + src;
    if (via->rport) out += ";rport=" + std::to_string(source.port);
    if (end < h.value.size()) out += h.value.substr(end);  // the other elements of this field
    return request.set_value(i, out);
  }
  return false;
}

ProxyCore::RouteCheck ProxyCore::preprocess_route(Message& request) const {
  RouteCheck out;
  auto ruri = request.parse_request_uri();
  std::vector<std::string> routes = route_values(request);
  // §16.4: a strict router upstream put our Record-Route URI into the Request-URI; the real
  // Request-URI is the last Route.
  if (ruri && ruri->lr() && is_local(*ruri) && !routes.empty()) {
    auto last = parse_name_addr(routes.back());
    if (last) {
      std::string target(last->uri.text);
      routes.pop_back();
      request.remove(HeaderId::Route);
      for (auto& r : routes) request.append(HeaderId::Route, r);
      request.set_request_uri(target);
      out.strict_route_fixed = true;
    }
  }
  if (!routes.empty() || out.strict_route_fixed) {
    auto top = request.routes();
    if (top && !top->empty() && is_local(top->front().uri)) {
      out.popped = std::string(top->front().uri.text);
      request.pop_first_element(HeaderId::Route);
    }
  }
  return out;
}

ProxyCore::Txn* ProxyCore::find_server(const std::string& key) {
  auto it = server_index_.find(key);
  if (it == server_index_.end()) return nullptr;
  auto t = txns_.find(it->second);
  return t == txns_.end() ? nullptr : t->second.get();
}

ProxyCore::Txn* ProxyCore::create_txn(const std::string& key, const Hop& from, const Message& request,
                                      const base::Now& now) {
  auto t = std::make_unique<Txn>();
  t->id = next_id_++;
  t->key = key;
  t->upstream = from;
  t->request = request;
  t->invite = is_invite(request);
  t->to_tag = new_tag();
  Txn* raw = t.get();
  txns_.emplace(raw->id, std::move(t));
  server_index_[key] = raw->id;
  return raw;
}

void ProxyCore::destroy(Txn* t) {
  auto it = server_index_.find(t->key);
  if (it != server_index_.end() && it->second == t->id) server_index_.erase(it);
  for (auto& b : t->branches) client_index_.erase(b.branch);
  txns_.erase(t->id);
}

void ProxyCore::maybe_finish(Txn& t) {
  if (t.state != Txn::State::Done) return;
  for (auto& b : t.branches)
    if (b.state != Branch::State::Terminated) return;
  destroy(&t);
}

void ProxyCore::schedule(Txn& t) {
  SteadyTime w = std::min({t.g_at, t.end_at});
  for (auto& b : t.branches)
    w = std::min({w, b.retransmit_at, b.timeout_at, b.end_at, b.cancel_retransmit_at, b.cancel_end_at});
  if (w == t.wake) return;
  t.wake = w;
  if (w != kNever) wakes_.push({w, t.id});
}

std::optional<SteadyTime> ProxyCore::next_timer() {
  while (!wakes_.empty()) {
    auto [when, id] = wakes_.top();
    auto it = txns_.find(id);
    if (it == txns_.end() || it->second->wake != when) {
      wakes_.pop();
      continue;
    }
    return when;
  }
  return std::nullopt;
}

void ProxyCore::on_timer(const base::Now& now) {
  last_now_ = now.steady;
  while (!wakes_.empty() && wakes_.top().first <= now.steady) {
    auto [when, id] = wakes_.top();
    wakes_.pop();
    auto it = txns_.find(id);
    if (it == txns_.end() || it->second->wake != when) continue;
    Txn& t = *it->second;
    t.wake = kNever;
    service(t, now);  // may destroy t
  }
}

// Runs every due timer of `t`, then reschedules or destroys it.
void ProxyCore::service(Txn& t, const base::Now& now) {
  const auto T1 = config_.t1, T2 = config_.t2;
  const uint64_t id = t.id;
  if (t.g_at <= now.steady) {  // Timer G: the non-2xx final to INVITE again, over UDP
    if (t.last_response) {
      user_.send(t.upstream, *t.last_response);
      ++stats_.retransmissions_sent;
    }
    t.g_interval = std::min(t.g_interval * 2, T2);
    t.g_at = now.steady + t.g_interval;
  }
  if (t.end_at <= now.steady) {
    if (t.state == Txn::State::Completed && t.invite)
      LOG_DEBUG(kLog) << "no ACK for the final response to INVITE from " << t.upstream.to_string() << " (Timer H)";
    t.state = Txn::State::Done;
    t.g_at = t.end_at = kNever;
    auto it = server_index_.find(t.key);
    if (it != server_index_.end() && it->second == t.id) server_index_.erase(it);
  }
  for (size_t i = 0; i < t.branches.size(); ++i) {
    Branch& b = t.branches[i];
    if (b.retransmit_at <= now.steady) {  // Timer A / E
      user_.send(b.to, b.request);
      ++stats_.retransmissions_sent;
      b.interval = b.invite ? b.interval * 2 : std::min(b.interval * 2, T2);
      if (!b.invite && b.state == Branch::State::Proceeding) b.interval = T2;
      b.retransmit_at = now.steady + b.interval;
    }
    if (b.cancel_retransmit_at <= now.steady) {
      if (b.cancel) user_.send(b.to, *b.cancel);
      b.cancel_interval = std::min(b.cancel_interval * 2, T2);
      b.cancel_retransmit_at = now.steady + b.cancel_interval;
    }
    if (b.cancel_end_at <= now.steady) b.cancel_retransmit_at = b.cancel_end_at = kNever;
    if (b.end_at <= now.steady) {
      b.state = Branch::State::Terminated;
      b.end_at = b.retransmit_at = b.timeout_at = kNever;
    }
    if (b.timeout_at <= now.steady && b.pending()) {  // Timer B / F / C
      ++stats_.timeouts;
      LOG_DEBUG(kLog) << t.request.method() << " to " << b.to.to_string() << " timed out";
      b.retransmit_at = b.timeout_at = kNever;
      if (b.invite && b.state == Branch::State::Proceeding && !b.cancel_sent) send_cancel(t, b, now);
      branch_final(t, i, 408, now);
      if (!txns_.count(id)) return;
    }
  }
  if (!txns_.count(id)) return;
  schedule(t);
  maybe_finish(t);
}

void ProxyCore::send_cancel(Txn& t, Branch& b, const base::Now& now) {
  // RFC 3261 §9.1: same Request-URI, Call-ID, To, From, CSeq number and top Via (our branch) as the
  // request it cancels, and its Route set.
  Message c = Message::request("CANCEL", b.request.request_uri());
  c.append(HeaderId::Via, b.request.get(HeaderId::Via).value_or(""));
  c.append(HeaderId::MaxForwards, "70");
  c.append(HeaderId::From, b.request.get(HeaderId::From).value_or(""));
  c.append(HeaderId::To, b.request.get(HeaderId::To).value_or(""));
  c.append(HeaderId::CallId, b.request.get(HeaderId::CallId).value_or(""));
  auto cseq = b.request.cseq();
  c.append(HeaderId::CSeq, std::to_string(cseq ? cseq->number : 1) + " CANCEL");
  for (auto& r : route_values(b.request)) c.append(HeaderId::Route, r);
  user_.send(b.to, c);
  b.cancel = std::move(c);
  b.cancel_sent = true;
  b.cancel_wanted = false;
  b.cancel_end_at = now.steady + 64 * config_.t1;
  if (!b.to.reliable()) {
    b.cancel_interval = config_.t1;
    b.cancel_retransmit_at = now.steady + config_.t1;
  }
}

void ProxyCore::send_ack_for(Branch& b, const Message& response) {
  // RFC 3261 §17.1.1.3: the ACK for a non-2xx final is part of the INVITE transaction.
  Message a = Message::request("ACK", b.request.request_uri());
  a.append(HeaderId::Via, b.request.get(HeaderId::Via).value_or(""));
  a.append(HeaderId::MaxForwards, "70");
  a.append(HeaderId::From, b.request.get(HeaderId::From).value_or(""));
  a.append(HeaderId::To, response.get(HeaderId::To).value_or(""));
  a.append(HeaderId::CallId, b.request.get(HeaderId::CallId).value_or(""));
  auto cseq = b.request.cseq();
  a.append(HeaderId::CSeq, std::to_string(cseq ? cseq->number : 1) + " ACK");
  for (auto& r : route_values(b.request)) a.append(HeaderId::Route, r);
  user_.send(b.to, a);
  b.ack = std::move(a);
}

void ProxyCore::cancel_branches(Txn& t, const base::Now& now) {
  for (auto& b : t.branches) {
    if (!b.invite || !b.pending() || b.cancel_sent) continue;
    if (b.state == Branch::State::Proceeding) send_cancel(t, b, now);
    else b.cancel_wanted = true;
  }
}

// Sends a response upstream and moves the server side of `t` on (RFC 3261 §17.2.1, §17.2.2, RFC 6026).
void ProxyCore::deliver_upstream(Txn& t, Message response, bool relayed, const base::Now& now) {
  if (relayed) {
    user_.on_response(ForwardContext{t.request, t.upstream, t.cookie}, response);
    ++stats_.responses_relayed;
  } else {
    ++stats_.local_responses;
  }
  user_.send(t.upstream, response);
  int status = response.status();
  if (status < 200) {
    if (t.state == Txn::State::Proceeding) t.last_response = std::move(response);
    return;
  }
  if (t.state != Txn::State::Proceeding) return;  // a further 2xx to INVITE
  const auto T1 = config_.t1;
  if (t.invite && status < 300) {
    t.state = Txn::State::Accepted;
    t.last_response.reset();  // RFC 6026 §7.1: INVITE retransmissions are absorbed, not answered
    t.end_at = now.steady + 64 * T1;  // Timer L
  } else if (t.invite) {
    t.state = Txn::State::Completed;
    t.last_response = std::move(response);
    if (!t.upstream.reliable()) {
      t.g_interval = T1;
      t.g_at = now.steady + T1;
    }
    t.end_at = now.steady + 64 * T1;  // Timer H
  } else {
    t.state = Txn::State::Completed;
    t.last_response = std::move(response);
    t.end_at = t.upstream.reliable() ? now.steady : now.steady + 64 * T1;  // Timer J
  }
}

void ProxyCore::maybe_send_best(Txn& t, const base::Now& now) {
  if (t.state != Txn::State::Proceeding) return;
  for (auto& b : t.branches)
    if (b.pending()) return;
  if (!t.best) return;
  Message best = std::move(*t.best);
  t.best.reset();
  // §16.7 step 6: a 503 would make the upstream element believe *we* are overloaded.
  if (best.status() == 503) best.set_status(500);
  // RFC 5626 §5.3: 430 Flow Failed is for us (the registrar), not for the caller.
  if (best.status() == 430) best.set_status(480, "Temporarily Unavailable");
  deliver_upstream(t, std::move(best), true, now);
}

namespace {
// §16.7 step 6: a 6xx wins, then the lowest class; the first of a class is kept. A flow that
// failed (430, RFC 5626) says nothing about the callee: any other answer is better.
int rank(int status) { return status >= 600 ? 0 : status == 430 ? 9 : status / 100; }
}  // namespace

void ProxyCore::branch_final(Txn& t, size_t i, int status, const base::Now& now) {
  Branch& b = t.branches[i];
  b.final_status = status;
  user_.on_branch_final(ForwardContext{t.request, t.upstream, t.cookie}, i, status);
  b.retransmit_at = b.timeout_at = kNever;
  // Keep absorbing responses to the CANCEL we sent; otherwise the branch is over.
  if (b.cancel_sent) {
    b.state = Branch::State::Completed;
    b.end_at = now.steady + 64 * config_.t1;
  } else {
    b.state = Branch::State::Terminated;
  }
  Message r = make_response(t.request, status, {}, t.to_tag);
  if (!t.best || rank(status) < rank(t.best->status())) t.best = std::move(r);
  maybe_send_best(t, now);
  schedule(t);
  maybe_finish(t);
}

void ProxyCore::relay_response(Txn& t, size_t i, Message& response, const base::Now& now) {
  Branch& b = t.branches[i];
  const int status = response.status();
  const auto T1 = config_.t1;
  if (status < 200) {
    if (!b.pending()) return;
    if (b.state == Branch::State::Calling) {
      b.state = Branch::State::Proceeding;
      if (b.invite) b.retransmit_at = kNever;  // Timer A stops (§17.1.1.2)
      else if (!b.to.reliable()) {
        b.interval = config_.t2;  // Timer E continues at T2 (§17.1.2.2)
        b.retransmit_at = now.steady + b.interval;
      }
    }
    if (b.invite) b.timeout_at = now.steady + config_.timer_c;  // Timer C, reset by each provisional (§16.7 step 2)
    if (b.cancel_wanted && !b.cancel_sent) send_cancel(t, b, now);
    if (status == 100 || t.state != Txn::State::Proceeding) return;  // §16.7 step 3: 100 is hop-by-hop
    deliver_upstream(t, std::move(response), true, now);
    return;
  }
  if (status < 300) {
    if (b.state == Branch::State::Accepted || (b.invite && b.state == Branch::State::Terminated)) {
      // A retransmitted or further 2xx to INVITE: end-to-end, relayed while we remember the
      // transaction (RFC 6026 §8.5).
      if (b.invite && (t.state == Txn::State::Accepted || t.state == Txn::State::Proceeding)) {
        user_.on_response(ForwardContext{t.request, t.upstream, t.cookie}, response);
        user_.send(t.upstream, response);
        ++stats_.responses_relayed;
      }
      return;
    }
    if (!b.pending()) return;
    b.final_status = status;
    user_.on_branch_final(ForwardContext{t.request, t.upstream, t.cookie}, i, status);
    b.retransmit_at = b.timeout_at = kNever;
    if (b.invite) {
      b.state = Branch::State::Accepted;
      b.end_at = now.steady + 64 * T1;  // Timer M
      if (t.state == Txn::State::Proceeding || t.state == Txn::State::Accepted) {
        user_.on_response(ForwardContext{t.request, t.upstream, t.cookie}, response);
        ++stats_.responses_relayed;
        user_.send(t.upstream, response);
        if (t.state == Txn::State::Proceeding) {
          t.state = Txn::State::Accepted;
          t.last_response.reset();
          t.end_at = now.steady + 64 * T1;  // Timer L
        }
      }
      cancel_branches(t, now);  // §16.7 step 10
    } else {
      b.state = Branch::State::Completed;
      b.end_at = b.to.reliable() ? now.steady : now.steady + config_.t4;  // Timer K
      if (t.state == Txn::State::Proceeding) deliver_upstream(t, std::move(response), true, now);
    }
    return;
  }
  // 3xx-6xx
  if (!b.pending()) {
    if (b.invite && b.ack && b.state == Branch::State::Completed) user_.send(b.to, *b.ack);  // retransmitted final
    return;
  }
  b.final_status = status;
  user_.on_branch_final(ForwardContext{t.request, t.upstream, t.cookie}, i, status);
  b.retransmit_at = b.timeout_at = kNever;
  b.state = Branch::State::Completed;
  if (b.invite) {
    send_ack_for(b, response);
    b.end_at = b.to.reliable() ? now.steady : now.steady + std::chrono::seconds(32);  // Timer D
  } else {
    b.end_at = b.to.reliable() ? now.steady : now.steady + config_.t4;  // Timer K
  }
  if (t.state == Txn::State::Proceeding && (!t.best || rank(status) < rank(t.best->status())))
    t.best = response;
  if (status >= 600 && b.invite) cancel_branches(t, now);  // §16.7 step 5
  maybe_send_best(t, now);
}

bool ProxyCore::send_stateless_response(const Hop& from, const Message& request, int status, std::string_view reason) {
  if (request.method_id() == Method::Ack) return false;
  Message r = make_response(request, status, reason, new_tag());
  user_.send(from, r);
  ++stats_.local_responses;
  return true;
}

ProxyCore::Inbound ProxyCore::on_message(const Hop& from, Message& msg, const base::Now& now) {
  last_now_ = now.steady;
  if (msg.is_response()) {
    if (!check_response(msg)) {
      ++stats_.malformed;
      return Inbound::Consumed;
    }
    auto via = msg.top_via();
    auto cseq = msg.cseq();
    auto it = via ? client_index_.find(std::string(via->branch)) : client_index_.end();
    if (it == client_index_.end()) {
      ++stats_.stray_responses;
      // §16.7 / RFC 6026: a 2xx to INVITE nobody remembers is still forwarded, statelessly.
      if (cseq && cseq->method_id == Method::Invite && msg.status() >= 200 && msg.status() < 300 && via &&
          msg.pop_first_element(HeaderId::Via)) {
        auto next = msg.top_via();
        std::optional<Hop> hop;
        if (next) hop = hop_for_via(*next);
        if (hop) user_.send(*hop, msg);
      }
      return Inbound::Consumed;
    }
    auto [id, index] = it->second;
    Txn& t = *txns_.at(id);
    Branch& b = t.branches[index];
    if (cseq->method_id == Method::Cancel) {  // the answer to our CANCEL: stop retransmitting it
      b.cancel_retransmit_at = b.cancel_end_at = kNever;
      schedule(t);
      maybe_finish(t);
      return Inbound::Consumed;
    }
    if (cseq->method != b.request.method()) return Inbound::Consumed;
    msg.pop_first_element(HeaderId::Via);
    if (!msg.get(HeaderId::Via)) return Inbound::Consumed;  // was for us alone
    relay_response(t, index, msg, now);
    if (txns_.count(id)) {
      schedule(t);
      maybe_finish(t);
    }
    return Inbound::Consumed;
  }

  CheckOptions opts;
  opts.require_max_forwards = false;  // RFC 2543 elements omit it (RFC 4475 §3.4.1); we add 70
  if (auto c = check_request(msg, opts); !c) {
    ++stats_.malformed;
    if (msg.top_via() && msg.get(HeaderId::CallId) && msg.get(HeaderId::CSeq) && msg.method_id() != Method::Ack) {
      Message r = make_response(msg, 400);
      r.append(HeaderId::Warning, format_warning(399, sent_by(from.transport), c.error().reason));
      user_.send(from, r);
      ++stats_.local_responses;
    }
    return Inbound::Consumed;
  }
  stamp_via(msg, from.remote);
  if (msg.method_id() == Method::Cancel) {
    handle_cancel(from, msg, now);
    return Inbound::Consumed;
  }
  std::string key = server_key(msg);
  Txn* t = find_server(key);
  if (msg.method_id() == Method::Ack) {
    if (!t || !t->invite) return Inbound::Request;  // ACK for a 2xx: end to end (§16.11)
    if (t->state == Txn::State::Completed) {        // ACK for our non-2xx: hop by hop (§17.2.1)
      t->state = Txn::State::Confirmed;
      t->g_at = kNever;
      t->end_at = t->upstream.reliable() ? now.steady : now.steady + config_.t4;  // Timer I
      schedule(*t);
      return Inbound::Consumed;
    }
    if (t->state == Txn::State::Confirmed) return Inbound::Consumed;
    return Inbound::Request;
  }
  if (t) {  // a retransmission (§17.2.1, §17.2.2)
    ++stats_.retransmissions_absorbed;
    if (t->last_response) user_.send(from, *t->last_response);
    return Inbound::Consumed;
  }
  return Inbound::Request;
}

void ProxyCore::handle_cancel(const Hop& from, Message& cancel, const base::Now& now) {
  std::string key = server_key(cancel);
  if (Txn* c = find_server(key)) {  // retransmitted CANCEL
    ++stats_.retransmissions_absorbed;
    if (c->last_response) user_.send(from, *c->last_response);
    return;
  }
  std::string invite_key = "INVITE" + key.substr(key.find('\n'));
  Txn* t = find_server(invite_key);
  if (!t || !t->invite) {
    // §16.10 lets a proxy forward an unmatched CANCEL statelessly; we never forward requests we
    // hold no state for, and the UAC learns at once that there is nothing to cancel.
    respond(from, cancel, 481);
    return;
  }
  respond(from, cancel, 200);
  if (t->state != Txn::State::Proceeding || t->cancelled) return;
  t->cancelled = true;
  if (t->forwarded) {
    cancel_branches(*t, now);
    schedule(*t);
  } else {
    respond(t->upstream, t->request, 487);  // a local INVITE not yet answered (§9.2)
  }
}

Message ProxyCore::make_local_response(const Message& request, int status, std::string_view reason) {
  if (Txn* t = find_server(server_key(request))) return make_response(request, status, reason, t->to_tag);
  return make_response(request, status, reason, new_tag());
}

void ProxyCore::respond(const Hop& from, const Message& request, int status, std::string_view reason,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
  Message r = make_local_response(request, status, reason);
  for (auto& [n, v] : headers) r.append(n, v);
  respond(from, request, std::move(r));
}

void ProxyCore::respond(const Hop& from, const Message& request, Message response) {
  if (request.method_id() == Method::Ack) return;  // never answered (§17.1.1.3)
  std::string key = server_key(request);
  Txn* t = find_server(key);
  if (!t && txns_.size() < config_.max_transactions) {
    t = create_txn(key, from, request, base::Now{last_now_, 0});
  }
  if (!t || t->forwarded || t->state != Txn::State::Proceeding) {
    // No room, or the request is already being forwarded or answered: send without state.
    user_.send(from, response);
    ++stats_.local_responses;
    return;
  }
  base::Now now{last_now_, 0};  // the time of the on_message() that brought the request
  bool provisional = response.status() < 200;
  deliver_upstream(*t, std::move(response), false, now);
  if (provisional) t->end_at = now.steady + config_.timer_c;  // cap on a local 1xx without a final
  schedule(*t);
  if (t->state == Txn::State::Done) maybe_finish(*t);
}

bool ProxyCore::forward(const Hop& from, Message request, const Hop& to, const base::Now& now, uint64_t cookie) {
  std::vector<Target> targets;
  targets.push_back({to, std::move(request)});
  return forward(from, std::move(targets), now, cookie);
}

bool ProxyCore::forward(const Hop& from, std::vector<Target> targets, const base::Now& now, uint64_t cookie) {
  last_now_ = now.steady;
  if (targets.empty()) return false;
  const Message& first = targets.front().request;
  if (auto mf = first.max_forwards(); mf && *mf == 0) {  // §16.3 step 3
    respond(from, first, 483);
    return false;
  }
  const bool ack = first.method_id() == Method::Ack;
  auto prepare = [&](Target& tg, const std::string& branch) {
    Message& m = tg.request;
    auto mf = m.max_forwards();
    m.set(HeaderId::MaxForwards, std::to_string(mf ? (*mf > 0 ? *mf - 1 : 0) : 70));  // §16.6 step 3
    m.prepend(HeaderId::Via, "SIP/2.0/" + tg.hop.transport + " " + sent_by(tg.hop.transport) + ";branch=" + branch);
  };
  if (ack) {  // §16.11: no transaction, forwarded as is
    for (auto& tg : targets) {
      prepare(tg, new_branch());
      user_.send(tg.hop, tg.request);
      ++stats_.forwarded;
    }
    return true;
  }
  std::string key = server_key(first);
  if (find_server(key)) return false;  // already answered or forwarded
  if (txns_.size() >= config_.max_transactions) {
    ++stats_.overload;
    send_stateless_response(from, first, 503, {});
    return false;
  }
  Txn* t = create_txn(key, from, first, now);
  t->forwarded = true;
  t->cookie = cookie;
  if (t->invite && config_.trying_for_invite) {  // §16.2: 100 Trying, hop by hop
    Message trying = make_response(t->request, 100);
    user_.send(from, trying);
    t->last_response = std::move(trying);
  }
  t->branches.reserve(targets.size());
  for (auto& tg : targets) {
    Branch b;
    b.branch = new_branch();
    b.invite = t->invite;
    prepare(tg, b.branch);
    b.to = tg.hop;
    b.request = std::move(tg.request);
    b.timeout_at = now.steady + 64 * config_.t1;  // Timer B / F
    if (!b.to.reliable()) {
      b.interval = config_.t1;
      b.retransmit_at = now.steady + config_.t1;  // Timer A / E
    }
    client_index_[b.branch] = {t->id, t->branches.size()};
    t->branches.push_back(std::move(b));
  }
  std::vector<size_t> unsent;
  for (size_t i = 0; i < t->branches.size(); ++i) {
    ++stats_.forwarded;
    if (!user_.send(t->branches[i].to, t->branches[i].request)) unsent.push_back(i);
  }
  schedule(*t);
  // §16.9: a target the transport cannot reach answers 503 now (relayed upstream as 500, §16.7).
  const uint64_t id = t->id;
  for (size_t i : unsent) {
    auto it = txns_.find(id);
    if (it == txns_.end()) break;
    if (it->second->branches[i].pending()) branch_final(*it->second, i, 503, now);
  }
  return true;
}

void ProxyCore::on_undelivered(const Message& msg, const base::Now& now) {
  last_now_ = now.steady;
  if (!msg.is_request() || msg.method_id() == Method::Ack || msg.method_id() == Method::Cancel) return;
  auto via = msg.top_via();
  if (!via) return;
  auto c = client_index_.find(std::string(via->branch));
  if (c == client_index_.end()) return;
  auto it = txns_.find(c->second.first);
  if (it == txns_.end() || c->second.second >= it->second->branches.size()) return;
  if (it->second->branches[c->second.second].pending()) branch_final(*it->second, c->second.second, 503, now);
}

void ProxyCore::on_flow_closed(uint64_t flow, const base::Now& now) {
  if (flow == 0) return;
  last_now_ = now.steady;
  std::vector<std::pair<uint64_t, size_t>> hit;
  for (auto& [id, t] : txns_)
    for (size_t i = 0; i < t->branches.size(); ++i)
      if (t->branches[i].to.flow == flow && t->branches[i].pending()) hit.push_back({id, i});
  for (auto [id, i] : hit) {
    auto it = txns_.find(id);
    if (it == txns_.end()) continue;
    Txn& t = *it->second;
    if (!t.branches[i].pending()) continue;
    branch_final(t, i, 503, now);  // §8.1.3.1: a transport failure counts as 503
  }
}

}  // namespace sip
