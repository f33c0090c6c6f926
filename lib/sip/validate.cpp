#include "sip/validate.hpp"

#include <optional>

#include "sip/auth.hpp"
#include "sip/charset.hpp"

namespace sip {

using base::fail;
using namespace detail;

namespace {

Check bad(Error e, HeaderId id, std::string_view more = {}) {
  std::string detail(header_name(id));
  if (!more.empty()) {
    detail += ' ';
    detail += more;
  }
  return fail(make_failure(e, detail));
}

Check no_repeats(const Message& m) {
  static constexpr HeaderId kSingle[] = {HeaderId::From,        HeaderId::To,          HeaderId::CallId,
                                         HeaderId::CSeq,        HeaderId::MaxForwards, HeaderId::ContentType,
                                         HeaderId::Expires,     HeaderId::ContentLength};
  for (HeaderId id : kSingle)
    if (m.count(id) > 1) return bad(Error::DuplicateHeader, id);
  return {};
}

// What Message::vias() reports, without building the vectors: BadVia when a field does not
// split into elements (any field, before any element is parsed), else the first element's error.
std::optional<Error> via_error(const Message& m) {
  for (size_t i = 0; i < m.header_count(); ++i) {
    Message::Header h = m.header(i);
    if (h.id == HeaderId::Via && !for_each_element(h.value, [](std::string_view) {})) return Error::BadVia;
  }
  std::optional<Error> err;
  for (size_t i = 0; i < m.header_count() && !err; ++i) {
    Message::Header h = m.header(i);
    if (h.id != HeaderId::Via) continue;
    for_each_element(h.value, [&err](std::string_view e) {
      if (err) return;
      if (auto v = parse_via(e); !v) err = v.error();
    });
  }
  return err;
}

Check common(const Message& m) {
  if (m.common_checked()) return {};
  if (auto r = no_repeats(m); !r) return r;
  if (m.count(HeaderId::Via) == 0) return bad(Error::MissingHeader, HeaderId::Via);
  if (auto e = via_error(m)) return bad(*e, HeaderId::Via);
  for (HeaderId id : {HeaderId::From, HeaderId::To}) {
    auto v = m.get(id);
    auto na = v ? parse_name_addr(*v) : Parsed<NameAddr>(fail(Error::MissingHeader));
    if (!na) return bad(na.error(), id);
  }
  if (auto c = m.call_id(); !c) return bad(c.error(), HeaderId::CallId);
  if (auto c = m.cseq(); !c) return bad(c.error(), HeaderId::CSeq);
  m.set_common_checked();
  return {};
}

// Retry-After = delta-seconds [ comment ] *( SEMI retry-param ) (RFC 3261 §20.33)
bool valid_retry_after(std::string_view v) {
  size_t i = 0;
  while (i < v.size() && is_digit(v[i])) ++i;
  if (!parse_delta_seconds(v.substr(0, i))) return false;
  std::string_view rest = trim(v.substr(i));
  if (!rest.empty() && rest.front() == '(') {
    size_t close = rest.rfind(')');
    if (close == std::string_view::npos) return false;
    size_t semi = rest.find(';', close);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi);
  }
  return ParamList::parse(rest, ParamList::Kind::Header).ok();
}

// warning-value = warn-code SP warn-agent SP warn-text; warn-code = 3DIGIT (RFC 3261 §20.43)
bool valid_warning(std::string_view e) {
  if (e.size() < 5 || !is_digit(e[0]) || !is_digit(e[1]) || !is_digit(e[2]) || e[3] != ' ') return false;
  size_t sp = e.find(' ', 4);
  if (sp == std::string_view::npos || sp == 4) return false;
  size_t i = sp + 1;
  std::string_view inner;
  return i < e.size() && e[i] == '"' && scan_quoted(e, i, inner) && i == e.size();
}

bool is_name_addr_header(HeaderId id) {
  switch (id) {
    case HeaderId::Contact: case HeaderId::Route: case HeaderId::RecordRoute: case HeaderId::Path:
    case HeaderId::ServiceRoute: case HeaderId::PAssertedIdentity: case HeaderId::PPreferredIdentity:
    case HeaderId::PAssociatedUri: case HeaderId::ReplyTo: case HeaderId::ReferTo: case HeaderId::ReferredBy:
      return true;
    default:
      return false;
  }
}

}  // namespace

