#include "wic/sdp.hpp"

#include <cstdio>

#include "wic/user_agent.hpp"

namespace wic {

std::string make_sdp(base::Random& random, bool offer) {
  uint8_t id[7];
  random.fill(id);
  uint64_t sess = 0;
  for (uint8_t b : id) sess = sess << 8 | b;  // 56 bits: fits the decimal session id of browsers
  uint8_t fp[32];
  random.fill(fp);
  std::string fingerprint;
  char hex[4];
  for (size_t i = 0; i < sizeof fp; ++i) {
    std::snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", fp[i]);
    fingerprint += hex;
  }
  std::string s;
  s += "v=0\r\n";
  s += "o=- " + std::to_string(sess) + " 1 IN IP4 127.0.0.1\r\n";
  s += "s=-\r\n";
  s += "t=0 0\r\n";
  s += "a=group:BUNDLE 0\r\n";
  s += "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\n";
  s += "c=IN IP4 0.0.0.0\r\n";
  s += "a=rtcp:9 IN IP4 0.0.0.0\r\n";
  s += "a=ice-ufrag:" + random_token(random, 8) + "\r\n";  // RFC 8839 §5.4: 4..256 ice-chars
  s += "a=ice-pwd:" + random_token(random, 24) + "\r\n";   // 22..256 ice-chars
  s += "a=fingerprint:sha-256 " + fingerprint + "\r\n";
  s += offer ? "a=setup:actpass\r\n" : "a=setup:active\r\n";
  s += "a=mid:0\r\n";
  s += "a=sendrecv\r\n";
  s += "a=rtcp-mux\r\n";
  s += "a=rtpmap:111 opus/48000/2\r\n";
  s += "a=rtpmap:0 PCMU/8000\r\n";
  s += "a=rtpmap:8 PCMA/8000\r\n";
  if (offer) s += "a=3ge2ae:requested\r\n";
  return s;
}

}  // namespace wic
