// `webims admin`: provisioning of the store. Writes go through the same Store the servers read,
// so a running server sees them within seconds.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "commands.hpp"
#include "config.hpp"
#include "base/clock.hpp"
#include "base/encoding.hpp"
#include "core/logic/identity.hpp"
#include "crypto/hash.hpp"
#include "crypto/random.hpp"
#include "local_secrets.hpp"
#include "net/tls.hpp"
#include "store/store.hpp"
#include "turn/logic/credentials.hpp"

namespace cli {

namespace {

const char* kHelp = R"(usage: webims admin [--config FILE] <object> <action> ...

  subscriber add --impi IMPI --impu IMPU [--impu IMPU...]
                 (--password PW | --password-file FILE | --password -)
                 [--aka-k HEX --aka-opc HEX [--aka-amf HEX]] [--allow-wwsf ID...] [--pool-owner ID]
                     IMS subscription in the HSS for [core] home_domain: the Digest secret is
                     stored as HA1 (MD5 and SHA-256), never the password; with K and OPc (Milenage)
                     IMS AKA too (the password may then be left out); adding an existing IMPI
                     replaces it, keeping its SQN
  subscriber list    one line per subscription: IMPI, realm, credentials, IMPUs, creation time
  subscriber show IMPI
                     the subscription and its registrations (no secrets)
  subscriber remove IMPI
                     with its IMPUs and registrations
  subscriber allow-wwsf IMPI (ID... | --none)
                     replace the WWSFs that may register the subscription with TNA (scenario 2)
  wwsf add ID [--pool-pattern '*@socialnet.example']
                     a WWSF known to the operator (ID: its host name, the token's `wwsf` claim and
                     the `authorization-entity` of TNA); with a pool (scenario 3) of IMPIs matching
                     the pattern; adding an existing WWSF changes its pattern, keeping its block state
  wwsf list          one line per WWSF: ID, pool pattern, active or blocked (reason), last change
  wwsf block ID [--reason TEXT]
                     refuse its tokens and registrations from now on (REQ 2.2)
  wwsf unblock ID
  wwsf remove ID     forget it: whatever it authorized is refused as unknown
  wwsf pool ID       the subscriptions of its pool (`subscriber add --pool-owner ID`) and the
                     guest each is lent to now
  oauth-client add ID --kind public --redirect-uri URI [--redirect-uri URI...]
                     an OAuth client of the WAF without secret (PKCE), e.g. the WIC app
  oauth-client add ID --kind wwsf --wwsf WWSF-ID --cert-file PEM
                     a WWSF's client over W4, authenticated by its TLS client certificate
                     (RFC 8705: the SHA-256 of the certificate's DER is stored, hex)
  oauth-client list  one line per client: ID, kind, redirect URIs or WWSF and certificate hash
  oauth-client remove ID
  turn-user add USER (--password PW | --password-file FILE | --password -)
                     static TURN user of the long-term credential mechanism; only the
                     derived keys MD5/SHA-256(USER:realm:PW) are stored, for [turn] realm
  turn-user list     one line per user: name, realm, creation time
  turn-user remove USER
  turn-credential [--lifetime 24h] [--coturn-order]
                     mint a Solution 1 credential (TS 33.203 X.5.2) from [[turn.secrets]]'s first
                     key, or from the key `webims all` generated: USERNAME "Tid:Texp" and
                     password base64(HMAC(Km, USERNAME)), as the eP-CSCF hands them to WICs

The store is [store] url (default sqlite://./var/webims.db).
)";

std::string read_password(std::vector<std::string>& args) {
  auto pw = take_option(args, "--password");
  auto file = take_option(args, "--password-file");
  if (pw && file) throw std::runtime_error("give --password or --password-file, not both");
  if (file) {
    FILE* f = std::fopen(file->c_str(), "r");
    if (!f) throw std::runtime_error("cannot read " + *file);
    char buf[1024];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    std::string s(buf, n);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  if (pw && *pw == "-") {
    std::string s;
    std::getline(std::cin, s);
    return s;
  }
  if (!pw) throw std::runtime_error("a password is needed: --password PW, --password-file FILE or --password - (stdin)");
  return *pw;
}

std::string utc(int64_t unix_s) {
  char when[32];
  time_t t = time_t(unix_s);
  tm tmv;
  gmtime_r(&t, &tmv);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  return when;
}

std::array<uint8_t, 16> hex16(const std::string& what, const std::string& text) {
  auto b = base::hex_decode(text);
  if (!b || b->size() != 16) throw std::runtime_error(what + " must be 32 hex digits (16 octets)");
  std::array<uint8_t, 16> out;
  std::copy(b->begin(), b->end(), out.begin());
  return out;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::vector<std::string> take_all(std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> out;
  while (auto v = take_option(args, name)) out.push_back(*v);
  return out;
}

void no_more(const std::vector<std::string>& args) {
  if (!args.empty()) throw std::runtime_error("unexpected argument '" + args[0] + "'");
}

std::string next_arg(std::vector<std::string>& args, const std::string& usage) {
  if (args.empty() || args[0].rfind("--", 0) == 0) throw std::runtime_error("usage: webims admin " + usage);
  std::string v = args[0];
  args.erase(args.begin());
  return v;
}

// A WWSF identity is a host name (optionally with a port): it is compared with the token's `wwsf`
// claim and sent quoted in authorization-entity, so nothing else may creep in.
void check_wwsf_id(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 253;
  for (char ch : id)
    ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                ch == '-' || ch == ':');
  if (!ok) throw std::runtime_error("WWSF ID '" + id + "' must be a host name (letters, digits, '.', '-', ':port')");
}

bool printable(const std::string& v) {
  for (unsigned char ch : v)
    if (ch <= 0x20 || ch == 0x7f) return false;
  return true;
}

// '*' matches any run of characters: the pool patterns of NOTE 6 ("*@socialnet.example").
bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

store::Wwsf require_wwsf(store::Store& st, const std::string& id) {
  auto w = st.find_wwsf(id);
  if (!w) throw std::runtime_error("no WWSF '" + id + "': add it first with `webims admin wwsf add " + id + "`");
  return *w;
}

int wwsf(std::vector<std::string>& args, const Config& c) {
  if (args.empty()) throw std::runtime_error("wwsf: add, list, block, unblock, remove or pool?");
  std::string action = args[0];
  args.erase(args.begin());
  auto store = store::Store::open(c.store.url);
  int64_t now = std::time(nullptr);
  if (action == "add") {
    auto pattern = take_option(args, "--pool-pattern");
    std::string id = next_arg(args, "wwsf add ID [--pool-pattern PATTERN]");
    no_more(args);
    check_wwsf_id(id);
    if (pattern && (pattern->empty() || !printable(*pattern) || pattern->find('@') == std::string::npos))
      throw std::runtime_error("--pool-pattern must be an IMPI pattern without spaces, like '*@socialnet.example'");
    store::Wwsf w{id, pattern.value_or(""), false, "", now, now};
    if (auto old = store->find_wwsf(id)) {
      w.blocked = old->blocked;  // re-adding is no way to lift a block
      w.block_reason = old->block_reason;
      w.created_unix = old->created_unix;
      if (!pattern) w.pool_pattern = old->pool_pattern;
    }
    store->put_wwsf(w);
    std::printf("wwsf '%s' stored%s%s%s\n", id.c_str(), w.pool_pattern.empty() ? ", no pool" : ", pool ",
                w.pool_pattern.c_str(), w.blocked ? " (still blocked)" : "");
    return 0;
  }
  if (action == "list") {
    no_more(args);
    for (auto& w : store->list_wwsfs()) {
      std::string state = w.blocked ? "blocked" + (w.block_reason.empty() ? "" : " (" + w.block_reason + ")") : "active";
      std::printf("%s\t%s\t%s\t%s\n", w.id.c_str(), w.pool_pattern.empty() ? "-" : w.pool_pattern.c_str(),
                  state.c_str(), utc(w.changed_unix).c_str());
    }
    return 0;
  }
  if (action == "block" || action == "unblock") {
    bool block = action == "block";
    auto reason = block ? take_option(args, "--reason") : std::nullopt;
    std::string id = next_arg(args, block ? "wwsf block ID [--reason TEXT]" : "wwsf unblock ID");
    no_more(args);
    if (reason && (reason->find_first_of("\r\n") != std::string::npos))
      throw std::runtime_error("--reason must be one line");
    if (!store->set_wwsf_blocked(id, block, reason.value_or(""), now)) {
      std::fprintf(stderr, "no WWSF '%s'\n", id.c_str());
      return 1;
    }
    std::printf("wwsf '%s' %s\n", id.c_str(), block ? "blocked" : "unblocked");
    return 0;
  }
  if (action == "remove") {
    std::string id = next_arg(args, "wwsf remove ID");
    no_more(args);
    if (!store->remove_wwsf(id)) {
      std::fprintf(stderr, "no WWSF '%s'\n", id.c_str());
      return 1;
    }
    std::printf("wwsf '%s' removed\n", id.c_str());
    return 0;
  }
  if (action == "pool") {
    std::string id = next_arg(args, "wwsf pool ID");
    no_more(args);
    auto w = require_wwsf(*store, id);
    auto subs = store->pool_subscribers(id);
    if (subs.empty()) std::fprintf(stderr, "wwsf '%s' has no pool subscriptions (subscriber add --pool-owner %s)\n",
                                   id.c_str(), id.c_str());
    for (auto& s : subs) {
      std::string state = "free";
      if (auto a = store->find_pool_assignment(s.impi, now)) state = "guest " + a->guest + " until " + utc(a->expires_unix);
      if (!w.pool_pattern.empty() && !glob_match(w.pool_pattern, s.impi)) state += " (IMPI outside the pool pattern)";
      std::printf("%s\t%s\t%s\n", s.impi.c_str(), join(s.impus, ",").c_str(), state.c_str());
    }
    return 0;
  }
  throw std::runtime_error("wwsf: unknown action '" + action + "' (add, list, block, unblock, remove, pool)");
}

int oauth_client(std::vector<std::string>& args, const Config& c) {
  if (args.empty()) throw std::runtime_error("oauth-client: add, list or remove?");
  std::string action = args[0];
  args.erase(args.begin());
  auto store = store::Store::open(c.store.url);
  if (action == "add") {
    auto kind = take_option(args, "--kind");
    auto uris = take_all(args, "--redirect-uri");
    auto wwsf_id = take_option(args, "--wwsf");
    auto cert = take_option(args, "--cert-file");
    std::string id = next_arg(args, "oauth-client add ID --kind public|wwsf ...");
    no_more(args);
    if (!printable(id)) throw std::runtime_error("the client ID must not contain spaces or control characters");
    store::OAuthClient oc;
    oc.client_id = id;
    oc.created_unix = std::time(nullptr);
    if (kind == "public") {
      if (wwsf_id || cert) throw std::runtime_error("--wwsf and --cert-file are for --kind wwsf clients");
      if (uris.empty()) throw std::runtime_error("a public client needs at least one --redirect-uri URI");
      for (auto& u : uris) {
        // RFC 6749 §3.1.2: absolute, without fragment.
        auto colon = u.find(':');
        if (colon == std::string::npos || colon == 0 || !printable(u) || u.find('#') != std::string::npos)
          throw std::runtime_error("--redirect-uri '" + u + "' must be an absolute URI without fragment");
      }
      oc.kind = "public";
      oc.redirect_uris = uris;
    } else if (kind == "wwsf") {
      if (!uris.empty()) throw std::runtime_error("--redirect-uri is for --kind public clients");
      if (!wwsf_id || !cert) throw std::runtime_error("a wwsf client needs --wwsf WWSF-ID and --cert-file PEM");
      require_wwsf(*store, *wwsf_id);
      oc.kind = "wwsf";
      oc.wwsf_id = *wwsf_id;
      if (::access(cert->c_str(), R_OK) != 0) throw std::runtime_error("cannot read --cert-file " + *cert);
      oc.cert_sha256_hex = net::cert_sha256_hex(*cert);  // RFC 8705 §3.1 x5t#S256, hex
    } else {
      throw std::runtime_error("--kind must be 'public' or 'wwsf'");
    }
    store->put_oauth_client(oc);
    if (oc.kind == "public")
      std::printf("oauth client '%s' stored: public, redirect URIs %s\n", id.c_str(), join(oc.redirect_uris, " ").c_str());
    else
      std::printf("oauth client '%s' stored: acts for wwsf '%s', certificate SHA-256 %s\n", id.c_str(),
                  oc.wwsf_id.c_str(), oc.cert_sha256_hex.c_str());
    return 0;
  }
  if (action == "list") {
    no_more(args);
    for (auto& oc : store->list_oauth_clients()) {
      std::string what = oc.kind == "wwsf" ? "wwsf=" + oc.wwsf_id + " cert-sha256=" + oc.cert_sha256_hex
                                           : join(oc.redirect_uris, " ");
      std::printf("%s\t%s\t%s\t%s\n", oc.client_id.c_str(), oc.kind.c_str(), what.c_str(), utc(oc.created_unix).c_str());
    }
    return 0;
  }
  if (action == "remove") {
    std::string id = next_arg(args, "oauth-client remove ID");
    no_more(args);
    if (!store->remove_oauth_client(id)) {
      std::fprintf(stderr, "no oauth client '%s'\n", id.c_str());
      return 1;
    }
    std::printf("oauth client '%s' removed\n", id.c_str());
    return 0;
  }
  throw std::runtime_error("oauth-client: unknown action '" + action + "' (add, list, remove)");
}

// HSS provisioning (TS 23.228 §4.3.3): never prints or stores a password, HA1, K or OPc in clear
// on the terminal; the store keeps HA1 and the AKA keys (protocols.md "Command-line names").
int subscriber(std::vector<std::string>& args, const Config& c) {
  if (args.empty()) throw std::runtime_error("subscriber: add, list, show, remove or allow-wwsf?");
  std::string action = args[0];
  args.erase(args.begin());
  if (action == "add") {
    auto impi = take_option(args, "--impi");
    auto impus = take_all(args, "--impu");
    auto k = take_option(args, "--aka-k");
    auto opc = take_option(args, "--aka-opc");
    auto amf = take_option(args, "--aka-amf");
    auto wwsf = take_all(args, "--allow-wwsf");
    auto pool = take_option(args, "--pool-owner");
    bool has_pw = std::any_of(args.begin(), args.end(), [](const std::string& a) {
      return a == "--password" || a == "--password-file" || a.rfind("--password=", 0) == 0 ||
             a.rfind("--password-file=", 0) == 0;
    });
    std::string pw = has_pw || !k ? read_password(args) : std::string();
    if (!args.empty()) throw std::runtime_error("unexpected argument '" + args[0] + "'");
    if (!impi || impi->empty()) throw std::runtime_error("subscriber add: --impi IMPI is required");
    if (impus.empty()) throw std::runtime_error("subscriber add: at least one --impu IMPU is required");
    if (k.has_value() != opc.has_value()) throw std::runtime_error("--aka-k and --aka-opc go together");
    std::vector<std::string> canonical;
    for (auto& i : impus) {
      auto ci = core::canonical_impu(i);
      if (!ci) throw std::runtime_error("--impu '" + i + "' is not a sip:user@domain or tel: URI");
      canonical.push_back(*ci);
    }
    auto store = store::Store::open(c.store.url);
    int64_t now = std::time(nullptr);
    store::Subscriber s;
    if (!pw.empty()) {
      s = store::make_subscriber(*impi, c.core.home_domain, pw, canonical, now);
    } else {
      s.impi = *impi;
      s.realm = c.core.home_domain;
      s.impus = canonical;
      s.created_unix = now;
    }
    if (k) {
      s.aka_k = hex16("--aka-k", *k);
      s.aka_opc = hex16("--aka-opc", *opc);
    }
    if (amf) {
      auto b = base::hex_decode(*amf);
      if (!b || b->size() != 2) throw std::runtime_error("--aka-amf must be 4 hex digits");
      s.aka_amf = {(*b)[0], (*b)[1]};
    }
    s.allowed_wwsf = wwsf;
    s.pool_owner = pool.value_or("");
    if (auto old = store->find_subscriber(*impi)) s.sqn = old->sqn;  // re-provisioning keeps the SQN in step with the ISIM
    store->put_subscriber(s);
    std::printf("subscriber '%s' %s for realm '%s': %s; %s\n", impi->c_str(), "stored", c.core.home_domain.c_str(),
                join(canonical, ", ").c_str(),
                s.has_digest() && s.has_aka() ? "Digest and AKA" : s.has_aka() ? "AKA" : "Digest");
    return 0;
  }
  auto store = store::Store::open(c.store.url);
  auto creds = [](const store::Subscriber& s) {
    std::vector<std::string> v;
    if (!s.ha1_md5.empty()) v.push_back("digest-md5");
    if (!s.ha1_sha256.empty()) v.push_back("digest-sha256");
    if (s.has_aka()) v.push_back("aka");
    return join(v, ",");
  };
  if (action == "list") {
    if (!args.empty()) throw std::runtime_error("unexpected argument '" + args[0] + "'");
    for (auto& s : store->list_subscribers())
      std::printf("%s\t%s\t%s\t%s\t%s\n", s.impi.c_str(), s.realm.c_str(), creds(s).c_str(), join(s.impus, ",").c_str(),
                  utc(s.created_unix).c_str());
    return 0;
  }
  if (action == "show") {
    if (args.size() != 1) throw std::runtime_error("subscriber show IMPI");
    auto s = store->find_subscriber(args[0]);
    if (!s) {
      std::fprintf(stderr, "no subscriber '%s'\n", args[0].c_str());
      return 1;
    }
    std::printf("impi:         %s\nrealm:        %s\ncredentials:  %s\nimpus:        %s\n", s->impi.c_str(), s->realm.c_str(),
                creds(*s).c_str(), join(s->impus, ", ").c_str());
    if (s->has_aka())
      std::printf("aka amf:      %s\naka sqn:      %llu (SEQ %llu, IND %u)\n", base::hex_encode(s->aka_amf).c_str(),
                  (unsigned long long)s->sqn, (unsigned long long)(s->sqn >> 5), unsigned(s->sqn & 31));
    std::printf("allowed wwsf: %s\npool owner:   %s\ncreated:      %s\n",
                s->allowed_wwsf.empty() ? "-" : join(s->allowed_wwsf, ", ").c_str(),
                s->pool_owner.empty() ? "-" : s->pool_owner.c_str(), utc(s->created_unix).c_str());
    int64_t now = std::time(nullptr);
    for (auto& impu : s->impus)
      for (auto& r : store->registrations_for(impu))
        if (r.expires_unix > now)
          std::printf("registered:   %s -> %s (expires %s, via %s)\n", impu.c_str(), r.contact.c_str(),
                      utc(r.expires_unix).c_str(), r.path.empty() ? r.received.c_str() : r.path.front().c_str());
    return 0;
  }
  if (action == "remove") {
    if (args.size() != 1) throw std::runtime_error("subscriber remove IMPI");
    if (!store->remove_subscriber(args[0])) {
      std::fprintf(stderr, "no subscriber '%s'\n", args[0].c_str());
      return 1;
    }
    std::printf("subscriber '%s' removed, with its IMPUs and registrations\n", args[0].c_str());
    return 0;
  }
  if (action == "allow-wwsf") {
    bool none = take_flag(args, "--none");
    std::string impi = next_arg(args, "subscriber allow-wwsf IMPI (ID... | --none)");
    if (none == !args.empty()) throw std::runtime_error("subscriber allow-wwsf: give the WWSF IDs or --none, not both or neither");
    for (auto& id : args) {
      if (id.rfind("--", 0) == 0) throw std::runtime_error("unexpected argument '" + id + "'");
      require_wwsf(*store, id);
    }
    if (!store->set_allowed_wwsf(impi, args)) {
      std::fprintf(stderr, "no subscriber '%s'\n", impi.c_str());
      return 1;
    }
    std::printf("subscriber '%s' may be registered by %s\n", impi.c_str(),
                args.empty() ? "no WWSF" : ("wwsf " + join(args, ", ")).c_str());
    return 0;
  }
  throw std::runtime_error("subscriber: unknown action '" + action + "' (add, list, show, remove, allow-wwsf)");
}

int turn_user(std::vector<std::string>& args, const Config& c) {
  if (args.empty()) throw std::runtime_error("turn-user: add, list or remove?");
  std::string action = args[0];
  args.erase(args.begin());
  auto store = store::Store::open(c.store.url);
  if (action == "add") {
    if (args.empty()) throw std::runtime_error("turn-user add: USER missing");
    std::string user = args[0];
    args.erase(args.begin());
    std::string pw = read_password(args);
    if (!args.empty()) throw std::runtime_error("unexpected argument '" + args[0] + "'");
    if (user.empty() || user.size() > 512) throw std::runtime_error("USER must be 1 to 512 bytes");
    if (pw.empty()) throw std::runtime_error("the password must not be empty");
    store->put_turn_user(store::make_turn_user(user, c.turn.realm, pw, std::time(nullptr)));
    std::printf("turn user '%s' added for realm '%s'\n", user.c_str(), c.turn.realm.c_str());
    return 0;
  }
  if (action == "list") {
    for (auto& u : store->list_turn_users()) {
      char when[32];
      time_t t = time_t(u.created_unix);
      tm tmv;
      gmtime_r(&t, &tmv);
      strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
      std::printf("%s\t%s\t%s\n", u.username.c_str(), u.realm.c_str(), when);
    }
    return 0;
  }
  if (action == "remove") {
    if (args.size() != 1) throw std::runtime_error("turn-user remove USER");
    if (!store->remove_turn_user(args[0])) {
      std::fprintf(stderr, "no turn user '%s'\n", args[0].c_str());
      return 1;
    }
    std::printf("turn user '%s' removed\n", args[0].c_str());
    return 0;
  }
  throw std::runtime_error("turn-user: unknown action '" + action + "' (add, list, remove)");
}

int turn_credential(std::vector<std::string>& args, Config& c) {
  std::string lifetime_text = take_option(args, "--lifetime").value_or("24h");
  bool coturn_order = take_flag(args, "--coturn-order");
  if (!args.empty()) throw std::runtime_error("unexpected argument '" + args[0] + "'");
  std::chrono::milliseconds lifetime;
  if (!base::parse_duration(lifetime_text.c_str(), lifetime) || lifetime.count() <= 0)
    throw std::runtime_error("--lifetime must be a duration like 1h or 30m");
  auto store = store::Store::open(c.store.url);
  ensure_turn_secret(c, *store);
  crypto::SystemRandom rnd;
  int64_t texp = std::time(nullptr) + std::chrono::duration_cast<std::chrono::seconds>(lifetime).count();
  auto cred = turn::mint_ephemeral(c.turn.secrets.front(), texp, rnd, coturn_order);
  char when[32];
  time_t t = time_t(texp);
  tm tmv;
  gmtime_r(&t, &tmv);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  std::printf("username=%s\npassword=%s\nexpires=%s\nkey=%s\n", cred.username.c_str(), cred.password.c_str(), when,
              c.turn.secrets.front().id.c_str());
  return 0;
}

}  // namespace

int cmd_admin(std::vector<std::string> args) {
  if (args.empty() || take_flag(args, "--help") || take_flag(args, "-h")) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string path = take_option(args, "--config").value_or("");
  bool print = take_flag(args, "--print-config");
  Config c = load_config(path);
  if (print) {
    std::fputs(print_config(c, {Section::Store, Section::Turn, Section::Core}).c_str(), stdout);
    return 0;
  }
  if (args.empty()) throw std::runtime_error("what to administer? (see --help)");
  std::string object = args[0];
  args.erase(args.begin());
  if (object == "subscriber") return subscriber(args, c);
  if (object == "turn-user") return turn_user(args, c);
  if (object == "turn-credential") return turn_credential(args, c);
  if (object == "wwsf") return wwsf(args, c);
  if (object == "oauth-client") return oauth_client(args, c);
  throw std::runtime_error("unknown object '" + object + "' (see --help)");
}

}  // namespace cli
