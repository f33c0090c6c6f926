#include "store/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
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
  EXPECT_EQ(raw.one("SELECT group_concat(version) FROM schema_version"), "1,2,3,4");
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
  EXPECT_EQ(again->find_local_secret("turn-km"), "generated-1");
  EXPECT_EQ(again->find_local_secret("never-made"), std::nullopt);
  EXPECT_EQ(again->find_local_secret("never-made"), std::nullopt);  // looking does not make one
  EXPECT_EQ(made, 2);
}

// ---- HSS, registrations, Solution 1 records (migration 3) ----

Subscriber alice(int64_t now = 100) {
  return make_subscriber("alice@ims.example.org", "ims.example.org", "secret",
                         {"sip:alice@ims.example.org", "tel:+15551234"}, now);
}

Registration binding(const std::string& impu, const std::string& contact, int64_t expires, uint32_t cseq = 1) {
  Registration r;
  r.impu = impu;
  r.impi = "alice@ims.example.org";
  r.contact = contact;
  r.path = {"<sip:tok1@127.0.0.1:5070;transport=tcp;lr>", "<sip:second@192.0.2.1;lr>"};
  r.instance_id = "<urn:uuid:3a3c5d2e-6f1b-4c9e-8d7a-2b1f0e9c8a7d>";
  r.reg_id = 1;
  r.expires_unix = expires;
  r.call_id = "c1";
  r.cseq = cseq;
  r.received = "TCP 127.0.0.1:40000 flow 3";
  r.updated_unix = expires - 600;
  return r;
}

TEST(Subscribers, Ha1NeverThePassword) {
  auto s = alice();
  EXPECT_EQ(s.ha1_md5, "ede56c3b1c295125f2652ff6c9e8f72f");
  EXPECT_EQ(s.ha1_sha256, "6bcce15423c8d1103435e619eda561c72dd230f15b5575d5115ec5d700f85094");
  EXPECT_TRUE(s.has_digest());
  EXPECT_FALSE(s.has_aka());
  EXPECT_THROW(make_subscriber("", "r", "p", {"sip:a@r"}, 0), Error);
  EXPECT_THROW(make_subscriber("a", "r", "", {"sip:a@r"}, 0), Error);
  EXPECT_THROW(make_subscriber("a", "r", "p", {}, 0), Error);
  EXPECT_THROW(make_subscriber("a", "r", "p\n", {"sip:a@r"}, 0), Error);
  TempDir t;
  auto st = Store::open(t.url("h.db"));
  st->put_subscriber(s);
  Raw raw((t.path() / "h.db").string());
  EXPECT_EQ(raw.one("SELECT count(*) FROM subscribers WHERE instr(ha1_md5 || ha1_sha256, 'secret') > 0"), "0");
}

