#include "store/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <thread>
#include <unordered_map>

#include "base/log.hpp"

namespace store::sqlite {
namespace {

// Long enough to ride out another process's write transaction or a WAL checkpoint; short enough that
// a wedged process shows up as an error rather than a hang.
constexpr int kBusyTimeoutMs = 10000;

[[noreturn]] void fail(sqlite3* db, const std::string& what, const std::string& doing) {
  throw Error("store '" + what + "': cannot " + doing + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

void exec(sqlite3* db, const char* sql, const std::string& what, const std::string& doing) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db, what, doing);
}

// A prepared statement, reset (bindings cleared) when the borrowing scope ends so the cached
// statement never holds a read transaction open between calls.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s, const std::string& what) : db_(db), s_(s), what_(what) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& text(int i, const std::string& v) {
    check(sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& blob(int i, const uint8_t* p, size_t n) {
    check(sqlite3_bind_blob(s_, i, p, int(n), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& int64(int i, int64_t v) {
    check(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  // True while a row is available.
  bool step(const char* doing) {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, what_, doing);
  }
  std::string col_text(int i) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
    return p ? std::string(p, size_t(sqlite3_column_bytes(s_, i))) : std::string();
  }
  int64_t col_int64(int i) const { return sqlite3_column_int64(s_, i); }
  template <size_t N>
  bool col_blob(int i, std::array<uint8_t, N>& out) const {
    const void* p = sqlite3_column_blob(s_, i);
    if (!p || sqlite3_column_bytes(s_, i) != int(N)) return false;
    std::memcpy(out.data(), p, N);
    return true;
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, what_, "bind a statement parameter");
  }
  sqlite3* db_;
  sqlite3_stmt* s_;
  const std::string& what_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back if the scope is left without commit().
class Transaction {
 public:
  Transaction(sqlite3* db, const std::string& what) : db_(db), what_(what) {
    exec(db_, "BEGIN IMMEDIATE", what_, "start a write transaction");
  }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, "COMMIT", what_, "commit a write transaction");
    done_ = true;
  }

 private:
  sqlite3* db_;
  const std::string& what_;
  bool done_ = false;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(sqlite3* db, std::string what) : db_(db), what_(std::move(what)) {}
  ~SqliteStore() override {
    for (auto& [sql, s] : cache_) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
  }

  void put_turn_user(const TurnUser& u) override {
    if (u.username.empty()) throw Error("store '" + what_ + "': a TURN user needs a username");
    Transaction tx(db_, what_);
    {
      auto s = stmt(
          "INSERT INTO turn_users (username, realm, key_md5, key_sha256, created_unix) VALUES (?1, ?2, ?3, ?4, ?5) "
          "ON CONFLICT (username) DO UPDATE SET realm = excluded.realm, key_md5 = excluded.key_md5, "
          "key_sha256 = excluded.key_sha256, created_unix = excluded.created_unix");
      s.text(1, u.username).text(2, u.realm);
      s.blob(3, u.key_md5.data(), u.key_md5.size()).blob(4, u.key_sha256.data(), u.key_sha256.size());
      s.int64(5, u.created_unix);
      s.step("write TURN user");
    }
    bump("turn_users");
    tx.commit();
  }

  bool remove_turn_user(const std::string& username) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("DELETE FROM turn_users WHERE username = ?1");
      s.text(1, username);
      s.step("remove TURN user");
    }
    if (sqlite3_changes(db_) == 0) return false;  // nothing changed: leave the generation alone
    bump("turn_users");
    tx.commit();
    return true;
  }

  std::vector<TurnUser> list_turn_users() override {
    std::vector<TurnUser> out;
    auto s = stmt("SELECT username, realm, key_md5, key_sha256, created_unix FROM turn_users ORDER BY username");
    while (s.step("list TURN users")) out.push_back(read_user(s));
    return out;
  }

  std::optional<TurnUser> find_turn_user(const std::string& username) override {
    auto s = stmt("SELECT username, realm, key_md5, key_sha256, created_unix FROM turn_users WHERE username = ?1");
    s.text(1, username);
    if (!s.step("read TURN user")) return std::nullopt;
    return read_user(s);
  }

  uint64_t turn_users_generation() override { return generation("turn_users"); }

