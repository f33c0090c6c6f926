#include "wwsf/logic/w4.hpp"

#include <nlohmann/json.hpp>

namespace wwsf {

std::string form_encode(std::string_view v) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : v) {
    uint8_t b = uint8_t(c);
    if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '*') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 15];
    }
  }
  return out;
}

std::string w4_token_request_body(std::string_view impi, bool pool, std::string_view client_id) {
  std::string body = "grant_type=client_credentials&scope=" + form_encode(kImsScope) + "&sub=" + form_encode(impi) +
                     "&pool=" + (pool ? "true" : "false");
  if (!client_id.empty()) body += "&client_id=" + form_encode(client_id);
  return body;
}

base::Result<W4Token, W4Error> parse_w4_token_response(int status, std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  auto str = [&](const char* k) -> std::string {
    if (j.is_object() && j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
    return {};
  };
  if (status != 200) {
    W4Error e{status, str("error"), str("error_description")};
    if (e.error.empty()) e.description = "the WAF answered " + std::to_string(status) + " without an OAuth error";
    return base::fail(std::move(e));
  }
  if (!j.is_object()) return base::fail(W4Error{0, "", "the WAF's token response is not a JSON object"});
  W4Token t;
  t.access_token = str("access_token");
  t.token_type = str("token_type");
  if (t.access_token.empty()) return base::fail(W4Error{0, "", "the WAF's token response has no access_token"});
  if (!j.contains("expires_in") || !j["expires_in"].is_number_integer() || j["expires_in"].get<int64_t>() <= 0)
    return base::fail(W4Error{0, "", "the WAF's token response has no positive integer expires_in"});
  t.expires_in = j["expires_in"].get<int64_t>();
  if (j.contains("impu")) {
    if (!j["impu"].is_array()) return base::fail(W4Error{0, "", "the WAF's token response has an impu that is not an array"});
    for (auto& v : j["impu"]) {
      if (!v.is_string()) return base::fail(W4Error{0, "", "the WAF's token response has a non-string impu"});
      t.impu.push_back(v.get<std::string>());
    }
  }
  return t;
}

}  // namespace wwsf
