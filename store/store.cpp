#include "store/store.hpp"

#include "crypto/digest.hpp"
#include "crypto/hash.hpp"
#include "store/sqlite_store.hpp"

namespace store {
namespace {

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

// postgresql://user:secret@host/db → postgresql://user:***@host/db, so messages never carry a password.
std::string redact(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  auto auth_begin = scheme_end + 3;
  auto auth_end = url.find_first_of("/?#", auth_begin);
  auto at = url.rfind('@', auth_end == std::string::npos ? url.size() : auth_end);
  if (at == std::string::npos || at < auth_begin) return url;
  auto colon = url.find(':', auth_begin);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

void check_text(const std::string& v, const char* what, size_t max_bytes) {
  if (v.empty()) throw Error(std::string("TURN user ") + what + " must not be empty");
  if (v.size() >= max_bytes)
    throw Error(std::string("TURN user ") + what + " must be shorter than " + std::to_string(max_bytes) + " bytes");
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f)  // OpaqueString (RFC 8265 §4.2) disallows control characters
      throw Error(std::string("TURN user ") + what + " must not contain control characters");
}

}  // namespace

Store::~Store() = default;

std::unique_ptr<Store> Store::open(const std::string& url) {
  if (url == "sqlite::memory:") return sqlite::open(":memory:", url);
  if (starts_with(url, "sqlite://")) {
    std::string path = url.substr(9);
    if (path.empty() || path.find_first_of("?#") != std::string::npos)
      throw Error("store URL '" + url + "' has no usable file path: write sqlite://./relative/path.db or "
                  "sqlite:///absolute/path.db");
    return sqlite::open(path, url);
  }
  if (starts_with(url, "postgresql://") || starts_with(url, "postgres://"))
    throw Error("store '" + redact(url) + "': the PostgreSQL back end is not built yet; use a sqlite:// URL");
  throw Error("unsupported store URL '" + redact(url) +
              "': expected sqlite://PATH, sqlite:///ABSOLUTE/PATH, sqlite::memory: or postgresql://...");
}

TurnUser make_turn_user(const std::string& username, const std::string& realm, const std::string& password,
                        int64_t now_unix) {
  check_text(username, "name", 509);  // RFC 8489 §14.3: USERNAME fewer than 509 bytes
  check_text(realm, "realm", 763);    // RFC 8489 §14.9: REALM fewer than 763 bytes
  check_text(password, "password", 1024);
  TurnUser u;
  u.username = username;
  u.realm = realm;
  u.created_unix = now_unix;
  // RFC 8489 §9.2.2: key = H(username ":" OpaqueString(realm) ":" OpaqueString(password)).
  auto v = [](std::string_view s) { return crypto::view(s); };
  u.key_md5 = crypto::md5({v(username), v(":"), v(realm), v(":"), v(password)});
  u.key_sha256 = crypto::sha256({v(username), v(":"), v(realm), v(":"), v(password)});
  return u;
}

Subscriber make_subscriber(const std::string& impi, const std::string& realm, const std::string& password,
                           const std::vector<std::string>& impus, int64_t now_unix) {
  auto check = [](const std::string& v, const char* what) {
    if (v.empty()) throw Error(std::string("subscriber ") + what + " must not be empty");
    if (v.size() > 1024) throw Error(std::string("subscriber ") + what + " is longer than 1024 bytes");
    for (unsigned char c : v)
      if (c < 0x20 || c == 0x7f) throw Error(std::string("subscriber ") + what + " must not contain control characters");
  };
  check(impi, "IMPI");
  check(realm, "realm");
  check(password, "password");
  if (impus.empty()) throw Error("a subscriber needs at least one IMPU");
  for (auto& i : impus) check(i, "IMPU");
  Subscriber s;
  s.impi = impi;
  s.realm = realm;
  s.impus = impus;
  s.created_unix = now_unix;
  s.ha1_md5 = std::string(crypto::digest_ha1(crypto::DigestAlgorithm::Md5, impi, realm, crypto::view(password)).view());
  s.ha1_sha256 =
      std::string(crypto::digest_ha1(crypto::DigestAlgorithm::Sha256, impi, realm, crypto::view(password)).view());
  return s;
}

}  // namespace store
