// The persistent store: one interface, one back end per database (architecture.md "Storage").
// SQLite (embedded default, WAL mode, one file) is built; PostgreSQL is planned, so nothing here
// names a back end's types.
//
// Content so far: static TURN users for the long-term credential mechanism (RFC 8489 §9.2); the
// HSS data of the IMS core (subscriptions: IMPI, IMPUs, Digest HA1, AKA K/OPc/AMF/SQN; TS 23.228
// §4.3.3, TS 29.228); registrations (the location service, so they survive restarts); and the
// Solution 1 accountability records Tid -> IMPU (TS 33.203 X.5.2, protocols.md).
// Issue 4 adds the WWSFs (block state, pools), the WAF's OAuth clients and revoked token ids, the
// WWSF's web accounts, identity links and pool assignments, and Approach 2 TURN revocations.
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
  int64_t expires_unix = 0;  // 0: never (admin users); Approach 2 pushed credentials expire (protocols.md)

  friend bool operator==(const TurnUser&, const TurnUser&) = default;
};

// Approach 2 revocation (protocols.md `POST /v1/revocations`): credentials under `username` are refused
// until `until_unix`, whether pushed, static or Solution 1 (which the TURN server otherwise verifies
// without state). Shared by every TURN node using the store.
struct TurnRevocation {
  std::string username;
  int64_t until_unix = 0;
  int64_t created_unix = 0;

  friend bool operator==(const TurnRevocation&, const TurnRevocation&) = default;
};

// A WWSF as the operator knows it (TR 33.871 REQ 2.1-2.3, 3.2; protocols.md): its identity (host
// name, the `wwsf` claim and `authorization-entity`), the IMPI pattern of its pool (NOTE 6, e.g.
// "*@socialnet.example"; empty: no pool) and whether it is blocked (REQ 2.2). Read by the WAF,
// the eP-CSCF and the core alike.
struct Wwsf {
  std::string id;
  std::string pool_pattern;
  bool blocked = false;
  std::string block_reason;  // operator's note, shown by `admin wwsf list`; may be empty
  int64_t created_unix = 0;
  int64_t changed_unix = 0;

  friend bool operator==(const Wwsf&, const Wwsf&) = default;
};

// An OAuth 2.0 client of the WAF (RFC 6749 §2). Public clients (the WIC app, the CLI) have redirect
// URIs and no secret (PKCE, RFC 7636); a WWSF client authenticates over W4 with mTLS (RFC 8705:
// the SHA-256 of its certificate, hex) and acts for the WWSF `wwsf_id`.
struct OAuthClient {
  std::string client_id;
  std::string kind;  // "public" or "wwsf"
  std::vector<std::string> redirect_uris;
  std::string wwsf_id;          // kind "wwsf": the WWSF it acts for
  std::string cert_sha256_hex;  // kind "wwsf": tls_client_certificate_bound (RFC 8705 §2.2)
  int64_t created_unix = 0;

  friend bool operator==(const OAuthClient&, const OAuthClient&) = default;
};

// A WWSF web account (scenario 2). The password is stored only as an Argon2id encoded hash
// (libsodium crypto_pwhash_str), never in the clear.
struct WebAccount {
  std::string wwsf_id;
  std::string username;
  std::string password_hash;
  int64_t created_unix = 0;

  friend bool operator==(const WebAccount&, const WebAccount&) = default;
};

// Identity linking (TR 33.871 Annex C, M2): the web user asked to link an IMPI; the IMS side
// confirmed it (the subscriber proved its IMS credentials). Only confirmed links yield tokens.
struct IdentityLink {
  std::string wwsf_id;
  std::string username;  // the web account
  std::string impi;
  bool confirmed = false;
  int64_t created_unix = 0;
  int64_t confirmed_unix = 0;

  friend bool operator==(const IdentityLink&, const IdentityLink&) = default;
};

// Scenario 3: a subscription of a WWSF's pool lent to an anonymous guest until `expires_unix`.
struct PoolAssignment {
  std::string impi;
  std::string wwsf_id;
  std::string guest;  // the WWSF's opaque guest/session id
  int64_t assigned_unix = 0;
  int64_t expires_unix = 0;