TEST(Subscribers, PutFindListRemove) {
  auto st = Store::open("sqlite::memory:");
  uint64_t g0 = st->subscribers_generation();
  auto a = alice();
  a.allowed_wwsf = {"wwsf1.example", "wwsf2.example"};
  a.pool_owner = "socialnet.example";
  st->put_subscriber(a);
  EXPECT_GT(st->subscribers_generation(), g0);
  EXPECT_EQ(st->find_subscriber("alice@ims.example.org"), a);
  EXPECT_EQ(st->impi_for_impu("tel:+15551234"), "alice@ims.example.org");
  EXPECT_FALSE(st->impi_for_impu("sip:nobody@ims.example.org"));
  EXPECT_FALSE(st->find_subscriber("nobody"));

  // AKA-only subscriber with K, OPc, AMF (TS 35.208 test set 1 values).
  Subscriber b;
  b.impi = "bob@ims.example.org";
  b.realm = "ims.example.org";
  b.aka_k = std::array<uint8_t, 16>{0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc};
  b.aka_opc = std::array<uint8_t, 16>{0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf};
  b.aka_amf = {0xb9, 0xb9};
  b.sqn = 0xff9bb4d0b607;
  b.impus = {"sip:bob@ims.example.org"};
  b.created_unix = 7;
  st->put_subscriber(b);
  EXPECT_EQ(st->find_subscriber("bob@ims.example.org"), b);
  auto all = st->list_subscribers();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(st->count_subscribers(), 2u);
  EXPECT_EQ(all[0].impi, "alice@ims.example.org");
  EXPECT_EQ(all[1], b);

  // An IMPU cannot belong to two subscriptions.
  auto c = make_subscriber("carol@ims.example.org", "ims.example.org", "x", {"sip:alice@ims.example.org"}, 1);
  EXPECT_THROW(st->put_subscriber(c), Error);
  EXPECT_FALSE(st->find_subscriber("carol@ims.example.org"));
  // Bad records are refused.
  Subscriber none;
  none.impi = "n";
  none.realm = "r";
  none.impus = {"sip:n@r"};
  EXPECT_THROW(st->put_subscriber(none), Error);
  auto dup = make_subscriber("d", "r", "p", {"sip:d@r", "sip:d@r"}, 0);
  EXPECT_THROW(st->put_subscriber(dup), Error);

  // Replacing keeps registrations; removing takes IMPUs and registrations along.
  st->put_registration(binding("sip:alice@ims.example.org", "sip:a@x.invalid;transport=ws", 1000));
  a.impus = {"sip:alice@ims.example.org"};
  st->put_subscriber(a);
  EXPECT_FALSE(st->impi_for_impu("tel:+15551234"));
  EXPECT_EQ(st->list_registrations().size(), 1u);
  uint64_t rg = st->registrations_generation();
  EXPECT_TRUE(st->remove_subscriber("alice@ims.example.org"));
  EXPECT_FALSE(st->remove_subscriber("alice@ims.example.org"));
  EXPECT_EQ(st->count_subscribers(), 1u);
  EXPECT_FALSE(st->impi_for_impu("sip:alice@ims.example.org"));
  EXPECT_TRUE(st->list_registrations().empty());
  EXPECT_GT(st->registrations_generation(), rg);
}

TEST(Subscribers, SqnAdvancesAtomically) {
  TempDir t;
  {
    auto st = Store::open(t.url("sqn.db"));
    auto a = alice();
    a.sqn = 32;
    st->put_subscriber(a);
    EXPECT_EQ(st->advance_sqn("alice@ims.example.org", 32), 64u);
    EXPECT_THROW(st->advance_sqn("nobody", 32), Error);
    EXPECT_THROW(st->set_sqn("nobody", 1), Error);
  }
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<uint64_t> seen;
  for (int w = 0; w < 3; ++w)
    threads.emplace_back([&] {
      auto st = Store::open(t.url("sqn.db"));
      for (int i = 0; i < kPerThread; ++i) {
        uint64_t v = st->advance_sqn("alice@ims.example.org", 32);
        std::lock_guard<std::mutex> l(mu);
        seen.push_back(v);
      }
    });
  for (auto& th : threads) th.join();
  std::sort(seen.begin(), seen.end());
  ASSERT_EQ(seen.size(), 3u * kPerThread);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 64u + 32u * (i + 1));
  auto st = Store::open(t.url("sqn.db"));
  EXPECT_EQ(st->find_subscriber("alice@ims.example.org")->sqn, 64u + 32u * 3 * kPerThread);
  st->set_sqn("alice@ims.example.org", (uint64_t(1) << 48) - 10);
  EXPECT_THROW(st->advance_sqn("alice@ims.example.org", 32), Error);  // would pass 2^48 - 1
  EXPECT_EQ(st->advance_sqn("alice@ims.example.org", 9), (uint64_t(1) << 48) - 1);
  EXPECT_THROW(st->set_sqn("alice@ims.example.org", uint64_t(1) << 48), Error);
}