  std::string local_secret(const std::string& name, const std::function<std::string()>& make) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("SELECT value FROM local_secrets WHERE name = ?1");
      s.text(1, name);
      if (s.step("read local secret")) return s.col_text(0);  // the transaction rolls back: nothing written
    }
    std::string value = make();
    {
      auto s = stmt("INSERT INTO local_secrets (name, value, created_unix) VALUES (?1, ?2, strftime('%s','now'))");
      s.text(1, name).text(2, value);
      s.step("write local secret");
    }
    tx.commit();
    return value;
  }

 private:
  Stmt stmt(const char* sql) {
    auto& s = cache_[sql];
    if (!s && sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
      fail(db_, what_, "prepare a statement");
    return Stmt(db_, s, what_);
  }

  TurnUser read_user(Stmt& s) {
    TurnUser u;
    u.username = s.col_text(0);
    u.realm = s.col_text(1);
    if (!s.col_blob(2, u.key_md5) || !s.col_blob(3, u.key_sha256))
      throw Error("store '" + what_ + "': TURN user '" + u.username + "' has a malformed key");
    u.created_unix = s.col_int64(4);
    return u;
  }

  void bump(const char* name) {
    auto s = stmt("UPDATE generations SET value = value + 1 WHERE name = ?1");
    s.text(1, name);
    s.step("update the change counter");
  }

  uint64_t generation(const char* name) {
    auto s = stmt("SELECT value FROM generations WHERE name = ?1");
    s.text(1, name);
    if (!s.step("read the change counter")) throw Error("store '" + what_ + "': change counter '" + name + "' is missing");
    return uint64_t(s.col_int64(0));
  }

  sqlite3* db_;
  std::string what_;
  // Keyed by the SQL literal's address: every caller passes a string literal.
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

std::string journal_mode(sqlite3* db, const char* sql, const std::string& what) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (;;) {
    std::string mode;
    int rc = sqlite3_exec(
        db, sql,
        [](void* out, int n, char** values, char**) {
          if (n > 0 && values[0]) *static_cast<std::string*>(out) = values[0];
          return 0;
        },
        &mode, nullptr);
    if (rc == SQLITE_OK) return mode;
    int primary = rc & 0xff;
    if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || std::chrono::steady_clock::now() > deadline)
      fail(db, what, primary == SQLITE_NOTADB ? "read it (not an SQLite database)" : "set WAL journal mode");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

void migrate(sqlite3* db, std::span<const Migration> list, const std::string& what) {
  for (size_t i = 1; i < list.size(); ++i)
    if (list[i].version <= list[i - 1].version)
      throw Error("store '" + what + "': migration versions are not increasing (a build defect)");
  int latest = list.empty() ? 0 : list.back().version;

  Transaction tx(db, what);
  exec(db,
       "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
       "applied_unix INTEGER NOT NULL)",
       what, "create the schema_version table");
  int current = 0;
  {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", -1, &s, nullptr) != SQLITE_OK)
      fail(db, what, "read the schema version");
    if (sqlite3_step(s) == SQLITE_ROW) current = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
  }
  if (current > latest)
    throw Error("store '" + what + "': the database has schema version " + std::to_string(current) +
                " but this webims knows only up to " + std::to_string(latest) + "; use a newer webims");
  for (const auto& m : list) {
    if (m.version <= current) continue;
    exec(db, m.sql, what, "apply schema migration " + std::to_string(m.version) + " (" + m.name + ")");
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "INSERT INTO schema_version (version, name, applied_unix) VALUES (?1, ?2, ?3)", -1,
                           &s, nullptr) != SQLITE_OK)
      fail(db, what, "record schema migration");
    sqlite3_bind_int(s, 1, m.version);
    sqlite3_bind_text(s, 2, m.name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, int64_t(::time(nullptr)));
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) fail(db, what, "record schema migration");
    LOG_INFO("store") << what << ": applied schema migration " << m.version << " (" << m.name << ")";
  }
  tx.commit();
}

std::unique_ptr<Store> open(const std::string& path, const std::string& url) {
  if (path != ":memory:") {
    std::filesystem::path p(path);
    std::error_code ec;
    if (p.has_parent_path()) {
      std::filesystem::create_directories(p.parent_path(), ec);
      if (ec) throw Error("store '" + url + "': cannot create directory '" + p.parent_path().string() + "': " + ec.message());
    }
    // Created by us, owner-only: the file holds TURN keys (RFC 8489 keys authenticate like passwords).
    // SQLite gives the -wal and -shm files the same mode.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw Error("store '" + url + "': cannot open '" + path + "': " + std::strerror(errno));
    ::close(fd);
  }

  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    throw Error("store '" + url + "': cannot open '" + path + "': " + msg);
  }
  auto store = std::make_unique<SqliteStore>(db, url);  // owns db from here on
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);

  // WAL is a property of the file: switch once. Switching needs the database to itself and SQLite
  // may report "locked" at once (without the busy handler) while another process opens the same new
  // file, so retry within the busy timeout.
  std::string mode = journal_mode(db, "PRAGMA journal_mode", url);
  if (mode != "wal" && path != ":memory:") mode = journal_mode(db, "PRAGMA journal_mode = WAL", url);
  if (mode != "wal" && path != ":memory:") {
    LOG_WARN("store") << url << ": journal mode is '" << mode << "', not 'wal' (filesystem without shared memory?)";
  }
  exec(db, "PRAGMA synchronous = NORMAL", url, "set synchronous mode");
  exec(db, "PRAGMA foreign_keys = ON", url, "enable foreign keys");
  migrate(db, migrations(), url);
  return store;
}

}  // namespace store::sqlite