  friend bool operator==(const PoolAssignment&, const PoolAssignment&) = default;
};

// An IMS subscription as the HSS holds it. Secrets: the Digest secret is stored only as HA1
// (password-equivalent for its realm, never the password); K and OPc as given. Both make the
// database file sensitive: it is created readable by its owner only.
struct Subscriber {
  std::string impi;   // private user identity, e.g. "alice@ims.example.org"
  std::string realm;  // the realm HA1 was computed for (the home domain)
  std::string ha1_md5;     // hex MD5(impi ":" realm ":" password); empty: no Digest credential
  std::string ha1_sha256;  // hex SHA-256(impi ":" realm ":" password) (RFC 7616/8760); empty: none
  std::optional<std::array<uint8_t, 16>> aka_k;    // with aka_opc: IMS AKA (Milenage) credentials
  std::optional<std::array<uint8_t, 16>> aka_opc;
  std::array<uint8_t, 2> aka_amf{0x80, 0x00};
  uint64_t sqn = 0;  // SQN_HE (48 bits, TS 33.102 Annex C), advanced with advance_sqn()
  std::vector<std::string> impus;         // public identities, in order (the first is the default)
  std::vector<std::string> allowed_wwsf;  // WWSFs that may register it with TNA (scenario 2); empty: none
  std::string pool_owner;                 // WWSF whose pool it belongs to (scenario 3); empty: none
  int64_t created_unix = 0;

  bool has_digest() const { return !ha1_md5.empty() || !ha1_sha256.empty(); }
  bool has_aka() const { return aka_k.has_value() && aka_opc.has_value(); }
  friend bool operator==(const Subscriber&, const Subscriber&) = default;
};

// One binding of the location service (RFC 3261 §10.3, RFC 3327 Path, RFC 5626 instance/reg-id).
struct Registration {
  std::string impu;     // the registered public identity (canonical AOR)
  std::string impi;     // the private identity that authenticated it
  std::string contact;  // Contact URI
  std::vector<std::string> path;  // Path header values (name-addr), in order; the first is the eP-CSCF
  std::string instance_id;        // +sip.instance value, e.g. "<urn:uuid:...>"; empty when absent
  uint32_t reg_id = 0;            // reg-id; 0 when absent
  int64_t expires_unix = 0;
  std::string call_id;
  uint32_t cseq = 0;
  std::string received;  // the hop the REGISTER arrived from, as text (transport, address, flow)
  int64_t updated_unix = 0;

  friend bool operator==(const Registration&, const Registration&) = default;
};

// Solution 1 accountability: which public identity a TURN credential was issued to (protocols.md;
// the TURN server never learns the IMPU).
struct TurnCredentialRecord {
  std::string tid;
  std::string impu;
  std::string impi;  // empty when unknown
  int64_t expires_unix = 0;
  int64_t created_unix = 0;
  std::string origin;  // who issued it / over what (e.g. the eP-CSCF node, the WebSocket Origin); may be empty

  friend bool operator==(const TurnCredentialRecord&, const TurnCredentialRecord&) = default;
};

// One change to the location service, for Store::apply_registrations().
struct RegistrationChange {
  enum class Kind { Put, Remove, RemoveAll, Expire };
  Kind kind = Kind::Put;
  Registration reg;      // Put: the binding; Remove: its impu and contact; RemoveAll: its impu
  int64_t now_unix = 0;  // Expire: bindings with expires_unix <= now_unix
};

// The registrations change counter around one apply_registrations(): `before` equal to what the
// caller last saw means nobody else changed the registrations in between.
struct GenerationStep {
  uint64_t before = 0;
  uint64_t after = 0;
  size_t skipped = 0;  // Puts whose subscriber was gone
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
  // Removes users with 0 < expires_unix <= now_unix (expired pushed credentials); returns how many.
  virtual size_t expire_turn_users(int64_t now_unix) = 0;

