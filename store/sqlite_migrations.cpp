// The SQLite schema, as ordered migration steps (see sqlite_store.hpp "Migrations").
// Append new steps at the end with the next version number; never edit a step that has shipped.
#include "store/sqlite_store.hpp"

namespace store::sqlite {
namespace {

constexpr Migration kMigrations[] = {
    {1, "turn_users",
     // `generations`: one counter per kind of data, bumped in the same transaction as each change so
     // other processes can poll it (Store::turn_users_generation).
     R"sql(
CREATE TABLE generations (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
-- Static TURN users, RFC 8489 §9.2.2 keys; the password itself is never stored.
CREATE TABLE turn_users (
  username     TEXT PRIMARY KEY,
  realm        TEXT NOT NULL,
  key_md5      BLOB NOT NULL CHECK (length(key_md5) = 16),
  key_sha256   BLOB NOT NULL CHECK (length(key_sha256) = 32),
  created_unix INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO generations (name, value) VALUES ('turn_users', 0);
)sql"},
    {2, "local_secrets",
     // Keys a self-contained deployment generates for itself on first start (e.g. the Solution 1
     // key Km shared by its eP-CSCF and TURN server), so restarts keep issued credentials valid.
     R"sql(
CREATE TABLE local_secrets (
  name         TEXT PRIMARY KEY,
  value        TEXT NOT NULL,
  created_unix INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace store::sqlite
