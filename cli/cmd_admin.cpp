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
#include "crypto/random.hpp"
#include "local_secrets.hpp"
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

// HSS provisioning (TS 23.228 §4.3.3): never prints or stores a password, HA1, K or OPc in clear
// on the terminal; the store keeps HA1 and the AKA keys (protocols.md "Command-line names").
int subscriber(std::vector<std::string>& args, const Config& c) {
  if (args.empty()) throw std::runtime_error("subscriber: add, list, show or remove?");
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
  throw std::runtime_error("subscriber: unknown action '" + action + "' (add, list, show, remove)");
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
  throw std::runtime_error("unknown object '" + object + "' (see --help)");
}

}  // namespace cli