  // ---- TURN revocations (Approach 2) ----
  // Insert, or extend/replace the revocation of the same username.
  virtual void put_turn_revocation(const TurnRevocation& r) = 0;
  // Revocations still in force (until_unix > now_unix), sorted by username.
  virtual std::vector<TurnRevocation> list_turn_revocations(int64_t now_unix) = 0;
  // Removes revocations with until_unix <= now_unix; returns how many.
  virtual size_t expire_turn_revocations(int64_t now_unix) = 0;
  // Changes whenever any process changes the revocations.
  virtual uint64_t turn_revocations_generation() = 0;

  // ---- WWSFs (REQ 2.1-2.3, 3.2) ----
  // Insert, or replace the WWSF with the same id (blocked state included). Throws Error on an empty id.
  virtual void put_wwsf(const Wwsf& w) = 0;
  virtual std::optional<Wwsf> find_wwsf(const std::string& id) = 0;
  virtual std::vector<Wwsf> list_wwsfs() = 0;  // sorted by id
  // False when there is no such WWSF.
  virtual bool set_wwsf_blocked(const std::string& id, bool blocked, const std::string& reason, int64_t now_unix) = 0;
  virtual bool remove_wwsf(const std::string& id) = 0;
  // Changes whenever any process changes the WWSFs: servers poll it and reload list_wwsfs().
  virtual uint64_t wwsfs_generation() = 0;
  // Subscriptions whose pool_owner is `wwsf_id`, sorted by IMPI.
  virtual std::vector<Subscriber> pool_subscribers(const std::string& wwsf_id) = 0;
  // Replaces the subscriber's allowed-WWSF list. False when there is no such subscriber.
  virtual bool set_allowed_wwsf(const std::string& impi, const std::vector<std::string>& wwsf_ids) = 0;

  // ---- WAF: OAuth clients and revoked tokens ----
  virtual void put_oauth_client(const OAuthClient& c) = 0;  // insert or replace; Error on empty id/kind
  virtual std::optional<OAuthClient> find_oauth_client(const std::string& client_id) = 0;
  virtual std::vector<OAuthClient> list_oauth_clients() = 0;
  virtual bool remove_oauth_client(const std::string& client_id) = 0;
  // RFC 7009: a revoked token's jti, kept until the token would have expired anyway.
  virtual void revoke_token(const std::string& jti, int64_t expires_unix) = 0;
  virtual bool token_revoked(const std::string& jti) = 0;
  virtual size_t expire_revoked_tokens(int64_t now_unix) = 0;

  // ---- WWSF: web accounts, identity links, pool assignments ----
  // Insert; false (nothing changed) when (wwsf_id, username) exists.
  virtual bool add_web_account(const WebAccount& a) = 0;
  virtual std::optional<WebAccount> find_web_account(const std::string& wwsf_id, const std::string& username) = 0;
  virtual void put_identity_link(const IdentityLink& l) = 0;  // insert or replace (wwsf_id, username, impi)
  // Links of one web account, sorted by IMPI.
  virtual std::vector<IdentityLink> identity_links(const std::string& wwsf_id, const std::string& username) = 0;
  virtual bool remove_identity_link(const std::string& wwsf_id, const std::string& username, const std::string& impi) = 0;
  // In one transaction: the first pool subscription of `wwsf_id` (by IMPI) that is not assigned or
  // whose assignment expired, assigned to `guest` until `expires_unix`; nullopt when the pool is exhausted.
  // A guest that still holds a live assignment of this pool gets that one back, extended, not a second.
  // Throws Error on an empty wwsf_id or guest, or expires_unix <= now_unix.
  virtual std::optional<PoolAssignment> assign_pool_subscriber(const std::string& wwsf_id, const std::string& guest,
                                                              int64_t now_unix, int64_t expires_unix) = 0;
  // The live assignment of an IMPI (expires_unix > now_unix), if any.
  virtual std::optional<PoolAssignment> find_pool_assignment(const std::string& impi, int64_t now_unix) = 0;
  // Ends the assignment of `impi` held by `guest`; false when it held none.
  virtual bool release_pool_subscriber(const std::string& impi, const std::string& guest) = 0;

