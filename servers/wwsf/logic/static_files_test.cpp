#include "wwsf/logic/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/test_temp_dir.hpp"

namespace wwsf {
namespace {

TEST(SafeRelativePath, MapsOrdinaryPaths) {
  EXPECT_EQ(safe_relative_path("/"), "index.html");
  EXPECT_EQ(safe_relative_path("/app.js"), "app.js");
  EXPECT_EQ(safe_relative_path("/assets/"), "assets/index.html");
  EXPECT_EQ(safe_relative_path("/assets/a%20b.css"), "assets/a b.css");
  EXPECT_EQ(safe_relative_path("/x/y.z/w"), "x/y.z/w");
}

TEST(SafeRelativePath, RefusesEverythingThatCouldLeaveTheRoot) {
  for (const char* bad : {"", "app.js", "/..", "/../etc/passwd", "/a/../../b", "/a/./b", "/.", "/%2e%2e/x", "/%2E%2E/x",
                          "/a/%2e%2e/%2e%2e/b", "/.git/config", "/.env", "/a%2fb", "/a%2F..%2Fb", "/a%5cb", "/a\\..\\b",
                          "/a%00.html", "/a//b", "//etc/passwd", "/a%", "/a%2", "/a%zz", "/a%0a"}) {
    EXPECT_FALSE(safe_relative_path(bad).has_value()) << bad;
  }
}

TEST(StaticFiles, ServesFilesWithTypesAndRefusesEscapes) {
  base::TestTempDir dir;
  auto root = dir.path() / "dist";
  std::filesystem::create_directories(root / "assets");
  std::ofstream(root / "index.html") << "<!doctype html>";
  std::ofstream(root / "assets" / "app.js") << "console.log(1)";
  std::ofstream(root / ".secret") << "x";
  std::ofstream(dir.path() / "outside.txt") << "outside";
  std::filesystem::create_symlink(dir.path() / "outside.txt", root / "link.txt");

  StaticFiles files(root.string());
  auto index = files.get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->body, "<!doctype html>");
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index->cache_control, "no-cache");
  auto js = files.get("/assets/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js->cache_control, "public, max-age=3600");
  EXPECT_FALSE(files.get("/assets/missing.js"));
  EXPECT_FALSE(files.get("/../outside.txt"));
  EXPECT_FALSE(files.get("/%2e%2e/outside.txt"));
  EXPECT_FALSE(files.get("/.secret"));
  EXPECT_FALSE(files.get("/link.txt"));  // a symbolic link out of the root
  auto dir_index = files.get("/assets");  // a directory without its index
  EXPECT_FALSE(dir_index);
  EXPECT_FALSE(StaticFiles((dir.path() / "none").string()).get("/"));
}

TEST(StaticFiles, ContentTypes) {
  EXPECT_EQ(content_type_for("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("a.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("a.wasm"), "application/wasm");
  EXPECT_EQ(content_type_for("dir.d/file"), "application/octet-stream");
  EXPECT_EQ(content_type_for("noext"), "application/octet-stream");
}

}  // namespace
}  // namespace wwsf