TEST(Registrations, UpsertListRemoveExpire) {
  auto st = Store::open("sqlite::memory:");
  st->put_subscriber(alice());
  const std::string impu = "sip:alice@ims.example.org";
  uint64_t g0 = st->registrations_generation();
  auto r1 = binding(impu, "sip:a@x.invalid;transport=ws", 1000);
  auto r2 = binding(impu, "sip:b@y.invalid;transport=ws", 2000);
  r2.path.clear();
  r2.instance_id.clear();
  r2.reg_id = 0;
  auto r3 = binding("tel:+15551234", "sip:c@z.invalid", 3000);
  st->put_registration(r1);
  st->put_registration(r2);
  st->put_registration(r3);
  uint64_t g1 = st->registrations_generation();
  EXPECT_GT(g1, g0);
  EXPECT_EQ(st->registrations_for(impu), (std::vector<Registration>{r1, r2}));
  EXPECT_EQ(st->list_registrations(), (std::vector<Registration>{r1, r2, r3}));
  r1.expires_unix = 1500;
  r1.cseq = 2;
  st->put_registration(r1);  // refresh: same (impu, contact)
  EXPECT_EQ(st->registrations_for(impu)[0], r1);
  EXPECT_EQ(st->list_registrations().size(), 3u);

  EXPECT_EQ(st->expire_registrations(999), 0u);
  uint64_t g2 = st->registrations_generation();
  EXPECT_EQ(st->expire_registrations(1500), 1u);  // r1 (expires_unix <= now)
  EXPECT_GT(st->registrations_generation(), g2);
  EXPECT_EQ(st->registrations_for(impu), std::vector<Registration>{r2});
  EXPECT_FALSE(st->remove_registration(impu, "sip:nobody@x"));
  EXPECT_TRUE(st->remove_registration(impu, r2.contact));
  EXPECT_EQ(st->remove_registrations("tel:+15551234"), 1u);
  EXPECT_EQ(st->remove_registrations("tel:+15551234"), 0u);
  EXPECT_TRUE(st->list_registrations().empty());

  // Only subscribers register; values that cannot round-trip are refused.
  auto stray = binding(impu, "sip:a@x", 1);
  stray.impi = "nobody";
  EXPECT_THROW(st->put_registration(stray), Error);
  auto bad = binding(impu, "sip:a@x", 1);
  bad.path = {"<sip:a>\n<sip:b>"};
  EXPECT_THROW(st->put_registration(bad), Error);
}

TEST(Registrations, AppliedInOneTransactionInOrder) {
  TempDir t;
  auto st = Store::open(t.url("batch.db"));
  auto other = Store::open(t.url("batch.db"));
  st->put_subscriber(alice());
  const std::string impu = "sip:alice@ims.example.org";
  auto r1 = binding(impu, "sip:a@x.invalid;transport=ws", 1000);
  auto r2 = binding(impu, "sip:b@y.invalid;transport=ws", 2000);
  auto r3 = binding("tel:+15551234", "sip:c@z.invalid", 3000);
  using K = RegistrationChange::Kind;
  uint64_t g0 = st->registrations_generation();
  auto g = st->apply_registrations({{K::Put, r1, 0}, {K::Put, r2, 0}, {K::Put, r3, 0}, {K::Remove, r1, 0}});
  EXPECT_EQ(g.before, g0);
  EXPECT_EQ(g.after, g0 + 1);  // one step for the whole batch
  EXPECT_EQ(other->list_registrations(), (std::vector<Registration>{r2, r3}));
  // Another writer in between shows as before != what we saw last.
  other->remove_registrations("tel:+15551234");
  r2.cseq = 9;
  g = st->apply_registrations({{K::Put, r2, 0}, {K::Expire, {}, 1500}});
  EXPECT_EQ(g.before, g0 + 2);
  EXPECT_EQ(st->list_registrations(), std::vector<Registration>{r2});
  EXPECT_EQ(st->apply_registrations({}).after, g.after);  // nothing to do: no step
  // A binding whose subscriber went away meanwhile is skipped; the rest of the batch lands.
  auto stray = binding("sip:bob@ims.example.org", "sip:b@x", 5000);
  stray.impi = "bob@ims.example.org";
  g = st->apply_registrations({{K::Put, stray, 0}, {K::RemoveAll, r2, 0}});
  EXPECT_GT(g.after, g.before);
  EXPECT_EQ(g.skipped, 1u);
  EXPECT_TRUE(st->list_registrations().empty());
  // A value that cannot round-trip fails the whole batch before anything is written.
  auto bad = binding(impu, "sip:a@x", 1);
  bad.path = {"<sip:a>\n<sip:b>"};
  EXPECT_THROW(st->apply_registrations({{K::Put, r1, 0}, {K::Put, bad, 0}}), Error);
  EXPECT_TRUE(st->list_registrations().empty());
}