  // ---- HSS ----
  // Insert, or replace the subscriber with the same IMPI, with its IMPUs. Throws Error when the IMPI
  // or realm is empty, there is no credential or no IMPU, or an IMPU belongs to another IMPI.
  virtual void put_subscriber(const Subscriber& s) = 0;
  virtual std::optional<Subscriber> find_subscriber(const std::string& impi) = 0;
  // Sorted by IMPI.
  virtual std::vector<Subscriber> list_subscribers() = 0;
  virtual size_t count_subscribers() = 0;
  // Removes the subscriber, its IMPUs and its registrations. False when there was none.
  virtual bool remove_subscriber(const std::string& impi) = 0;
  // The IMPI an IMPU belongs to.
  virtual std::optional<std::string> impi_for_impu(const std::string& impu) = 0;
  // SQN_HE += step in one transaction (concurrent callers get distinct values); returns the new
  // SQN. Throws Error when the subscriber does not exist or the SQN would exceed 2^48 - 1.
  virtual uint64_t advance_sqn(const std::string& impi, uint64_t step) = 0;
  // After a resynchronisation (TS 33.102 §6.3.5). Throws Error when the subscriber does not exist.
  virtual void set_sqn(const std::string& impi, uint64_t sqn) = 0;
  // Changes whenever a subscriber is added, replaced or removed (not on SQN changes).
  virtual uint64_t subscribers_generation() = 0;

  // ---- Registrations ----
  // Insert, or replace the binding with the same (impu, contact).
  virtual void put_registration(const Registration& r) = 0;
  virtual bool remove_registration(const std::string& impu, const std::string& contact) = 0;
  // Every binding of `impu`; returns how many were removed.
  virtual size_t remove_registrations(const std::string& impu) = 0;
  // Bindings of one IMPU, and all bindings, ordered by (impu, contact).
  virtual std::vector<Registration> registrations_for(const std::string& impu) = 0;
  virtual std::vector<Registration> list_registrations() = 0;
  // Removes bindings with expires_unix <= now_unix; returns how many.
  virtual size_t expire_registrations(int64_t now_unix) = 0;
  // Changes whenever any process changes the registrations, in the same transaction.
  virtual uint64_t registrations_generation() = 0;
  // The changes in order, in one transaction that moves the generation once: how the registrar
  // writes behind. A Put whose subscriber is gone (removed meanwhile) is skipped, not an error.
  virtual GenerationStep apply_registrations(const std::vector<RegistrationChange>& changes) = 0;

  // ---- Solution 1 accountability ----
  // Insert, or replace the record with the same Tid.
  virtual void put_turn_credential(const TurnCredentialRecord& r) = 0;
  virtual std::optional<TurnCredentialRecord> find_turn_credential(const std::string& tid) = 0;
  // Removes records with expires_unix <= now_unix; returns how many.
  virtual size_t expire_turn_credentials(int64_t now_unix) = 0;

  // A secret this deployment generated for itself: the stored value, or `make()`'s result stored
  // under `name` on first use. Concurrent first uses by several processes agree on one value.
  virtual std::string local_secret(const std::string& name, const std::function<std::string()>& make) = 0;
  // The stored value of `name`, without making one when there is none.
  virtual std::optional<std::string> find_local_secret(const std::string& name) = 0;
};

// Derives the keys of RFC 8489 §9.2.2 from the password. OpaqueString (RFC 8265) is the identity on
// printable ASCII; other text is taken as given (UTF-8, expected in NFC). Throws Error on an empty
// username, realm or password, a control character, or a username of 509 bytes or more / realm of
// 763 or more (RFC 8489 §14.3, §14.9).
TurnUser make_turn_user(const std::string& username, const std::string& realm, const std::string& password,
                        int64_t now_unix);

// A subscriber with the Digest secret of `password` stored as HA1 for MD5 and SHA-256 (RFC 7616
// §3.4.2, RFC 8760), for `realm`; no AKA credentials. Throws Error on an empty IMPI, realm or
// password, control characters, or an empty IMPU list.
Subscriber make_subscriber(const std::string& impi, const std::string& realm, const std::string& password,
                           const std::vector<std::string>& impus, int64_t now_unix);

}  // namespace store
