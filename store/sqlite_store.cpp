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
  Stmt& null(int i) {
    check(sqlite3_bind_null(s_, i));
    return *this;
  }
  // Binds NULL for an empty string (nullable text columns).
  Stmt& text_or_null(int i, const std::string& v) { return v.empty() ? null(i) : text(i, v); }
  template <size_t N>
  Stmt& blob_or_null(int i, const std::optional<std::array<uint8_t, N>>& v) {
    return v ? blob(i, v->data(), N) : null(i);
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
  bool col_null(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }
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

std::string join_lines(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += '\n';
    out += v[i];
  }
  return out;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t nl = s.find('\n', start);
    out.push_back(s.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) return out;
    start = nl + 1;
  }
}

bool has_line_break(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

bool has_control(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

constexpr uint64_t kSqnMax = (uint64_t(1) << 48) - 1;

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
          "INSERT INTO turn_users (username, realm, key_md5, key_sha256, created_unix, expires_unix) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
          "ON CONFLICT (username) DO UPDATE SET realm = excluded.realm, key_md5 = excluded.key_md5, "
          "key_sha256 = excluded.key_sha256, created_unix = excluded.created_unix, "
          "expires_unix = excluded.expires_unix");
      s.text(1, u.username).text(2, u.realm);
      s.blob(3, u.key_md5.data(), u.key_md5.size()).blob(4, u.key_sha256.data(), u.key_sha256.size());
      s.int64(5, u.created_unix).int64(6, u.expires_unix);
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
    auto s = stmt("SELECT username, realm, key_md5, key_sha256, created_unix, expires_unix FROM turn_users "
                  "ORDER BY username");
    while (s.step("list TURN users")) out.push_back(read_user(s));
    return out;
  }

  std::optional<TurnUser> find_turn_user(const std::string& username) override {
    auto s = stmt("SELECT username, realm, key_md5, key_sha256, created_unix, expires_unix FROM turn_users "
                  "WHERE username = ?1");
    s.text(1, username);
    if (!s.step("read TURN user")) return std::nullopt;
    return read_user(s);
  }

  uint64_t turn_users_generation() override { return generation("turn_users"); }

  size_t expire_turn_users(int64_t now_unix) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("DELETE FROM turn_users WHERE expires_unix > 0 AND expires_unix <= ?1");
      s.int64(1, now_unix);
      s.step("expire TURN users");
    }
    size_t n = size_t(sqlite3_changes(db_));
    if (n == 0) return 0;  // nothing changed: leave the generation alone
    bump("turn_users");
    tx.commit();
    return n;
  }

  // ---- TURN revocations ----

  void put_turn_revocation(const TurnRevocation& r) override {
    if (r.username.empty()) throw Error("store '" + what_ + "': a TURN revocation needs a username");
    Transaction tx(db_, what_);
    {
      auto s = stmt(
          "INSERT INTO turn_revocations (username, until_unix, created_unix) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (username) DO UPDATE SET until_unix = excluded.until_unix, created_unix = excluded.created_unix");
      s.text(1, r.username).int64(2, r.until_unix).int64(3, r.created_unix);
      s.step("write TURN revocation");
    }
    bump("turn_revocations");
    tx.commit();
  }

  std::vector<TurnRevocation> list_turn_revocations(int64_t now_unix) override {
    std::vector<TurnRevocation> out;
    auto s = stmt("SELECT username, until_unix, created_unix FROM turn_revocations WHERE until_unix > ?1 "
                  "ORDER BY username");
    s.int64(1, now_unix);
    while (s.step("list TURN revocations")) out.push_back({s.col_text(0), s.col_int64(1), s.col_int64(2)});
    return out;
  }

  size_t expire_turn_revocations(int64_t now_unix) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("DELETE FROM turn_revocations WHERE until_unix <= ?1");
      s.int64(1, now_unix);
      s.step("expire TURN revocations");
    }
    size_t n = size_t(sqlite3_changes(db_));
    if (n == 0) return 0;
    bump("turn_revocations");
    tx.commit();
    return n;
  }

  uint64_t turn_revocations_generation() override { return generation("turn_revocations"); }

  // ---- WWSFs ----

  void put_wwsf(const Wwsf& w) override {
    // The id travels one per line in subscribers.allowed_wwsf and as a SIP parameter value.
    if (w.id.empty() || has_control(w.id)) throw Error("store '" + what_ + "': a WWSF needs a non-empty id without control characters");
    if (has_control(w.pool_pattern)) throw Error("store '" + what_ + "': WWSF '" + w.id + "' has control characters in its pool pattern");
    Transaction tx(db_, what_);
    {
      auto s = stmt(
          "INSERT INTO wwsfs (id, pool_pattern, blocked, block_reason, created_unix, changed_unix) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET pool_pattern = excluded.pool_pattern, "
          "blocked = excluded.blocked, block_reason = excluded.block_reason, created_unix = excluded.created_unix, "
          "changed_unix = excluded.changed_unix");
      s.text(1, w.id).text(2, w.pool_pattern).int64(3, w.blocked ? 1 : 0).text(4, w.block_reason);
      s.int64(5, w.created_unix).int64(6, w.changed_unix);
      s.step("write WWSF");
    }
    bump("wwsfs");
    tx.commit();
  }

  std::optional<Wwsf> find_wwsf(const std::string& id) override {
    auto s = stmt("SELECT id, pool_pattern, blocked, block_reason, created_unix, changed_unix FROM wwsfs WHERE id = ?1");
    s.text(1, id);
    if (!s.step("read WWSF")) return std::nullopt;
    return read_wwsf(s);
  }

  std::vector<Wwsf> list_wwsfs() override {
    std::vector<Wwsf> out;
    auto s = stmt("SELECT id, pool_pattern, blocked, block_reason, created_unix, changed_unix FROM wwsfs ORDER BY id");
    while (s.step("list WWSFs")) out.push_back(read_wwsf(s));
    return out;
  }

  bool set_wwsf_blocked(const std::string& id, bool blocked, const std::string& reason, int64_t now_unix) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("UPDATE wwsfs SET blocked = ?2, block_reason = ?3, changed_unix = ?4 WHERE id = ?1");
      s.text(1, id).int64(2, blocked ? 1 : 0).text(3, reason).int64(4, now_unix);
      s.step("block or unblock WWSF");
    }
    if (sqlite3_changes(db_) == 0) return false;
    bump("wwsfs");
    tx.commit();
    return true;
  }

  bool remove_wwsf(const std::string& id) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("DELETE FROM wwsfs WHERE id = ?1");
      s.text(1, id);
      s.step("remove WWSF");
    }
    if (sqlite3_changes(db_) == 0) return false;
    bump("wwsfs");
    tx.commit();
    return true;
  }

  uint64_t wwsfs_generation() override { return generation("wwsfs"); }

  std::vector<Subscriber> pool_subscribers(const std::string& wwsf_id) override {
    std::vector<Subscriber> out;
    if (wwsf_id.empty()) return out;  // '' is "no pool", never a pool of its own
    {
      auto s = stmt("SELECT impi, realm, ha1_md5, ha1_sha256, aka_k, aka_opc, aka_amf, sqn, allowed_wwsf, pool_owner, "
                    "created_unix FROM subscribers WHERE pool_owner = ?1 ORDER BY impi");
      s.text(1, wwsf_id);
      while (s.step("list pool subscribers")) out.push_back(read_subscriber(s));
    }
    for (auto& sub : out) sub.impus = impus_of(sub.impi);
    return out;
  }

  bool set_allowed_wwsf(const std::string& impi, const std::vector<std::string>& wwsf_ids) override {
    for (auto& w : wwsf_ids)
      if (w.empty() || has_line_break(w)) throw Error("store '" + what_ + "': bad WWSF identity in the allowed list");
    Transaction tx(db_, what_);
    {
      auto s = stmt("UPDATE subscribers SET allowed_wwsf = ?2 WHERE impi = ?1");
      s.text(1, impi).text_or_null(2, join_lines(wwsf_ids));
      s.step("set allowed WWSFs");
    }
    if (sqlite3_changes(db_) == 0) return false;
    bump("subscribers");  // servers caching subscribers reload on this counter
    tx.commit();
    return true;
  }

  // ---- WAF: OAuth clients and revoked tokens ----

  void put_oauth_client(const OAuthClient& c) override {
    if (c.client_id.empty() || has_control(c.client_id))
      throw Error("store '" + what_ + "': an OAuth client needs a non-empty id without control characters");
    if (c.kind != "public" && c.kind != "wwsf")
      throw Error("store '" + what_ + "': OAuth client '" + c.client_id + "' has kind '" + c.kind +
                  "'; expected 'public' or 'wwsf'");
    for (auto& u : c.redirect_uris)
      if (u.empty() || has_line_break(u))
        throw Error("store '" + what_ + "': OAuth client '" + c.client_id + "' has an empty or multi-line redirect URI");
    Transaction tx(db_, what_);
    {
      auto s = stmt(
          "INSERT INTO oauth_clients (client_id, kind, redirect_uris, wwsf_id, cert_sha256_hex, created_unix) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (client_id) DO UPDATE SET kind = excluded.kind, "
          "redirect_uris = excluded.redirect_uris, wwsf_id = excluded.wwsf_id, "
          "cert_sha256_hex = excluded.cert_sha256_hex, created_unix = excluded.created_unix");
      s.text(1, c.client_id).text(2, c.kind).text(3, join_lines(c.redirect_uris)).text(4, c.wwsf_id);
      s.text(5, c.cert_sha256_hex).int64(6, c.created_unix);
      s.step("write OAuth client");
    }
    tx.commit();
  }

  std::optional<OAuthClient> find_oauth_client(const std::string& client_id) override {
    auto s = stmt("SELECT client_id, kind, redirect_uris, wwsf_id, cert_sha256_hex, created_unix FROM oauth_clients "
                  "WHERE client_id = ?1");
    s.text(1, client_id);
    if (!s.step("read OAuth client")) return std::nullopt;
    return read_oauth_client(s);
  }

  std::vector<OAuthClient> list_oauth_clients() override {
    std::vector<OAuthClient> out;
    auto s = stmt("SELECT client_id, kind, redirect_uris, wwsf_id, cert_sha256_hex, created_unix FROM oauth_clients "
                  "ORDER BY client_id");
    while (s.step("list OAuth clients")) out.push_back(read_oauth_client(s));
    return out;
  }

  bool remove_oauth_client(const std::string& client_id) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("DELETE FROM oauth_clients WHERE client_id = ?1");
      s.text(1, client_id);
      s.step("remove OAuth client");
    }
    if (sqlite3_changes(db_) == 0) return false;
    tx.commit();
    return true;
  }

  void revoke_token(const std::string& jti, int64_t expires_unix) override {
    if (jti.empty()) throw Error("store '" + what_ + "': a revoked token needs a jti");
    Transaction tx(db_, what_);
    {
      // Revoking twice never shortens how long the revocation is remembered.
      auto s = stmt("INSERT INTO revoked_tokens (jti, expires_unix) VALUES (?1, ?2) ON CONFLICT (jti) DO UPDATE "
                    "SET expires_unix = max(expires_unix, excluded.expires_unix)");
      s.text(1, jti).int64(2, expires_unix);
      s.step("write revoked token");
    }
    tx.commit();
  }

  bool token_revoked(const std::string& jti) override {
    auto s = stmt("SELECT 1 FROM revoked_tokens WHERE jti = ?1");
    s.text(1, jti);
    return s.step("read revoked token");
  }

  size_t expire_revoked_tokens(int64_t now_unix) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("DELETE FROM revoked_tokens WHERE expires_unix <= ?1");
      s.int64(1, now_unix);
      s.step("expire revoked tokens");
    }
    size_t n = size_t(sqlite3_changes(db_));
    tx.commit();
    return n;
  }

  // ---- WWSF: web accounts, identity links, pool assignments ----

  bool add_web_account(const WebAccount& a) override {
    if (a.wwsf_id.empty() || a.username.empty() || a.password_hash.empty())
      throw Error("store '" + what_ + "': a web account needs a WWSF, a username and a password hash");
    Transaction tx(db_, what_);
    {
      auto s = stmt("INSERT INTO web_accounts (wwsf_id, username, password_hash, created_unix) VALUES (?1, ?2, ?3, ?4) "
                    "ON CONFLICT (wwsf_id, username) DO NOTHING");
      s.text(1, a.wwsf_id).text(2, a.username).text(3, a.password_hash).int64(4, a.created_unix);
      s.step("write web account");
    }
    if (sqlite3_changes(db_) == 0) return false;
    tx.commit();
    return true;
  }

  std::optional<WebAccount> find_web_account(const std::string& wwsf_id, const std::string& username) override {
    auto s = stmt("SELECT wwsf_id, username, password_hash, created_unix FROM web_accounts "
                  "WHERE wwsf_id = ?1 AND username = ?2");
    s.text(1, wwsf_id).text(2, username);
    if (!s.step("read web account")) return std::nullopt;
    return WebAccount{s.col_text(0), s.col_text(1), s.col_text(2), s.col_int64(3)};
  }

  void put_identity_link(const IdentityLink& l) override {
    if (l.wwsf_id.empty() || l.username.empty() || l.impi.empty())
      throw Error("store '" + what_ + "': an identity link needs a WWSF, a username and an IMPI");
    Transaction tx(db_, what_);
    {
      auto s = stmt(
          "INSERT INTO identity_links (wwsf_id, username, impi, confirmed, created_unix, confirmed_unix) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (wwsf_id, username, impi) DO UPDATE SET "
          "confirmed = excluded.confirmed, created_unix = excluded.created_unix, confirmed_unix = excluded.confirmed_unix");
      s.text(1, l.wwsf_id).text(2, l.username).text(3, l.impi).int64(4, l.confirmed ? 1 : 0);
      s.int64(5, l.created_unix).int64(6, l.confirmed_unix);
      s.step("write identity link");
    }
    tx.commit();
  }

  std::vector<IdentityLink> identity_links(const std::string& wwsf_id, const std::string& username) override {
    std::vector<IdentityLink> out;
    auto s = stmt("SELECT wwsf_id, username, impi, confirmed, created_unix, confirmed_unix FROM identity_links "
                  "WHERE wwsf_id = ?1 AND username = ?2 ORDER BY impi");
    s.text(1, wwsf_id).text(2, username);
    while (s.step("list identity links"))
      out.push_back({s.col_text(0), s.col_text(1), s.col_text(2), s.col_int64(3) != 0, s.col_int64(4), s.col_int64(5)});
    return out;
  }

  bool remove_identity_link(const std::string& wwsf_id, const std::string& username, const std::string& impi) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("DELETE FROM identity_links WHERE wwsf_id = ?1 AND username = ?2 AND impi = ?3");
      s.text(1, wwsf_id).text(2, username).text(3, impi);
      s.step("remove identity link");
    }
    if (sqlite3_changes(db_) == 0) return false;
    tx.commit();
    return true;
  }

  std::optional<PoolAssignment> assign_pool_subscriber(const std::string& wwsf_id, const std::string& guest,
                                                      int64_t now_unix, int64_t expires_unix) override {
    if (wwsf_id.empty() || guest.empty())
      throw Error("store '" + what_ + "': a pool assignment needs a WWSF and a guest");
    if (expires_unix <= now_unix)
      throw Error("store '" + what_ + "': a pool assignment must expire after it is made");
    // BEGIN IMMEDIATE holds the write lock from the SELECT on: another process cannot pick the same
    // free IMPI in between (and the impi primary key would refuse it anyway).
    Transaction tx(db_, what_);
    std::string impi;
    {
      // A guest asking again (page reload) gets its own live assignment back rather than a second one.
      auto s = stmt("SELECT a.impi FROM pool_assignments a JOIN subscribers s ON s.impi = a.impi "
                    "WHERE a.wwsf_id = ?1 AND a.guest = ?2 AND a.expires_unix > ?3 AND s.pool_owner = ?1 "
                    "ORDER BY a.impi LIMIT 1");
      s.text(1, wwsf_id).text(2, guest).int64(3, now_unix);
      if (s.step("read pool assignment")) impi = s.col_text(0);
    }
    if (impi.empty()) {
      auto s = stmt("SELECT s.impi FROM subscribers s LEFT JOIN pool_assignments a ON a.impi = s.impi "
                    "WHERE s.pool_owner = ?1 AND (a.impi IS NULL OR a.expires_unix <= ?2) ORDER BY s.impi LIMIT 1");
      s.text(1, wwsf_id).int64(2, now_unix);
      if (!s.step("find a free pool subscription")) return std::nullopt;  // exhausted: roll back, nothing written
      impi = s.col_text(0);
    }
    PoolAssignment a{impi, wwsf_id, guest, now_unix, expires_unix};
    {
      auto s = stmt(
          "INSERT INTO pool_assignments (impi, wwsf_id, guest, assigned_unix, expires_unix) VALUES (?1, ?2, ?3, ?4, ?5) "
          "ON CONFLICT (impi) DO UPDATE SET wwsf_id = excluded.wwsf_id, guest = excluded.guest, "
          "assigned_unix = excluded.assigned_unix, expires_unix = excluded.expires_unix");
      s.text(1, a.impi).text(2, a.wwsf_id).text(3, a.guest).int64(4, a.assigned_unix).int64(5, a.expires_unix);
      s.step("write pool assignment");
    }
    tx.commit();
    return a;
  }

  std::optional<PoolAssignment> find_pool_assignment(const std::string& impi, int64_t now_unix) override {
    auto s = stmt("SELECT impi, wwsf_id, guest, assigned_unix, expires_unix FROM pool_assignments "
                  "WHERE impi = ?1 AND expires_unix > ?2");
    s.text(1, impi).int64(2, now_unix);
    if (!s.step("read pool assignment")) return std::nullopt;
    return PoolAssignment{s.col_text(0), s.col_text(1), s.col_text(2), s.col_int64(3), s.col_int64(4)};
  }

  bool release_pool_subscriber(const std::string& impi, const std::string& guest) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("DELETE FROM pool_assignments WHERE impi = ?1 AND guest = ?2");
      s.text(1, impi).text(2, guest);
      s.step("release pool assignment");
    }
    if (sqlite3_changes(db_) == 0) return false;
    tx.commit();
    return true;
  }

  // ---- HSS ----

  void put_subscriber(const Subscriber& sub) override {
    if (sub.impi.empty() || sub.realm.empty())
      throw Error("store '" + what_ + "': a subscriber needs an IMPI and a realm");
    if (!sub.has_digest() && !sub.has_aka())
      throw Error("store '" + what_ + "': subscriber '" + sub.impi + "' has neither a Digest nor an AKA credential");
    if (sub.aka_k.has_value() != sub.aka_opc.has_value())
      throw Error("store '" + what_ + "': subscriber '" + sub.impi + "': AKA needs both K and OPc");
    if (sub.impus.empty()) throw Error("store '" + what_ + "': subscriber '" + sub.impi + "' has no IMPU");
    if (sub.sqn > kSqnMax) throw Error("store '" + what_ + "': SQN beyond 48 bits");
    for (auto& w : sub.allowed_wwsf)
      if (w.empty() || has_line_break(w)) throw Error("store '" + what_ + "': bad WWSF identity in the allowed list");
    for (size_t i = 0; i < sub.impus.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (sub.impus[i] == sub.impus[j])
          throw Error("store '" + what_ + "': IMPU '" + sub.impus[i] + "' is listed twice");
    Transaction tx(db_, what_);
    for (auto& impu : sub.impus) {
      auto s = stmt("SELECT impi FROM impus WHERE impu = ?1");
      s.text(1, impu);
      if (s.step("read IMPU") && s.col_text(0) != sub.impi)
        throw Error("store '" + what_ + "': IMPU '" + impu + "' belongs to subscriber '" + s.col_text(0) + "'");
    }
    {
      auto s = stmt(
          "INSERT INTO subscribers (impi, realm, ha1_md5, ha1_sha256, aka_k, aka_opc, aka_amf, sqn, allowed_wwsf, "
          "pool_owner, created_unix) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
          "ON CONFLICT (impi) DO UPDATE SET realm = excluded.realm, ha1_md5 = excluded.ha1_md5, "
          "ha1_sha256 = excluded.ha1_sha256, aka_k = excluded.aka_k, aka_opc = excluded.aka_opc, "
          "aka_amf = excluded.aka_amf, sqn = excluded.sqn, allowed_wwsf = excluded.allowed_wwsf, "
          "pool_owner = excluded.pool_owner, created_unix = excluded.created_unix");
      s.text(1, sub.impi).text(2, sub.realm).text_or_null(3, sub.ha1_md5).text_or_null(4, sub.ha1_sha256);
      s.blob_or_null(5, sub.aka_k).blob_or_null(6, sub.aka_opc).blob(7, sub.aka_amf.data(), 2);
      s.int64(8, int64_t(sub.sqn)).text_or_null(9, join_lines(sub.allowed_wwsf)).text_or_null(10, sub.pool_owner);
      s.int64(11, sub.created_unix);
      s.step("write subscriber");
    }
    {
      auto s = stmt("DELETE FROM impus WHERE impi = ?1");
      s.text(1, sub.impi);
      s.step("replace IMPUs");
    }
    for (size_t i = 0; i < sub.impus.size(); ++i) {
      auto s = stmt("INSERT INTO impus (impu, impi, position) VALUES (?1, ?2, ?3)");
      s.text(1, sub.impus[i]).text(2, sub.impi).int64(3, int64_t(i));
      s.step("write IMPU");
    }
    bump("subscribers");
    tx.commit();
  }

  std::optional<Subscriber> find_subscriber(const std::string& impi) override {
    std::optional<Subscriber> out;
    {
      auto s = stmt("SELECT impi, realm, ha1_md5, ha1_sha256, aka_k, aka_opc, aka_amf, sqn, allowed_wwsf, pool_owner, "
                    "created_unix FROM subscribers WHERE impi = ?1");
      s.text(1, impi);
      if (!s.step("read subscriber")) return std::nullopt;
      out = read_subscriber(s);
    }
    out->impus = impus_of(impi);
    return out;
  }

  std::vector<Subscriber> list_subscribers() override {
    std::vector<Subscriber> out;
    {
      auto s = stmt("SELECT impi, realm, ha1_md5, ha1_sha256, aka_k, aka_opc, aka_amf, sqn, allowed_wwsf, pool_owner, "
                    "created_unix FROM subscribers ORDER BY impi");
      while (s.step("list subscribers")) out.push_back(read_subscriber(s));
    }
    for (auto& sub : out) sub.impus = impus_of(sub.impi);
    return out;
  }

  size_t count_subscribers() override {
    auto s = stmt("SELECT count(*) FROM subscribers");
    return s.step("count subscribers") ? size_t(s.col_int64(0)) : 0;
  }

  bool remove_subscriber(const std::string& impi) override {
    Transaction tx(db_, what_);
    size_t regs = 0;
    {
      auto s = stmt("DELETE FROM registrations WHERE impi = ?1");
      s.text(1, impi);
      s.step("remove registrations");
      regs = size_t(sqlite3_changes(db_));
    }
    {
      auto s = stmt("DELETE FROM subscribers WHERE impi = ?1");  // IMPUs go with it (ON DELETE CASCADE)
      s.text(1, impi);
      s.step("remove subscriber");
    }
    if (sqlite3_changes(db_) == 0) return false;
    bump("subscribers");
    if (regs) bump("registrations");
    tx.commit();
    return true;
  }

  std::optional<std::string> impi_for_impu(const std::string& impu) override {
    auto s = stmt("SELECT impi FROM impus WHERE impu = ?1");
    s.text(1, impu);
    if (!s.step("read IMPU")) return std::nullopt;
    return s.col_text(0);
  }

  uint64_t advance_sqn(const std::string& impi, uint64_t step) override {
    if (step > kSqnMax) throw Error("store '" + what_ + "': SQN step beyond 48 bits");
    Transaction tx(db_, what_);
    uint64_t value = 0;
    {
      auto s = stmt("UPDATE subscribers SET sqn = sqn + ?2 WHERE impi = ?1 AND sqn + ?2 <= 281474976710655 RETURNING sqn");
      s.text(1, impi).int64(2, int64_t(step));
      if (!s.step("advance SQN")) {
        bool exists = false;
        {
          auto e = stmt("SELECT 1 FROM subscribers WHERE impi = ?1");
          e.text(1, impi);
          exists = e.step("read subscriber");
        }
        throw Error("store '" + what_ + "': " +
                    (exists ? "the SQN of subscriber '" + impi + "' is exhausted (2^48 - 1)"
                            : "no subscriber '" + impi + "'"));
      }
      value = uint64_t(s.col_int64(0));
      while (s.step("advance SQN")) {
      }
    }
    tx.commit();
    return value;
  }

  void set_sqn(const std::string& impi, uint64_t sqn) override {
    if (sqn > kSqnMax) throw Error("store '" + what_ + "': SQN beyond 48 bits");
    Transaction tx(db_, what_);
    {
      auto s = stmt("UPDATE subscribers SET sqn = ?2 WHERE impi = ?1");
      s.text(1, impi).int64(2, int64_t(sqn));
      s.step("set SQN");
    }
    if (sqlite3_changes(db_) == 0) throw Error("store '" + what_ + "': no subscriber '" + impi + "'");
    tx.commit();
  }

  uint64_t subscribers_generation() override { return generation("subscribers"); }

  // ---- Registrations ----

  void put_registration(const Registration& r) override {
    check_registration(r);
    Transaction tx(db_, what_);
    write_registration(r);
    bump("registrations");
    tx.commit();
  }

  GenerationStep apply_registrations(const std::vector<RegistrationChange>& changes) override {
    for (auto& c : changes)
      if (c.kind == RegistrationChange::Kind::Put) check_registration(c.reg);
    Transaction tx(db_, what_);
    GenerationStep g;
    g.before = generation("registrations");
    g.after = g.before;
    if (changes.empty()) return g;
    for (auto& c : changes) {
      switch (c.kind) {
        case RegistrationChange::Kind::Put: {
          auto s = stmt("SELECT 1 FROM subscribers WHERE impi = ?1");
          s.text(1, c.reg.impi);
          if (s.step("look up a subscriber")) write_registration(c.reg);
          else ++g.skipped;
          break;
        }
        case RegistrationChange::Kind::Remove: {
          auto s = stmt("DELETE FROM registrations WHERE impu = ?1 AND contact = ?2");
          s.text(1, c.reg.impu).text(2, c.reg.contact);
          s.step("remove registration");
          break;
        }
        case RegistrationChange::Kind::RemoveAll: {
          auto s = stmt("DELETE FROM registrations WHERE impu = ?1");
          s.text(1, c.reg.impu);
          s.step("remove registrations");
          break;
        }
        case RegistrationChange::Kind::Expire: {
          auto s = stmt("DELETE FROM registrations WHERE expires_unix <= ?1");
          s.int64(1, c.now_unix);
          s.step("expire registrations");
          break;
        }
      }
    }
    bump("registrations");
    g.after = generation("registrations");
    tx.commit();
    return g;
  }

  bool remove_registration(const std::string& impu, const std::string& contact) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("DELETE FROM registrations WHERE impu = ?1 AND contact = ?2");
      s.text(1, impu).text(2, contact);
      s.step("remove registration");
    }
    if (sqlite3_changes(db_) == 0) return false;
    bump("registrations");
    tx.commit();
    return true;
  }

  size_t remove_registrations(const std::string& impu) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("DELETE FROM registrations WHERE impu = ?1");
      s.text(1, impu);
      s.step("remove registrations");
    }
    size_t n = size_t(sqlite3_changes(db_));
    if (n == 0) return 0;
    bump("registrations");
    tx.commit();
    return n;
  }

  std::vector<Registration> registrations_for(const std::string& impu) override {
    std::vector<Registration> out;
    auto s = stmt("SELECT impu, contact, impi, path, instance_id, reg_id, expires_unix, call_id, cseq, received, "
                  "updated_unix FROM registrations WHERE impu = ?1 ORDER BY contact");
    s.text(1, impu);
    while (s.step("read registrations")) out.push_back(read_registration(s));
    return out;
  }

  std::vector<Registration> list_registrations() override {
    std::vector<Registration> out;
    auto s = stmt("SELECT impu, contact, impi, path, instance_id, reg_id, expires_unix, call_id, cseq, received, "
                  "updated_unix FROM registrations ORDER BY impu, contact");
    while (s.step("list registrations")) out.push_back(read_registration(s));
    return out;
  }

  size_t expire_registrations(int64_t now_unix) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("DELETE FROM registrations WHERE expires_unix <= ?1");
      s.int64(1, now_unix);
      s.step("expire registrations");
    }
    size_t n = size_t(sqlite3_changes(db_));
    if (n == 0) return 0;
    bump("registrations");
    tx.commit();
    return n;
  }

  uint64_t registrations_generation() override { return generation("registrations"); }

  // ---- Solution 1 accountability ----

  void put_turn_credential(const TurnCredentialRecord& r) override {
    if (r.tid.empty() || r.impu.empty()) throw Error("store '" + what_ + "': a TURN credential record needs a Tid and an IMPU");
    Transaction tx(db_, what_);
    {
      auto s = stmt(
          "INSERT INTO turn_credentials (tid, impu, impi, expires_unix, created_unix, origin) VALUES (?1, ?2, ?3, ?4, "
          "?5, ?6) ON CONFLICT (tid) DO UPDATE SET impu = excluded.impu, impi = excluded.impi, "
          "expires_unix = excluded.expires_unix, created_unix = excluded.created_unix, origin = excluded.origin");
      s.text(1, r.tid).text(2, r.impu).text_or_null(3, r.impi).int64(4, r.expires_unix).int64(5, r.created_unix);
      s.text_or_null(6, r.origin);
      s.step("write TURN credential record");
    }
    tx.commit();
  }

  std::optional<TurnCredentialRecord> find_turn_credential(const std::string& tid) override {
    auto s = stmt("SELECT tid, impu, impi, expires_unix, created_unix, origin FROM turn_credentials WHERE tid = ?1");
    s.text(1, tid);
    if (!s.step("read TURN credential record")) return std::nullopt;
    TurnCredentialRecord r;
    r.tid = s.col_text(0);
    r.impu = s.col_text(1);
    r.impi = s.col_text(2);
    r.expires_unix = s.col_int64(3);
    r.created_unix = s.col_int64(4);
    r.origin = s.col_text(5);
    return r;
  }

  size_t expire_turn_credentials(int64_t now_unix) override {
    Transaction tx(db_, what_);
    {
      auto s = stmt("DELETE FROM turn_credentials WHERE expires_unix <= ?1");
      s.int64(1, now_unix);
      s.step("expire TURN credential records");
    }
    size_t n = size_t(sqlite3_changes(db_));
    tx.commit();
    return n;
  }

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

  std::optional<std::string> find_local_secret(const std::string& name) override {
    auto s = stmt("SELECT value FROM local_secrets WHERE name = ?1");
    s.text(1, name);
    if (s.step("read local secret")) return s.col_text(0);
    return std::nullopt;
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
    u.expires_unix = s.col_int64(5);
    return u;
  }

  Subscriber read_subscriber(Stmt& s) {
    Subscriber sub;
    sub.impi = s.col_text(0);
    sub.realm = s.col_text(1);
    sub.ha1_md5 = s.col_text(2);
    sub.ha1_sha256 = s.col_text(3);
    if (!s.col_null(4)) {
      std::array<uint8_t, 16> k, opc;
      if (!s.col_blob(4, k) || !s.col_blob(5, opc))
        throw Error("store '" + what_ + "': subscriber '" + sub.impi + "' has malformed AKA keys");
      sub.aka_k = k;
      sub.aka_opc = opc;
    }
    if (!s.col_blob(6, sub.aka_amf)) throw Error("store '" + what_ + "': subscriber '" + sub.impi + "' has a malformed AMF");
    sub.sqn = uint64_t(s.col_int64(7));
    sub.allowed_wwsf = split_lines(s.col_text(8));
    sub.pool_owner = s.col_text(9);
    sub.created_unix = s.col_int64(10);
    return sub;
  }

  Wwsf read_wwsf(Stmt& s) {
    Wwsf w;
    w.id = s.col_text(0);
    w.pool_pattern = s.col_text(1);
    w.blocked = s.col_int64(2) != 0;
    w.block_reason = s.col_text(3);
    w.created_unix = s.col_int64(4);
    w.changed_unix = s.col_int64(5);
    return w;
  }

  OAuthClient read_oauth_client(Stmt& s) {
    OAuthClient c;
    c.client_id = s.col_text(0);
    c.kind = s.col_text(1);
    c.redirect_uris = split_lines(s.col_text(2));
    c.wwsf_id = s.col_text(3);
    c.cert_sha256_hex = s.col_text(4);
    c.created_unix = s.col_int64(5);
    return c;
  }

  std::vector<std::string> impus_of(const std::string& impi) {
    std::vector<std::string> out;
    auto s = stmt("SELECT impu FROM impus WHERE impi = ?1 ORDER BY position");
    s.text(1, impi);
    while (s.step("read IMPUs")) out.push_back(s.col_text(0));
    return out;
  }

  void check_registration(const Registration& r) {
    if (r.impu.empty() || r.contact.empty() || r.impi.empty())
      throw Error("store '" + what_ + "': a registration needs an IMPU, an IMPI and a contact");
    for (auto& p : r.path)
      if (p.empty() || has_line_break(p)) throw Error("store '" + what_ + "': bad Path value in a registration");
  }

  void write_registration(const Registration& r) {
    auto s = stmt(
        "INSERT INTO registrations (impu, contact, impi, path, instance_id, reg_id, expires_unix, call_id, cseq, "
        "received, updated_unix) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
        "ON CONFLICT (impu, contact) DO UPDATE SET impi = excluded.impi, path = excluded.path, "
        "instance_id = excluded.instance_id, reg_id = excluded.reg_id, expires_unix = excluded.expires_unix, "
        "call_id = excluded.call_id, cseq = excluded.cseq, received = excluded.received, "
        "updated_unix = excluded.updated_unix");
    s.text(1, r.impu).text(2, r.contact).text(3, r.impi).text(4, join_lines(r.path)).text(5, r.instance_id);
    s.int64(6, r.reg_id).int64(7, r.expires_unix).text(8, r.call_id).int64(9, r.cseq).text(10, r.received);
    s.int64(11, r.updated_unix);
    s.step("write registration");
  }

  Registration read_registration(Stmt& s) {
    Registration r;
    r.impu = s.col_text(0);
    r.contact = s.col_text(1);
    r.impi = s.col_text(2);
    r.path = split_lines(s.col_text(3));
    r.instance_id = s.col_text(4);
    r.reg_id = uint32_t(s.col_int64(5));
    r.expires_unix = s.col_int64(6);
    r.call_id = s.col_text(7);
    r.cseq = uint32_t(s.col_int64(8));
    r.received = s.col_text(9);
    r.updated_unix = s.col_int64(10);
    return r;
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
    // Created by us, owner-only: the file holds TURN keys, HA1s and AKA keys (RFC 8489 keys authenticate like passwords).
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