TEST(Registrations, SurviveRestartAndAreSeenByOthers) {
  TempDir t;
  auto r = binding("sip:alice@ims.example.org", "sip:a@x.invalid;transport=ws", 1000);
  {
    auto st = Store::open(t.url("reg.db"));
    st->put_subscriber(alice());
    st->put_registration(r);
  }
  auto core = Store::open(t.url("reg.db"));
  auto admin = Store::open(t.url("reg.db"));
  EXPECT_EQ(core->list_registrations(), std::vector<Registration>{r});
  uint64_t g = core->registrations_generation();
  admin->remove_registrations("sip:alice@ims.example.org");
  EXPECT_NE(core->registrations_generation(), g);
  EXPECT_TRUE(core->list_registrations().empty());
}

TEST(TurnCredentials, AccountabilityRecords) {
  auto st = Store::open("sqlite::memory:");
  TurnCredentialRecord a{"Xq3Y9nXlO0W3kqkqQyG0cQ", "sip:alice@ims.example.org", "alice@ims.example.org", 2000, 1000,
                         "pcscf-1"};
  TurnCredentialRecord b{"b2", "tel:+15551234", "", 3000, 1000, ""};
  st->put_turn_credential(a);
  st->put_turn_credential(b);
  EXPECT_EQ(st->find_turn_credential(a.tid), a);
  EXPECT_EQ(st->find_turn_credential("b2"), b);
  EXPECT_FALSE(st->find_turn_credential("none"));
  EXPECT_EQ(st->expire_turn_credentials(2000), 1u);
  EXPECT_FALSE(st->find_turn_credential(a.tid));
  EXPECT_TRUE(st->find_turn_credential("b2"));
  EXPECT_THROW(st->put_turn_credential(TurnCredentialRecord{}), Error);
}

// ---- Issue 4: WWSFs, OAuth, web accounts, pool, Approach 2 TURN (migration 4) ----

Subscriber pool_member(const std::string& impi, const std::string& owner) {
  auto s = make_subscriber(impi, "ims.example.org", "pw", {"sip:" + impi}, 10);
  s.pool_owner = owner;
  return s;
}

