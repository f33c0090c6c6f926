// `webims admin`: provisioning of the store. Writes go through the same Store the servers read,
// so a running server sees them within seconds.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>

#include "commands.hpp"
#include "config.hpp"
#include "base/clock.hpp"
#include "crypto/random.hpp"
#include "local_secrets.hpp"
#include "store/store.hpp"
#include "turn/logic/credentials.hpp"

namespace cli {

namespace {

const char* kHelp = R"(usage: webims admin [--config FILE] <object> <action> ...

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
    std::fputs(print_config(c, {Section::Store, Section::Turn}).c_str(), stdout);
    return 0;
  }
  if (args.empty()) throw std::runtime_error("what to administer? (see --help)");
  std::string object = args[0];
  args.erase(args.begin());
  if (object == "turn-user") return turn_user(args, c);
  if (object == "turn-credential") return turn_credential(args, c);
  throw std::runtime_error("unknown object '" + object + "' (see --help)");
}

}  // namespace cli
