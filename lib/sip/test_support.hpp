// Helpers shared by the lib/sip tests: messages written with "\n" become CRLF on the wire.
#pragma once

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace sip::test {

inline std::string crlf(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 16);
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// What JsSIP 3.x sends over WSS for a REGISTER with `authorization_jwt` set (RFC 7118 §5, RFC 8898).
inline const std::string kJsSipRegister = crlf(
    "REGISTER sip:ims.example.org SIP/2.0\n"
    "Via: SIP/2.0/WSS 5ql8ks0ej1ms.invalid;branch=z9hG4bK5816478\n"
    "Max-Forwards: 69\n"
    "To: <sip:alice@ims.example.org>\n"
    "From: \"Alice\" <sip:alice@ims.example.org>;tag=ekt5mqpc2u\n"
    "Call-ID: 5ou6h4dbi2e1fpf2tbo8sa\n"
    "CSeq: 1 REGISTER\n"
    "Authorization: Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl\n"
    "Contact: <sip:k3n8q1tf@5ql8ks0ej1ms.invalid;transport=ws>;+sip.ice;reg-id=1;"
    "+sip.instance=\"<urn:uuid:3a3c5d2e-6f1b-4c9e-8d7a-2b1f0e9c8a7d>\";expires=600\n"
    "Expires: 600\n"
    "Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY\n"
    "Supported: path,gruu,outbound\n"
    "User-Agent: JsSIP 3.10.0\n"
    "Content-Length: 0\n"
    "\n");

}  // namespace sip::test
