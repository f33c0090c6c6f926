// The WIC app's static files (W1, TR 33.871 4.2.2): request path -> file under the web root, refusing
// anything that could leave it (`..`, encoded slashes or dots, NUL, backslashes, dot-files, symbolic
// links pointing outside), with the content type and caching the file kind calls for.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wwsf {

// The path of a request target's path part, percent-decoded (RFC 3986 §2.1) and split-checked:
// nullopt when it is not absolute, has a bad escape, an encoded '/' or '\' or NUL, a backslash, or a
// segment that is empty-after-the-first, ".", ".." or starts with '.'. "/" and ".../" map to index.html.
// The result is relative ("index.html", "assets/app.js").
std::optional<std::string> safe_relative_path(std::string_view url_path);

// "text/html; charset=utf-8" etc. by extension; "application/octet-stream" when unknown.
std::string content_type_for(std::string_view rel_path);

// HTML must be revalidated (it names the current scripts); other files may be cached for an hour.
std::string cache_control_for(std::string_view rel_path);

struct StaticFile {
  std::string body;
  std::string content_type;
  std::string cache_control;
};

class StaticFiles {
 public:
  // `root` need not exist yet (the app may be built after the server starts): missing files are 404.
  explicit StaticFiles(std::string root, size_t max_file_bytes = 16 << 20);

  // nullopt: not found (or refused: callers answer both with 404 so probing learns nothing).
  std::optional<StaticFile> get(std::string_view url_path) const;

 private:
  std::string root_;
  size_t max_;
};

}  // namespace wwsf