TEST(Migrations, FromTheIssue3SchemaKeepsData) {
  TempDir t;
  auto path = (t.path() / "old.db").string();
  {
    // A database as the previous build left it: steps 1-3 only, with a subscriber and a TURN user.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite::migrate(db, sqlite::migrations().first(3), "old");
    const char* rows =
        "INSERT INTO subscribers (impi, realm, ha1_md5, allowed_wwsf, pool_owner, created_unix) VALUES "
        "('alice@ims.example.org', 'ims.example.org', 'ede56c3b1c295125f2652ff6c9e8f72f', 'w1.example\nw2.example',"
        " 'socialnet.example', 5);"
        "INSERT INTO impus VALUES ('sip:alice@ims.example.org', 'alice@ims.example.org', 0);"
        "INSERT INTO turn_users VALUES ('bob', 'example.org', zeroblob(16), zeroblob(32), 7);";
    ASSERT_EQ(sqlite3_exec(db, rows, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto st = Store::open("sqlite://" + path);
  auto a = st->find_subscriber("alice@ims.example.org");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ha1_md5, "ede56c3b1c295125f2652ff6c9e8f72f");
  EXPECT_EQ(a->impus, std::vector<std::string>{"sip:alice@ims.example.org"});
  EXPECT_EQ(a->allowed_wwsf, (std::vector<std::string>{"w1.example", "w2.example"}));
  EXPECT_EQ(st->pool_subscribers("socialnet.example").size(), 1u);
  auto bob = st->find_turn_user("bob");
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->created_unix, 7);
  EXPECT_EQ(bob->expires_unix, 0);  // existing users never expire
  EXPECT_EQ(st->expire_turn_users(INT64_MAX), 0u);
  Raw raw(path);
  EXPECT_EQ(raw.one("SELECT group_concat(version) FROM schema_version"), "1,2,3,4");
}

TEST(TurnUsers, PushedCredentialsExpire) {
  auto st = Store::open("sqlite::memory:");
  auto pushed = make_turn_user("1700000600:tid", "ims.example.org", "pw", 1000);
  pushed.expires_unix = 2000;
  auto admin = make_turn_user("admin", "ims.example.org", "pw", 1000);
  st->put_turn_user(pushed);
  st->put_turn_user(admin);
  EXPECT_EQ(st->find_turn_user(pushed.username), pushed);
  uint64_t g = st->turn_users_generation();
  EXPECT_EQ(st->expire_turn_users(1999), 0u);
  EXPECT_EQ(st->turn_users_generation(), g);  // nothing removed, no reload
  EXPECT_EQ(st->expire_turn_users(2000), 1u);
  EXPECT_GT(st->turn_users_generation(), g);
  EXPECT_EQ(st->list_turn_users(), std::vector<TurnUser>{admin});  // expires_unix 0: never
}

TEST(TurnRevocations, PutExtendListExpire) {
  auto st = Store::open("sqlite::memory:");
  uint64_t g0 = st->turn_revocations_generation();
  st->put_turn_revocation({"zeta", 500, 10});
  st->put_turn_revocation({"alpha", 300, 10});
  EXPECT_GT(st->turn_revocations_generation(), g0);
  EXPECT_EQ(st->list_turn_revocations(100), (std::vector<TurnRevocation>{{"alpha", 300, 10}, {"zeta", 500, 10}}));
  EXPECT_EQ(st->list_turn_revocations(300), (std::vector<TurnRevocation>{{"zeta", 500, 10}}));  // until is exclusive
  st->put_turn_revocation({"alpha", 900, 20});  // extended
  EXPECT_EQ(st->list_turn_revocations(600), (std::vector<TurnRevocation>{{"alpha", 900, 20}}));
  uint64_t g1 = st->turn_revocations_generation();
  EXPECT_EQ(st->expire_turn_revocations(400), 0u);
  EXPECT_EQ(st->turn_revocations_generation(), g1);
  EXPECT_EQ(st->expire_turn_revocations(500), 1u);
  EXPECT_GT(st->turn_revocations_generation(), g1);
  EXPECT_EQ(st->list_turn_revocations(0).size(), 1u);
  EXPECT_THROW(st->put_turn_revocation({"", 1, 1}), Error);
}

TEST(Wwsfs, PutBlockRemoveAndGeneration) {
  TempDir t;
  auto st = Store::open(t.url("w.db"));
  auto core = Store::open(t.url("w.db"));  // another process polling the counter
  uint64_t g0 = core->wwsfs_generation();
  Wwsf w{"socialnet.example", "*@socialnet.example", false, "", 100, 100};
  st->put_wwsf(w);
  st->put_wwsf({"other.example", "", false, "", 100, 100});
  uint64_t g1 = core->wwsfs_generation();
  EXPECT_GT(g1, g0);
  EXPECT_EQ(core->find_wwsf("socialnet.example"), w);
  EXPECT_FALSE(core->find_wwsf("nobody.example"));
  auto all = core->list_wwsfs();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "other.example");  // sorted by id

  EXPECT_TRUE(st->set_wwsf_blocked("socialnet.example", true, "phishing reports", 200));
  uint64_t g2 = core->wwsfs_generation();
  EXPECT_GT(g2, g1);
  auto b = core->find_wwsf("socialnet.example");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->blocked);
  EXPECT_EQ(b->block_reason, "phishing reports");
  EXPECT_EQ(b->changed_unix, 200);
  EXPECT_EQ(b->created_unix, 100);
  EXPECT_EQ(b->pool_pattern, "*@socialnet.example");
  EXPECT_TRUE(st->set_wwsf_blocked("socialnet.example", false, "", 300));
  EXPECT_FALSE(core->find_wwsf("socialnet.example")->blocked);
  EXPECT_FALSE(st->set_wwsf_blocked("nobody.example", true, "", 300));
  uint64_t g3 = core->wwsfs_generation();
  EXPECT_FALSE(st->remove_wwsf("nobody.example"));
  EXPECT_EQ(core->wwsfs_generation(), g3);
  EXPECT_TRUE(st->remove_wwsf("other.example"));
  EXPECT_GT(core->wwsfs_generation(), g3);
  EXPECT_EQ(core->list_wwsfs().size(), 1u);
  EXPECT_THROW(st->put_wwsf(Wwsf{}), Error);
  EXPECT_THROW(st->put_wwsf({"a\nb", "", false, "", 0, 0}), Error);
}

