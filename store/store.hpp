// The persistent store: one interface, one back end per database (architecture.md "Storage").
// SQLite (embedded default, WAL mode, one file) is built; PostgreSQL is planned, so nothing here
// names a back end's types.
//
// Content so far: static TURN users for the long-term credential mechanism (RFC 8489 §9.2).
//
// Thread safety: a Store object may be used by one thread at a time (give each thread its own
// object, or serialise calls). Several Store objects, in one process or several (the admin CLI while
// a server runs), may use the same database at once: writes are transactions, and a writer that
// finds the database locked waits (busy timeout) instead of failing.
//
// Errors: every operation throws store::Error (a std::runtime_error whose what() is one sentence
// naming the store and the cause); the store is never left half-updated.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace store {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A static TURN user. The keys are what MESSAGE-INTEGRITY(-SHA256) is computed with (RFC 8489
// §9.2.2); the plaintext password is never stored. Anyone holding a key can authenticate as the
// user, so the database file is created readable by its owner only.
struct TurnUser {
  std::string username;
  std::string realm;
  std::array<uint8_t, 16> key_md5{};     // MD5(username ":" realm ":" password)
  std::array<uint8_t, 32> key_sha256{};  // SHA-256(username ":" realm ":" password)
  int64_t created_unix = 0;

  friend bool operator==(const TurnUser&, const TurnUser&) = default;
};

class Store {
 public:
  // "sqlite://./var/webims.db" (relative to the current directory), "sqlite:///abs/path.db",
  // "sqlite::memory:" (private to this object, for tests). The file and its parent directories are
  // created when missing, and the schema is brought up to date (see sqlite_store.hpp "Migrations").
  // "postgresql://..." is recognised but not built yet. Throws Error.
  static std::unique_ptr<Store> open(const std::string& url);
  virtual ~Store();

  // Insert, or replace the user with the same username.
  virtual void put_turn_user(const TurnUser& u) = 0;
  // False when there was no such user.
  virtual bool remove_turn_user(const std::string& username) = 0;
  // Sorted by username.
  virtual std::vector<TurnUser> list_turn_users() = 0;
  virtual std::optional<TurnUser> find_turn_user(const std::string& username) = 0;
  // Changes (increases) whenever any process changes the TURN users, in the same transaction as the
  // change: a running server polls it cheaply and reloads list_turn_users() when it moved.
  virtual uint64_t turn_users_generation() = 0;

  // A secret this deployment generated for itself: the stored value, or `make()`'s result stored
  // under `name` on first use. Concurrent first uses by several processes agree on one value.
  virtual std::string local_secret(const std::string& name, const std::function<std::string()>& make) = 0;
};

// Derives the keys of RFC 8489 §9.2.2 from the password. OpaqueString (RFC 8265) is the identity on
// printable ASCII; other text is taken as given (UTF-8, expected in NFC). Throws Error on an empty
// username, realm or password, a control character, or a username of 509 bytes or more / realm of
// 763 or more (RFC 8489 §14.3, §14.9).
TurnUser make_turn_user(const std::string& username, const std::string& realm, const std::string& password,
                        int64_t now_unix);

}  // namespace store
