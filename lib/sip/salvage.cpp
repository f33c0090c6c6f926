#include "sip/salvage.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "sip/message.hpp"

namespace sip {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(uint8_t(x)) == std::tolower(uint8_t(y)); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return uint8_t(c) >= 0x20 && c != 0x7F; });
}

}  // namespace

std::optional<std::string> salvage_response(std::string_view raw, int status, std::string_view reason,
                                            std::string_view warning_agent, std::string_view warning_text) {
  // Only the head: the body may be anything.
  auto end = raw.find("\r\n\r\n");
  if (end != std::string_view::npos) raw = raw.substr(0, end);
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= raw.size() && lines.size() < 200) {
    auto nl = raw.find('\n', pos);
    lines.push_back(raw.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  if (lines.empty()) return std::nullopt;
  // Request line: METHOD SP Request-URI SP SIP/2.0
  std::string_view first = trim(lines[0]);
  if (first.size() < 12 || !iequals(first.substr(first.size() - 8), " SIP/2.0")) return std::nullopt;
  std::vector<std::string> vias;
  std::string from, to, call_id, cseq;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (l.empty() || l.front() == ' ' || l.front() == '\t') continue;  // folded continuation: skip
    auto colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = trim(l.substr(0, colon)), value = trim(l.substr(colon + 1));
    if (!printable(value) || value.empty()) continue;
    if (iequals(name, "Via") || iequals(name, "v")) vias.emplace_back(value);
    else if ((iequals(name, "From") || iequals(name, "f")) && from.empty()) from = value;
    else if ((iequals(name, "To") || iequals(name, "t")) && to.empty()) to = value;
    else if ((iequals(name, "Call-ID") || iequals(name, "i")) && call_id.empty()) call_id = value;
    else if (iequals(name, "CSeq") && cseq.empty()) cseq = value;
  }
  if (vias.empty() || from.empty() || to.empty() || call_id.empty() || cseq.empty()) return std::nullopt;
  if (iequals(first.substr(0, 4), "ACK ")) return std::nullopt;  // never answer an ACK
  std::string out = "SIP/2.0 " + std::to_string(status) + " " +
                    std::string(reason.empty() ? default_reason(status) : reason) + "\r\n";
  for (auto& v : vias) out += "Via: " + v + "\r\n";
  out += "From: " + from + "\r\n";
  out += "To: " + to + "\r\n";
  out += "Call-ID: " + call_id + "\r\n";
  out += "CSeq: " + cseq + "\r\n";
  if (!warning_text.empty()) out += "Warning: " + format_warning(399, warning_agent, warning_text) + "\r\n";
  out += "Content-Length: 0\r\n\r\n";
  // What we produced must itself be a valid response, or we say nothing.
  if (!parse_message(out).ok()) return std::nullopt;
  return out;
}

}  // namespace sip