TEST(Wwsfs, PoolSubscribersAndAllowedList) {
  auto st = Store::open("sqlite::memory:");
  st->put_subscriber(pool_member("g2@socialnet.example", "socialnet.example"));
  st->put_subscriber(pool_member("g1@socialnet.example", "socialnet.example"));
  st->put_subscriber(pool_member("x@other.example", "other.example"));
  st->put_subscriber(alice());
  auto pool = st->pool_subscribers("socialnet.example");
  ASSERT_EQ(pool.size(), 2u);
  EXPECT_EQ(pool[0].impi, "g1@socialnet.example");
  EXPECT_EQ(pool[0].impus, std::vector<std::string>{"sip:g1@socialnet.example"});
  EXPECT_EQ(pool[1].impi, "g2@socialnet.example");
  EXPECT_TRUE(st->pool_subscribers("").empty());  // alice has no pool owner: '' is not a pool
  EXPECT_TRUE(st->pool_subscribers("nobody.example").empty());

  uint64_t g = st->subscribers_generation();
  EXPECT_TRUE(st->set_allowed_wwsf("alice@ims.example.org", {"w1.example", "w2.example"}));
  EXPECT_GT(st->subscribers_generation(), g);
  EXPECT_EQ(st->find_subscriber("alice@ims.example.org")->allowed_wwsf,
            (std::vector<std::string>{"w1.example", "w2.example"}));
  EXPECT_TRUE(st->set_allowed_wwsf("alice@ims.example.org", {}));
  EXPECT_TRUE(st->find_subscriber("alice@ims.example.org")->allowed_wwsf.empty());
  EXPECT_FALSE(st->set_allowed_wwsf("nobody", {"w1.example"}));
  EXPECT_THROW(st->set_allowed_wwsf("alice@ims.example.org", {"a\nb"}), Error);
  EXPECT_THROW(st->set_allowed_wwsf("alice@ims.example.org", {""}), Error);
}

