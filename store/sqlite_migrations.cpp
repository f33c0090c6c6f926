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
    {3, "ims_core",
     // The IMS core: HSS subscriptions (TS 23.228 §4.3.3, TS 29.228), the location service
     // (RFC 3261 §10.3) persisted so registrations survive restarts, and the Solution 1
     // accountability records of the eP-CSCF (TS 33.203 X.5.2). No plaintext password anywhere:
     // the Digest secret is HA1 (RFC 7616 §3.4.2), which is password-equivalent for its realm only.
     R"sql(
CREATE TABLE subscribers (
  impi         TEXT PRIMARY KEY,
  realm        TEXT NOT NULL,
  ha1_md5      TEXT,                -- hex MD5(impi:realm:password); NULL: no Digest credential
  ha1_sha256   TEXT,                -- hex SHA-256(impi:realm:password) (RFC 8760)
  aka_k        BLOB CHECK (aka_k IS NULL OR length(aka_k) = 16),
  aka_opc      BLOB CHECK (aka_opc IS NULL OR length(aka_opc) = 16),
  aka_amf      BLOB NOT NULL DEFAULT x'8000' CHECK (length(aka_amf) = 2),
  sqn          INTEGER NOT NULL DEFAULT 0 CHECK (sqn >= 0 AND sqn <= 281474976710655),  -- SQN_HE, 48 bits
  allowed_wwsf TEXT,                -- WWSF ids, one per line, that may register it with TNA; NULL: none
  pool_owner   TEXT,                -- WWSF id whose pool holds this subscription; NULL: none
  created_unix INTEGER NOT NULL,
  CHECK ((aka_k IS NULL) = (aka_opc IS NULL)),
  CHECK (ha1_md5 IS NOT NULL OR ha1_sha256 IS NOT NULL OR aka_k IS NOT NULL)
) WITHOUT ROWID;
CREATE TABLE impus (
  impu     TEXT PRIMARY KEY,
  impi     TEXT NOT NULL REFERENCES subscribers (impi) ON DELETE CASCADE,
  position INTEGER NOT NULL         -- order within the subscription; 0 is the default IMPU
) WITHOUT ROWID;
CREATE INDEX impus_by_impi ON impus (impi, position);
CREATE TABLE registrations (
  impu         TEXT NOT NULL,
  contact      TEXT NOT NULL,
  impi         TEXT NOT NULL REFERENCES subscribers (impi) ON DELETE CASCADE,
  path         TEXT NOT NULL DEFAULT '',  -- Path values (name-addr), one per line, in order
  instance_id  TEXT NOT NULL DEFAULT '',  -- +sip.instance (RFC 5626)
  reg_id       INTEGER NOT NULL DEFAULT 0,
  expires_unix INTEGER NOT NULL,
  call_id      TEXT NOT NULL,
  cseq         INTEGER NOT NULL,
  received     TEXT NOT NULL DEFAULT '',  -- hop the REGISTER came from: transport, address, flow
  updated_unix INTEGER NOT NULL,
  PRIMARY KEY (impu, contact)
) WITHOUT ROWID;
CREATE INDEX registrations_by_expiry ON registrations (expires_unix);
CREATE INDEX registrations_by_impi ON registrations (impi);
CREATE TABLE turn_credentials (
  tid          TEXT PRIMARY KEY,
  impu         TEXT NOT NULL,
  impi         TEXT,
  expires_unix INTEGER NOT NULL,
  created_unix INTEGER NOT NULL,
  origin       TEXT
);
CREATE INDEX turn_credentials_by_expiry ON turn_credentials (expires_unix);
INSERT INTO generations (name, value) VALUES ('subscribers', 0);
INSERT INTO generations (name, value) VALUES ('registrations', 0);
)sql"},
    {4, "tokens_and_wwsfs",
     // Issue 4: WWSFs and what the WAF/WWSF keep (TR 33.871 scenarios 2 and 3), Approach 2 pushed
     // TURN credentials (an expiry on turn_users; 0 keeps existing users valid forever) and their
     // revocations. No foreign key to wwsfs: web accounts, clients and links outlive an operator's
     // `wwsf remove` harmlessly, since every reader refuses a WWSF the store does not know.
     R"sql(
ALTER TABLE turn_users ADD COLUMN expires_unix INTEGER NOT NULL DEFAULT 0;
CREATE INDEX turn_users_by_expiry ON turn_users (expires_unix) WHERE expires_unix > 0;
CREATE TABLE turn_revocations (
  username     TEXT PRIMARY KEY,
  until_unix   INTEGER NOT NULL,
  created_unix INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE wwsfs (
  id           TEXT PRIMARY KEY,           -- host name: the `wwsf` claim and `authorization-entity`
  pool_pattern TEXT NOT NULL DEFAULT '',   -- IMPI pattern of its pool (NOTE 6); '': no pool
  blocked      INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
  block_reason TEXT NOT NULL DEFAULT '',
  created_unix INTEGER NOT NULL,
  changed_unix INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX subscribers_by_pool_owner ON subscribers (pool_owner) WHERE pool_owner IS NOT NULL;
CREATE TABLE oauth_clients (
  client_id       TEXT PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (kind IN ('public', 'wwsf')),
  redirect_uris   TEXT NOT NULL DEFAULT '',  -- one per line
  wwsf_id         TEXT NOT NULL DEFAULT '',
  cert_sha256_hex TEXT NOT NULL DEFAULT '',  -- RFC 8705 certificate thumbprint (hex)
  created_unix    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE revoked_tokens (              -- RFC 7009, kept until the token expires anyway
  jti          TEXT PRIMARY KEY,
  expires_unix INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_unix);
CREATE TABLE web_accounts (
  wwsf_id       TEXT NOT NULL,
  username      TEXT NOT NULL,
  password_hash TEXT NOT NULL,             -- Argon2id encoded (crypto_pwhash_str), never the password
  created_unix  INTEGER NOT NULL,
  PRIMARY KEY (wwsf_id, username)
) WITHOUT ROWID;
CREATE TABLE identity_links (
  wwsf_id        TEXT NOT NULL,
  username       TEXT NOT NULL,
  impi           TEXT NOT NULL,
  confirmed      INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1)),
  created_unix   INTEGER NOT NULL,
  confirmed_unix INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (wwsf_id, username, impi)
) WITHOUT ROWID;
-- One row per IMPI: the primary key is what guarantees a subscription is never lent to two guests.
CREATE TABLE pool_assignments (
  impi          TEXT PRIMARY KEY REFERENCES subscribers (impi) ON DELETE CASCADE,
  wwsf_id       TEXT NOT NULL,
  guest         TEXT NOT NULL,
  assigned_unix INTEGER NOT NULL,
  expires_unix  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX pool_assignments_by_guest ON pool_assignments (wwsf_id, guest);
INSERT INTO generations (name, value) VALUES ('turn_revocations', 0);
INSERT INTO generations (name, value) VALUES ('wwsfs', 0);
)sql"},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace store::sqlite
