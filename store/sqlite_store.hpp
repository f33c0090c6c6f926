// SQLite back end of store::Store. Internal: only store.cpp and tests include this file.
//
// One file in WAL mode (readers never block the writer), synchronous=NORMAL (durable across process
// crashes; a power loss may drop the last transactions, never corrupt), busy timeout so a writer
// waits for another process instead of failing. Writes use BEGIN IMMEDIATE: the write lock is taken
// up front, so two writers never deadlock upgrading a read lock (where SQLite gives up at once).
//
// Migrations: the schema is a list of numbered steps. `schema_version` holds one row per applied
// step. At open, in one IMMEDIATE transaction, the steps above the highest applied version run in
// order and are recorded; any failure rolls all of them back. A database whose version is above the
// newest known step (written by a newer webims) is refused rather than misread. Later components add
// tables by appending a step to sqlite_migrations() (and the same step to the PostgreSQL list once it
// exists) — never by editing an applied one.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "store/store.hpp"

struct sqlite3;

namespace store::sqlite {

struct Migration {
  int version;        // 1, 2, 3... strictly increasing
  const char* name;   // recorded with the version, for operators reading the table
  const char* sql;    // one or more statements
};

// The schema of this build, in order.
std::span<const Migration> migrations();

// Applies the missing steps of `list` to an open connection (see above). Throws Error; `what` names
// the database for messages.
void migrate(sqlite3* db, std::span<const Migration> list, const std::string& what);

// Opens `path` (a file path, or ":memory:"); `url` is used in messages.
std::unique_ptr<Store> open(const std::string& path, const std::string& url);

}  // namespace store::sqlite
