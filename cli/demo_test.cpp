#include "demo.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "base/test_temp_dir.hpp"
#include "wwsf/logic/credentials.hpp"

namespace cli {
namespace {

DemoOptions options() {
  DemoOptions o;
  o.home_domain = "ims.example.org";
  o.wwsf_id = "localhost";
  o.cost = wwsf::PwhashCost::minimum();
  return o;
}

TEST(Demo, FirstStartCreatesEveryScenarioAndListsWorkingPasswords) {
  base::TestTempDir dir("webims-demo");
  std::string url = "sqlite://" + (dir / "webims.db");
  auto st = store::Store::open(url);
  auto o = options();
  ASSERT_TRUE(create_demo_if_empty(*st, o, 1000));

  auto w = st->find_wwsf("localhost");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->pool_pattern, "*@guest.ims.example.org");
  EXPECT_FALSE(w->blocked);
  for (const char* user : {"alice", "bob"}) {
    auto s = st->find_subscriber(std::string(user) + "@ims.example.org");
    ASSERT_TRUE(s) << user;
    EXPECT_EQ(s->impus, std::vector<std::string>{std::string("sip:") + user + "@ims.example.org"});
    EXPECT_EQ(s->allowed_wwsf, std::vector<std::string>{"localhost"});
    EXPECT_EQ(s->realm, "ims.example.org");
  }
  auto pool = st->pool_subscribers("localhost");
  ASSERT_EQ(pool.size(), 5u);
  EXPECT_EQ(pool[0].impi, "guest1@guest.ims.example.org");
  EXPECT_EQ(pool[0].impus, std::vector<std::string>{"sip:guest1@ims.example.org"});
  EXPECT_EQ(pool[4].impi, "guest5@guest.ims.example.org");
  auto links = st->identity_links("localhost", "carol");
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].impi, "bob@ims.example.org");
  EXPECT_TRUE(links[0].confirmed);

  auto l = list_demo(*st, o);
  ASSERT_EQ(l.subscribers.size(), 2u);
  EXPECT_EQ(l.subscribers[0].impi, "alice@ims.example.org");
  EXPECT_EQ(l.subscribers[1].impu, "sip:bob@ims.example.org");
  std::regex pw("[A-Za-z0-9_-]{12}");
  for (auto& s : l.subscribers) {
    EXPECT_TRUE(std::regex_match(s.password, pw)) << s.password;
    EXPECT_TRUE(wwsf::ims_password_matches(*st->find_subscriber(s.impi), s.password));  // the listed password works
  }
  EXPECT_NE(l.subscribers[0].password, l.subscribers[1].password);
  ASSERT_TRUE(l.web_account);
  EXPECT_EQ(l.web_account->username, "carol");
  EXPECT_EQ(l.web_account->linked, "bob@ims.example.org");
  EXPECT_TRUE(std::regex_match(l.web_account->password, pw));
  EXPECT_TRUE(wwsf::verify_web_password(st->find_web_account("localhost", "carol")->password_hash, l.web_account->password));
  EXPECT_EQ(l.pool_size, 5u);
  EXPECT_EQ(l.pool_pattern, "*@guest.ims.example.org");

  auto lines = demo_lines(l);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "  demo ims-subscriber impi=alice@ims.example.org impu=sip:alice@ims.example.org password=" +
                          l.subscribers[0].password);
  EXPECT_EQ(lines[1], "  demo ims-subscriber impi=bob@ims.example.org impu=sip:bob@ims.example.org password=" +
                          l.subscribers[1].password);
  EXPECT_EQ(lines[2], "  demo web-account username=carol password=" + l.web_account->password + " linked=bob@ims.example.org");
  EXPECT_EQ(lines[3], "  demo guest-pool pattern=*@guest.ims.example.org size=5 wwsf=localhost");
  // The pool's passwords are never listed.
  for (auto& line : lines) EXPECT_EQ(line.find("guest1@"), std::string::npos);

  // A restart (another Store on the same file) creates nothing and lists the same passwords.
  st.reset();
  auto again = store::Store::open(url);
  EXPECT_FALSE(create_demo_if_empty(*again, o, 2000));
  EXPECT_EQ(demo_lines(list_demo(*again, o)), lines);
  EXPECT_EQ(again->count_subscribers(), 7u);
  EXPECT_EQ(again->find_subscriber("alice@ims.example.org")->created_unix, 1000);
}

TEST(Demo, AStoreWithSubscribersGetsNoDemoData) {
  auto st = store::Store::open("sqlite::memory:");
  st->put_subscriber(store::make_subscriber("alice@ims.example.org", "ims.example.org", "the-tests-own",
                                            {"sip:alice@ims.example.org"}, 1));
  auto o = options();
  EXPECT_FALSE(create_demo_if_empty(*st, o, 1000));
  EXPECT_FALSE(st->find_wwsf("localhost"));
  EXPECT_FALSE(st->find_web_account("localhost", "carol"));
  EXPECT_EQ(st->count_subscribers(), 1u);
  EXPECT_TRUE(list_demo(*st, o).empty());
  EXPECT_TRUE(demo_lines(list_demo(*st, o)).empty());
  // Listing looked, but made no secret.
  EXPECT_FALSE(st->find_local_secret("demo-password:alice@ims.example.org"));
}

TEST(Demo, ChangedCredentialsAreNotListed) {
  auto st = store::Store::open("sqlite::memory:");
  auto o = options();
  ASSERT_TRUE(create_demo_if_empty(*st, o, 1000));
  // The operator gives alice another password and removes bob's link: the listing follows.
  st->put_subscriber(store::make_subscriber("alice@ims.example.org", "ims.example.org", "operators-choice",
                                            {"sip:alice@ims.example.org"}, 2000));
  st->remove_identity_link("localhost", "carol", "bob@ims.example.org");
  auto l = list_demo(*st, o);
  ASSERT_EQ(l.subscribers.size(), 1u);
  EXPECT_EQ(l.subscribers[0].impi, "bob@ims.example.org");
  ASSERT_TRUE(l.web_account);
  EXPECT_EQ(l.web_account->linked, "");
  auto lines = demo_lines(l);
  EXPECT_EQ(lines[1], "  demo web-account username=carol password=" + l.web_account->password);
}

TEST(Demo, AnExistingWwsfKeepsItsPatternAndBlockState) {
  auto st = store::Store::open("sqlite::memory:");
  st->put_wwsf({"localhost", "*@pool.example", true, "under review", 1, 1});
  auto o = options();
  ASSERT_TRUE(create_demo_if_empty(*st, o, 1000));
  auto w = st->find_wwsf("localhost");
  EXPECT_EQ(w->pool_pattern, "*@pool.example");
  EXPECT_TRUE(w->blocked);
  // A WWSF without a pattern gets the demo pool's.
  auto st2 = store::Store::open("sqlite::memory:");
  st2->put_wwsf({"localhost", "", false, "", 1, 1});
  ASSERT_TRUE(create_demo_if_empty(*st2, o, 1000));
  EXPECT_EQ(st2->find_wwsf("localhost")->pool_pattern, "*@guest.ims.example.org");
}

}  // namespace
}  // namespace cli