TEST(OAuth, ClientsAndRevokedTokens) {
  auto st = Store::open("sqlite::memory:");
  OAuthClient app{"webims-app", "public", {"https://localhost:8443/app/cb", "http://127.0.0.1/cb"}, "", "", 5};
  OAuthClient w{"socialnet", "wwsf", {}, "socialnet.example", std::string(64, 'a'), 6};
  st->put_oauth_client(w);
  st->put_oauth_client(app);
  EXPECT_EQ(st->find_oauth_client("webims-app"), app);
  EXPECT_EQ(st->find_oauth_client("socialnet"), w);
  EXPECT_FALSE(st->find_oauth_client("nobody"));
  EXPECT_EQ(st->list_oauth_clients(), (std::vector<OAuthClient>{w, app}));
  app.redirect_uris = {"https://x.example/cb"};
  st->put_oauth_client(app);  // replace
  EXPECT_EQ(st->find_oauth_client("webims-app"), app);
  EXPECT_TRUE(st->remove_oauth_client("webims-app"));
  EXPECT_FALSE(st->remove_oauth_client("webims-app"));
  EXPECT_THROW(st->put_oauth_client({"", "public", {}, "", "", 0}), Error);
  EXPECT_THROW(st->put_oauth_client({"c", "", {}, "", "", 0}), Error);
  EXPECT_THROW(st->put_oauth_client({"c", "confidential", {}, "", "", 0}), Error);
  EXPECT_THROW(st->put_oauth_client({"c", "public", {"https://a\nhttps://b"}, "", "", 0}), Error);

  EXPECT_FALSE(st->token_revoked("j1"));
  st->revoke_token("j1", 1000);
  st->revoke_token("j2", 2000);
  st->revoke_token("j1", 500);  // a second revocation never shortens the first
  EXPECT_TRUE(st->token_revoked("j1"));
  EXPECT_EQ(st->expire_revoked_tokens(999), 0u);
  EXPECT_EQ(st->expire_revoked_tokens(1000), 1u);
  EXPECT_FALSE(st->token_revoked("j1"));
  EXPECT_TRUE(st->token_revoked("j2"));
  EXPECT_THROW(st->revoke_token("", 1), Error);
}

TEST(WebAccounts, AccountsAndIdentityLinks) {
  auto st = Store::open("sqlite::memory:");
  WebAccount a{"socialnet.example", "carol", "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", 9};
  EXPECT_TRUE(st->add_web_account(a));
  auto dup = a;
  dup.password_hash = "$argon2id$other";
  EXPECT_FALSE(st->add_web_account(dup));  // first one kept
  EXPECT_EQ(st->find_web_account("socialnet.example", "carol"), a);
  EXPECT_FALSE(st->find_web_account("other.example", "carol"));  // accounts are per WWSF
  EXPECT_TRUE(st->add_web_account({"other.example", "carol", "$argon2id$x", 9}));
  EXPECT_THROW(st->add_web_account({"socialnet.example", "dave", "", 9}), Error);

  IdentityLink l2{"socialnet.example", "carol", "z@ims.example.org", false, 10, 0};
  IdentityLink l1{"socialnet.example", "carol", "alice@ims.example.org", false, 10, 0};
  st->put_identity_link(l2);
  st->put_identity_link(l1);
  EXPECT_EQ(st->identity_links("socialnet.example", "carol"), (std::vector<IdentityLink>{l1, l2}));
  l1.confirmed = true;
  l1.confirmed_unix = 20;
  st->put_identity_link(l1);  // confirmed by the IMS side
  EXPECT_EQ(st->identity_links("socialnet.example", "carol")[0], l1);
  EXPECT_TRUE(st->identity_links("other.example", "carol").empty());
  EXPECT_TRUE(st->remove_identity_link("socialnet.example", "carol", "z@ims.example.org"));
  EXPECT_FALSE(st->remove_identity_link("socialnet.example", "carol", "z@ims.example.org"));
  EXPECT_EQ(st->identity_links("socialnet.example", "carol"), std::vector<IdentityLink>{l1});
  EXPECT_THROW(st->put_identity_link({"socialnet.example", "carol", "", false, 0, 0}), Error);
}

