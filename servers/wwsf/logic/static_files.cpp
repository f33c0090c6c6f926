#include "wwsf/logic/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace wwsf {

namespace fs = std::filesystem;

namespace {

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view extension(std::string_view p) {
  auto slash = p.rfind('/');
  auto dot = p.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return {};
  return p.substr(dot + 1);
}

}  // namespace

std::optional<std::string> safe_relative_path(std::string_view url_path) {
  if (url_path.empty() || url_path.front() != '/') return std::nullopt;
  // Segments are split before decoding, so "%2F" cannot make a new one; it is refused outright
  // anyway, as are "%5C" and "%00", which some file systems or libraries read as separators/ends.
  std::string out;
  size_t i = 1;
  while (true) {
    size_t end = url_path.find('/', i);
    std::string_view raw = url_path.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
    std::string seg;
    for (size_t k = 0; k < raw.size(); ++k) {
      char c = raw[k];
      if (c == '%') {
        if (k + 2 >= raw.size()) return std::nullopt;
        int h = hexval(raw[k + 1]), l = hexval(raw[k + 2]);
        if (h < 0 || l < 0) return std::nullopt;
        c = char(h * 16 + l);
        k += 2;
      }
      if (c == '\0' || c == '/' || c == '\\' || uint8_t(c) < 0x20 || c == 0x7f) return std::nullopt;
      seg += c;
    }
    bool last = end == std::string_view::npos;
    if (seg.empty()) {
      if (!last) return std::nullopt;  // "//" inside the path
      out += "index.html";             // "/" or a directory: its index
      break;
    }
    if (seg.front() == '.') return std::nullopt;  // ".", "..", dot-files (.git, .env)
    out += seg;
    if (last) break;
    out += '/';
    i = end + 1;
  }
  return out;
}

std::string content_type_for(std::string_view rel_path) {
  auto ext = extension(rel_path);
  struct Kind {
    std::string_view ext, type;
  };
  static constexpr Kind kinds[] = {
      {"html", "text/html; charset=utf-8"},   {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"}, {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},     {"json", "application/json"},
      {"map", "application/json"},            {"webmanifest", "application/manifest+json"},
      {"svg", "image/svg+xml"},               {"png", "image/png"},
      {"jpg", "image/jpeg"},                  {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},                   {"webp", "image/webp"},
      {"ico", "image/x-icon"},                {"txt", "text/plain; charset=utf-8"},
      {"wasm", "application/wasm"},           {"woff2", "font/woff2"},
      {"woff", "font/woff"},                  {"mp3", "audio/mpeg"},
      {"wav", "audio/wav"},                   {"ogg", "audio/ogg"},
  };
  for (auto& k : kinds)
    if (ext == k.ext) return std::string(k.type);
  return "application/octet-stream";
}

std::string cache_control_for(std::string_view rel_path) {
  auto ext = extension(rel_path);
  if (ext == "html" || ext == "htm") return "no-cache";
  return "public, max-age=3600";
}

StaticFiles::StaticFiles(std::string root, size_t max_file_bytes) : root_(std::move(root)), max_(max_file_bytes) {}

std::optional<StaticFile> StaticFiles::get(std::string_view url_path) const {
  auto rel = safe_relative_path(url_path);
  if (!rel) return std::nullopt;
  std::error_code ec;
  fs::path root = fs::canonical(root_, ec);
  if (ec) return std::nullopt;
  fs::path p = fs::canonical(root / *rel, ec);
  if (ec) return std::nullopt;
  // A symbolic link inside the root must not lead out of it.
  auto r = root.native(), f = p.native();
  if (f.size() <= r.size() || f.compare(0, r.size(), r) != 0 || f[r.size()] != '/') return std::nullopt;
  if (!fs::is_regular_file(p, ec)) {
    // "/app" naming a directory: serve its index.
    if (fs::is_directory(p, ec)) return get(std::string(url_path) + "/");
    return std::nullopt;
  }
  auto size = fs::file_size(p, ec);
  if (ec || size > max_) return std::nullopt;
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  StaticFile out;
  out.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  out.content_type = content_type_for(*rel);
  out.cache_control = cache_control_for(*rel);
  return out;
}

}  // namespace wwsf