Check check_request(const Message& m, const CheckOptions& options) {
  if (!m.is_request()) return fail(make_failure(Error::BadStartLine, "not a request"));
  if (auto r = common(m); !r) return r;
  auto cseq = m.cseq();
  if (cseq->method != m.method()) {
    std::string d = "CSeq method ";
    d += cseq->method.substr(0, 32);
    d += " differs from request method ";
    d += m.method().substr(0, 32);
    return fail(make_failure(Error::MethodMismatch, d));
  }
  if (m.count(HeaderId::MaxForwards) == 0) {
    if (options.require_max_forwards) return bad(Error::MissingHeader, HeaderId::MaxForwards);
  } else if (!m.max_forwards()) {
    return bad(Error::BadValue, HeaderId::MaxForwards, "(0-255)");
  }
  return {};
}

Check check_response(const Message& m) {
  if (!m.is_response()) return fail(make_failure(Error::BadStartLine, "not a response"));
  return common(m);
}

Check validate(const Message& m, const CheckOptions& options) {
  if (auto r = m.is_request() ? check_request(m, options) : check_response(m); !r) return r;
  std::vector<std::string_view> elems;
  for (size_t i = 0; i < m.header_count(); ++i) {
    Message::Header h = m.header(i);
    if (is_name_addr_header(h.id)) {
      elems.clear();
      bool list = is_list_header(h.id);
      if (list && !split_list(h.value, elems)) return bad(Error::BadNameAddr, h.id);
      if (!list) elems.push_back(h.value);
      for (auto e : elems) {
        auto na = parse_name_addr(e, h.id == HeaderId::Contact);
        if (!na) return bad(na.error(), h.id);
        if (h.id == HeaderId::Contact) {
          if (na->star && (elems.size() > 1 || m.count(HeaderId::Contact) > 1))
            return bad(Error::BadNameAddr, h.id, "* with other values");
          if (auto e2 = na->expires(); e2 && !*e2) return bad(Error::BadValue, h.id, "expires");
          if (auto q = na->q(); q && !*q) return bad(Error::BadValue, h.id, "q");
        }
      }
      continue;
    }
    switch (h.id) {
      case HeaderId::Expires:
      case HeaderId::MinExpires:
        if (!parse_delta_seconds(h.value)) return bad(Error::BadValue, h.id);
        break;
      case HeaderId::ContentType:
        if (auto t = parse_media_type(h.value); !t) return bad(t.error(), h.id);
        break;
      case HeaderId::Date:
        // RFC 4475 §3.1.2.12: only GMT is allowed.
        if (!valid_sip_date(h.value)) return bad(Error::BadValue, h.id);
        break;
      case HeaderId::RetryAfter:
        if (!valid_retry_after(h.value)) return bad(Error::BadValue, h.id);
        break;
      case HeaderId::Warning: {
        elems.clear();
        if (!split_list(h.value, elems)) return bad(Error::BadValue, h.id);
        for (auto e : elems)
          if (!valid_warning(e)) return bad(Error::BadValue, h.id);
        break;
      }
      case HeaderId::Authorization:
      case HeaderId::ProxyAuthorization:
      case HeaderId::WWWAuthenticate:
      case HeaderId::ProxyAuthenticate:
        if (auto a = parse_auth(h.value); !a) return bad(a.error(), h.id);
        break;
      case HeaderId::Require:
      case HeaderId::ProxyRequire:
      case HeaderId::Supported:
      case HeaderId::Unsupported:
      case HeaderId::Allow: {
        // Supported may be empty (RFC 3261 §20.37: Supported = ... [option-tag *(COMMA option-tag)]).
        if (h.value.empty() && h.id == HeaderId::Supported) break;
        elems.clear();
        if (!split_list(h.value, elems)) return bad(Error::BadValue, h.id);
        for (auto e : elems)
          if (!is_token(e)) return bad(Error::BadValue, h.id);
        break;
      }
      default:
        break;
    }
  }
  return {};
}

}  // namespace sip
