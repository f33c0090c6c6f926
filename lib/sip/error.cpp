#include "sip/error.hpp"

namespace sip {

std::string_view describe(Error e) {
  switch (e) {
    case Error::BadStartLine: return "Bad start line";
    case Error::BadVersion: return "Version Not Supported";
    case Error::BadMethod: return "Bad method";
    case Error::BadStatusCode: return "Bad status code";
    case Error::BadHeader: return "Bad header";
    case Error::BadCharacter: return "Bad character";
    case Error::BadUri: return "Bad URI";
    case Error::BadNameAddr: return "Bad name-addr";
    case Error::BadVia: return "Bad Via";
    case Error::BadCSeq: return "Bad CSeq";
    case Error::BadParam: return "Bad parameter";
    case Error::BadQuotedString: return "Bad quoted string";
    case Error::BadValue: return "Bad header value";
    case Error::BadAuth: return "Bad authorization header";
    case Error::MissingHeader: return "Missing header";
    case Error::DuplicateHeader: return "Duplicate header";
    case Error::MethodMismatch: return "CSeq method mismatch";
    case Error::BadContentLength: return "Bad Content-Length";
    case Error::Truncated: return "Truncated message";
    case Error::TooLarge: return "Message too large";
    case Error::TooManyHeaders: return "Too many headers";
    case Error::HeaderTooLong: return "Header too long";
  }
  return "Bad request";
}

Failure make_failure(Error e, std::string_view detail) {
  // The detail may quote the peer's bytes; the reason goes back in a Warning over WebSocket
  // text frames (protocols.md W2), so it stays short printable ASCII: a cut UTF-8 sequence
  // would make the frame invalid (RFC 6455 §8.1).
  constexpr size_t kMaxDetail = 80;
  Failure f;
  f.code = e;
  f.reason.assign(describe(e));
  if (!detail.empty()) {
    f.reason += ": ";
    for (size_t i = 0; i < detail.size() && i < kMaxDetail; ++i) {
      auto c = static_cast<unsigned char>(detail[i]);
      f.reason.push_back(c >= 0x20 && c < 0x7F ? char(c) : '?');
    }
  }
  return f;
}

}  // namespace sip
