#include "store/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "base/encoding.hpp"
#include "store/sqlite_store.hpp"

namespace store {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "webims-store-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string url(const std::string& name) const { return "sqlite://" + (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string hex(const auto& a) { return base::hex_encode({a.data(), a.size()}); }

// A raw connection for looking behind the interface.
struct Raw {
  explicit Raw(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK); }
  ~Raw() { sqlite3_close(db); }
  std::string one(const char* sql) {
    std::string out;
    char* err = nullptr;
    sqlite3_exec(
        db, sql,
        [](void* o, int n, char** v, char**) {
          if (n > 0 && v[0]) *static_cast<std::string*>(o) = v[0];
          return 0;
        },
        &out, &err);
    if (err) {
      out = std::string("error: ") + err;
      sqlite3_free(err);
    }
    return out;
  }
  sqlite3* db = nullptr;
};

TEST(TurnUser, KeysFollowRfc8489) {
  auto u = make_turn_user("alice", "example.org", "secret", 1700000000);
  EXPECT_EQ(u.username, "alice");
  EXPECT_EQ(u.realm, "example.org");
  EXPECT_EQ(u.created_unix, 1700000000);
  EXPECT_EQ(hex(u.key_md5), "543e1aec5d3614f03141652d6ada51b2");
  EXPECT_EQ(hex(u.key_sha256), "d1659fff7a501be15962adc35514ca6a5868905695f2dd1093741f931e000a1f");
  // RFC 8489 Appendix B.1 credentials (password already after OpaqueString).
  auto m = make_turn_user("\xE3\x83\x9E\xE3\x83\x88\xE3\x83\xAA\xE3\x83\x83\xE3\x82\xAF\xE3\x82\xB9", "example.org",
                          "TheMatrIX", 0);
  EXPECT_EQ(hex(m.key_md5), "e8ca7ad59d5eb0518e312911d2dab2a9");
  EXPECT_EQ(hex(m.key_sha256), "dd295a613b9058c3c23d6dc7165bda072304d989c9d0af3a8c7e184b4f9bb4a1");
}

TEST(TurnUser, RejectsBadInput) {
  EXPECT_THROW(make_turn_user("", "r", "p", 0), Error);
  EXPECT_THROW(make_turn_user("u", "", "p", 0), Error);
  EXPECT_THROW(make_turn_user("u", "r", "", 0), Error);
  EXPECT_THROW(make_turn_user("u\n", "r", "p", 0), Error);
  EXPECT_THROW(make_turn_user("u", "r", std::string("p\0q", 3), 0), Error);
  EXPECT_THROW(make_turn_user(std::string(509, 'u'), "r", "p", 0), Error);
  EXPECT_NO_THROW(make_turn_user(std::string(508, 'u'), "r", "p", 0));
}

TEST(StoreOpen, Urls) {
  EXPECT_NO_THROW(Store::open("sqlite::memory:"));
  try {
    Store::open("postgresql://webims:hunter2@db.example/webims");
    FAIL();
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("PostgreSQL back end is not built yet"), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }
  EXPECT_THROW(Store::open("mysql://x/y"), Error);
  EXPECT_THROW(Store::open("sqlite://"), Error);
  EXPECT_THROW(Store::open("sqlite:relative.db"), Error);
  EXPECT_THROW(Store::open(""), Error);
}

