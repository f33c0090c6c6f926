#include "demo.hpp"

#include <array>

#include "base/encoding.hpp"
#include "base/log.hpp"
#include "crypto/hash.hpp"
#include "wwsf/logic/wwsf_logic.hpp"

namespace cli {

namespace {

constexpr const char* kLog = "all";
const std::vector<std::string> kSubscribers{"alice", "bob"};
constexpr const char* kWebUser = "carol";
constexpr const char* kLinkedTo = "bob";

// 12 base64url characters (72 random bits): easy to copy, no character a shell or URL needs quoted.
std::string random_password() {
  std::array<uint8_t, 9> b;
  crypto::random_bytes(b);
  return base::base64url_encode(base::Bytes(b.data(), b.size()));
}

std::string impi_of(const std::string& user, const DemoOptions& o) { return user + "@" + o.home_domain; }
std::string secret_of_subscriber(const std::string& impi) { return "demo-password:" + impi; }
std::string secret_of_web_account(const DemoOptions& o) { return "demo-web-password:" + o.wwsf_id + "/" + kWebUser; }
std::string pool_pattern(const DemoOptions& o) { return "*@guest." + o.home_domain; }

}  // namespace

bool create_demo_if_empty(store::Store& st, const DemoOptions& o, int64_t now) {
  if (st.count_subscribers() != 0) return false;

  // The WWSF and its pool pattern; a WWSF the operator already described keeps its pattern and state.
  auto w = st.find_wwsf(o.wwsf_id);
  if (!w) st.put_wwsf({o.wwsf_id, pool_pattern(o), false, "", now, now});
  else if (w->pool_pattern.empty()) {
    w->pool_pattern = pool_pattern(o);
    w->changed_unix = now;
    st.put_wwsf(*w);
  }

  // Scenario 2: carol's web account, linked (confirmed, as if bob had proved his IMS password) to bob.
  std::string web_pw = st.local_secret(secret_of_web_account(o), random_password);
  auto created = wwsf::create_web_account(st, o.wwsf_id, kWebUser, web_pw, o.cost, now);
  if (!created && !st.find_web_account(o.wwsf_id, kWebUser))
    throw std::runtime_error("demo web account: " + created.error());
  st.put_identity_link({o.wwsf_id, kWebUser, impi_of(kLinkedTo, o), true, now, now});

  // Scenario 3: the pool, owned by the WWSF; nobody logs in with these passwords.
  for (int i = 1; i <= o.pool_size; ++i) {
    std::string n = "guest" + std::to_string(i);
    auto s = store::make_subscriber(n + "@guest." + o.home_domain, o.home_domain, random_password(),
                                    {"sip:" + n + "@" + o.home_domain}, now);
    s.pool_owner = o.wwsf_id;
    st.put_subscriber(s);
  }

  // Scenario 1 (and 2 for bob): subscribers that allow the WWSF (REQ 2.1).
  for (auto& user : kSubscribers) {
    std::string impi = impi_of(user, o);
    std::string pw = st.local_secret(secret_of_subscriber(impi), random_password);
    auto s = store::make_subscriber(impi, o.home_domain, pw, {"sip:" + impi}, now);
    s.allowed_wwsf = {o.wwsf_id};
    st.put_subscriber(s);
  }
  LOG_INFO(kLog) << "demo data created: subscribers alice and bob, web account " << kWebUser << ", a pool of "
                 << o.pool_size << " for WWSF " << o.wwsf_id;
  return true;
}

DemoListing list_demo(store::Store& st, const DemoOptions& o) {
  DemoListing l;
  for (auto& user : kSubscribers) {
    std::string impi = impi_of(user, o);
    auto pw = st.find_local_secret(secret_of_subscriber(impi));
    auto s = pw ? st.find_subscriber(impi) : std::nullopt;
    if (!s || s->impus.empty() || !wwsf::ims_password_matches(*s, *pw)) continue;
    l.subscribers.push_back({impi, s->impus.front(), *pw});
  }
  if (auto pw = st.find_local_secret(secret_of_web_account(o))) {
    auto a = st.find_web_account(o.wwsf_id, kWebUser);
    if (a && wwsf::verify_web_password(a->password_hash, *pw)) {
      DemoListing::WebAccount w{kWebUser, *pw, ""};
      for (auto& link : st.identity_links(o.wwsf_id, kWebUser))
        if (link.confirmed) {
          w.linked = link.impi;
          break;
        }
      l.web_account = std::move(w);
    }
  }
  if (auto w = st.find_wwsf(o.wwsf_id); w && !w->pool_pattern.empty()) {
    l.pool_size = st.pool_subscribers(o.wwsf_id).size();
    if (l.pool_size) {
      l.pool_pattern = w->pool_pattern;
      l.wwsf_id = o.wwsf_id;
    }
  }
  return l;
}

std::vector<std::string> demo_lines(const DemoListing& l) {
  std::vector<std::string> out;
  for (auto& s : l.subscribers)
    out.push_back("  demo ims-subscriber impi=" + s.impi + " impu=" + s.impu + " password=" + s.password);
  if (l.web_account) {
    std::string line = "  demo web-account username=" + l.web_account->username + " password=" + l.web_account->password;
    if (!l.web_account->linked.empty()) line += " linked=" + l.web_account->linked;
    out.push_back(line);
  }
  if (l.pool_size)
    out.push_back("  demo guest-pool pattern=" + l.pool_pattern + " size=" + std::to_string(l.pool_size) +
                  " wwsf=" + l.wwsf_id);
  return out;
}

}  // namespace cli