TEST(Pool, AssignsEachSubscriptionToOneGuestAndReusesExpired) {
  auto st = Store::open("sqlite::memory:");
  const std::string w = "socialnet.example";
  st->put_subscriber(pool_member("g2@socialnet.example", w));
  st->put_subscriber(pool_member("g1@socialnet.example", w));
  st->put_subscriber(pool_member("x@other.example", "other.example"));
  st->put_subscriber(alice());

  auto a = st->assign_pool_subscriber(w, "guest-a", 100, 200);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, (PoolAssignment{"g1@socialnet.example", w, "guest-a", 100, 200}));  // first by IMPI
  auto b = st->assign_pool_subscriber(w, "guest-b", 110, 300);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->impi, "g2@socialnet.example");
  EXPECT_FALSE(st->assign_pool_subscriber(w, "guest-c", 120, 300));  // exhausted: never another pool's
  // The same guest asking again keeps its subscription (extended), not a second one.
  auto again = st->assign_pool_subscriber(w, "guest-a", 150, 250);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->impi, "g1@socialnet.example");
  EXPECT_EQ(st->find_pool_assignment("g1@socialnet.example", 240)->expires_unix, 250);
  EXPECT_EQ(st->find_pool_assignment("g1@socialnet.example", 100)->guest, "guest-a");

  // Expired assignments are handed out again.
  EXPECT_FALSE(st->find_pool_assignment("g1@socialnet.example", 250));
  auto c = st->assign_pool_subscriber(w, "guest-c", 250, 400);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->impi, "g1@socialnet.example");
  EXPECT_EQ(st->find_pool_assignment("g1@socialnet.example", 260)->guest, "guest-c");

  // Release: only by the guest that holds it.
  EXPECT_FALSE(st->release_pool_subscriber("g2@socialnet.example", "guest-a"));
  EXPECT_TRUE(st->release_pool_subscriber("g2@socialnet.example", "guest-b"));
  EXPECT_FALSE(st->find_pool_assignment("g2@socialnet.example", 260));
  EXPECT_EQ(st->assign_pool_subscriber(w, "guest-d", 260, 400)->impi, "g2@socialnet.example");

  // Removing a subscription takes its assignment along.
  EXPECT_TRUE(st->remove_subscriber("g2@socialnet.example"));
  EXPECT_FALSE(st->find_pool_assignment("g2@socialnet.example", 260));
  EXPECT_THROW(st->assign_pool_subscriber(w, "", 1, 2), Error);
  EXPECT_THROW(st->assign_pool_subscriber(w, "g", 2, 2), Error);
  EXPECT_THROW(st->assign_pool_subscriber("", "g", 1, 2), Error);
}

TEST(Pool, ConcurrentGuestsNeverShareAnImpi) {
  TempDir t;
  const std::string w = "socialnet.example";
  constexpr int kPool = 12;
  {
    auto st = Store::open(t.url("pool.db"));
    for (int i = 0; i < kPool; ++i) st->put_subscriber(pool_member("g" + std::to_string(100 + i) + "@socialnet.example", w));
  }
  constexpr int kThreads = 3, kPerThread = 6;  // 18 guests for 12 subscriptions
  std::mutex mu;
  std::vector<std::string> got;
  int exhausted = 0;
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th)
    threads.emplace_back([&, th] {
      auto st = Store::open(t.url("pool.db"));  // one connection per thread, as separate processes would
      for (int i = 0; i < kPerThread; ++i) {
        auto a = st->assign_pool_subscriber(w, "guest-" + std::to_string(th) + "-" + std::to_string(i), 100, 1000);
        std::lock_guard<std::mutex> l(mu);
        if (a) got.push_back(a->impi);
        else ++exhausted;
      }
    });
  for (auto& x : threads) x.join();
  EXPECT_EQ(got.size(), size_t(kPool));
  EXPECT_EQ(exhausted, kThreads * kPerThread - kPool);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end()) << "an IMPI was lent to two guests";
}

}  // namespace
}  // namespace store