TEST(StoreOpen, CreatesParentsOwnerOnlyWalAndMigrates) {
  TempDir t;
  auto path = t.path() / "a" / "b" / "webims.db";
  Store::open("sqlite://" + path.string());
  ASSERT_TRUE(fs::exists(path));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Raw raw(path);
  EXPECT_EQ(raw.one("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.one("SELECT group_concat(version) FROM schema_version"), "1,2");
  // Reopening applies nothing again.
  Store::open("sqlite://" + path.string());
  EXPECT_EQ(raw.one("SELECT count(*) FROM schema_version"), std::to_string(sqlite::migrations().size()));
}

TEST(StoreOpen, RelativePathIsRelativeToCwd) {
  TempDir t;
  auto old = fs::current_path();
  fs::current_path(t.path());
  try {
    Store::open("sqlite://./var/webims.db");
  } catch (...) {
    fs::current_path(old);
    throw;
  }
  fs::current_path(old);
  EXPECT_TRUE(fs::exists(t.path() / "var" / "webims.db"));
}

TEST(StoreOpen, RefusesNewerSchemaAndNonDatabases) {
  TempDir t;
  auto path = (t.path() / "x.db").string();
  Store::open("sqlite://" + path);
  {
    Raw raw(path);
    raw.one("INSERT INTO schema_version VALUES (999, 'future', 0)");
  }
  try {
    Store::open("sqlite://" + path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 999"), std::string::npos) << e.what();
  }
  auto junk = t.path() / "junk.db";
  std::ofstream(junk) << std::string(4096, 'x');
  EXPECT_THROW(Store::open("sqlite://" + junk.string()), Error);
  EXPECT_THROW(Store::open("sqlite://" + t.path().string()), Error);  // a directory
}

TEST(Migrations, AppliedInOrderAndAtomically) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  const sqlite::Migration v1[] = {{1, "one", "CREATE TABLE a (x INTEGER);"}};
  const sqlite::Migration v2[] = {{1, "one", "CREATE TABLE a (x INTEGER);"},
                                  {2, "two", "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (2);"}};
  const sqlite::Migration broken[] = {{1, "one", "CREATE TABLE a (x INTEGER);"},
                                      {2, "two", "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (2);"},
                                      {3, "three", "CREATE TABLE c (z INTEGER);"},
                                      {4, "four", "THIS IS NOT SQL;"}};
  const sqlite::Migration unordered[] = {{2, "two", ""}, {1, "one", ""}};
  sqlite::migrate(db, v1, "test");
  sqlite::migrate(db, v2, "test");  // only step 2 runs: step 1 would fail, table a exists
  auto count = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
    int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_finalize(s);
    return n;
  };
  EXPECT_EQ(count("SELECT MAX(version) FROM schema_version"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM a"), 1);
  try {
    sqlite::migrate(db, broken, "test");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("migration 4 (four)"), std::string::npos) << e.what();
  }
  // Step 3 was rolled back with step 4.
  EXPECT_EQ(count("SELECT MAX(version) FROM schema_version"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM sqlite_master WHERE name = 'c'"), 0);
  EXPECT_THROW(sqlite::migrate(db, unordered, "test"), Error);
  sqlite3_close(db);
}

TEST(Migrations, BuiltInListIsOrdered) {
  auto list = sqlite::migrations();
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(list.front().version, 1);
  for (size_t i = 1; i < list.size(); ++i) EXPECT_EQ(list[i].version, list[i - 1].version + 1);
}

void exercise_turn_users(Store& s) {
  EXPECT_TRUE(s.list_turn_users().empty());
  EXPECT_FALSE(s.find_turn_user("bob"));
  uint64_t g0 = s.turn_users_generation();

  auto bob = make_turn_user("bob", "example.org", "pw1", 100);
  auto alice = make_turn_user("alice", "example.org", "pw2", 200);
  s.put_turn_user(bob);
  s.put_turn_user(alice);
  uint64_t g1 = s.turn_users_generation();
  EXPECT_GT(g1, g0);
  EXPECT_EQ(s.find_turn_user("bob"), bob);
  auto all = s.list_turn_users();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], alice);  // sorted by username
  EXPECT_EQ(all[1], bob);

  auto bob2 = make_turn_user("bob", "other.org", "pw3", 300);
  s.put_turn_user(bob2);  // replace
  EXPECT_EQ(s.find_turn_user("bob"), bob2);
  EXPECT_EQ(s.list_turn_users().size(), 2u);
  uint64_t g2 = s.turn_users_generation();
  EXPECT_GT(g2, g1);

  EXPECT_FALSE(s.remove_turn_user("nobody"));
  EXPECT_EQ(s.turn_users_generation(), g2);  // nothing changed
  EXPECT_TRUE(s.remove_turn_user("bob"));
  EXPECT_GT(s.turn_users_generation(), g2);
  EXPECT_FALSE(s.find_turn_user("bob"));
  EXPECT_EQ(s.list_turn_users(), std::vector<TurnUser>{alice});

  TurnUser nameless;
  EXPECT_THROW(s.put_turn_user(nameless), Error);
}

TEST(TurnUsers, InMemory) {
  auto s = Store::open("sqlite::memory:");
  exercise_turn_users(*s);
}

TEST(TurnUsers, InFileAndPersisted) {
  TempDir t;
  {
    auto s = Store::open(t.url("w.db"));
    exercise_turn_users(*s);
  }
  auto s = Store::open(t.url("w.db"));
  ASSERT_TRUE(s->find_turn_user("alice"));
  EXPECT_EQ(s->find_turn_user("alice")->created_unix, 200);
}

TEST(TurnUsers, SecondStoreSeesChanges) {
  TempDir t;
  auto server = Store::open(t.url("shared.db"));
  auto admin = Store::open(t.url("shared.db"));
  uint64_t g = server->turn_users_generation();
  admin->put_turn_user(make_turn_user("carol", "example.org", "pw", 1));
  uint64_t g2 = server->turn_users_generation();
  EXPECT_NE(g2, g);
  ASSERT_TRUE(server->find_turn_user("carol"));
  EXPECT_EQ(server->list_turn_users().size(), 1u);
  EXPECT_TRUE(admin->remove_turn_user("carol"));
  EXPECT_NE(server->turn_users_generation(), g2);
  EXPECT_FALSE(server->find_turn_user("carol"));
}

TEST(TurnUsers, ConcurrentWritersWaitInsteadOfFailing) {
  TempDir t;
  Store::open(t.url("c.db"));  // create and migrate once
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int w = 0; w < 3; ++w)
    threads.emplace_back([&t, w] {
      auto s = Store::open(t.url("c.db"));  // one Store per thread
      for (int i = 0; i < kPerThread; ++i) {
        s->put_turn_user(make_turn_user("u" + std::to_string(w) + "_" + std::to_string(i), "r", "p", i));
        s->turn_users_generation();
        s->list_turn_users();
      }
    });
  for (auto& th : threads) th.join();
  auto s = Store::open(t.url("c.db"));
  EXPECT_EQ(s->list_turn_users().size(), 3u * kPerThread);
  EXPECT_EQ(s->turn_users_generation(), 3u * kPerThread);
}

TEST(TurnUsers, ConcurrentOpenOfFreshFileMigratesOnce) {
  TempDir t;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int w = 0; w < 4; ++w)
    threads.emplace_back([&] {
      try {
        Store::open(t.url("fresh.db"))->turn_users_generation();
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++errors;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  Raw raw((t.path() / "fresh.db").string());
  EXPECT_EQ(raw.one("SELECT count(*) FROM schema_version"), std::to_string(sqlite::migrations().size()));
}

TEST(LocalSecrets, CreatedOnceThenKeptAcrossStoresAndRestarts) {
  TempDir t;
  int made = 0;
  auto make = [&] {
    ++made;
    return std::string("generated-") + std::to_string(made);
  };
  {
    auto a = Store::open(t.url("s.db"));
    auto b = Store::open(t.url("s.db"));
    EXPECT_EQ(a->local_secret("turn-km", make), "generated-1");
    EXPECT_EQ(b->local_secret("turn-km", make), "generated-1");  // another process sees the same
    EXPECT_EQ(a->local_secret("other", make), "generated-2");
  }
  auto again = Store::open(t.url("s.db"));
  EXPECT_EQ(again->local_secret("turn-km", make), "generated-1");
  EXPECT_EQ(made, 2);
}

}  // namespace
}  // namespace store
