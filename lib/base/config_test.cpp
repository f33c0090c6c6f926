#include "base/config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace base::config;

namespace {

struct Key {
  std::string id;
  std::string secret;
};
struct Sample {
  std::string realm = "ims.example.org";
  std::vector<std::string> listen{"udp://0.0.0.0:3478"};
  int quota = 10;
  bool flag = false;
  Duration life = std::chrono::hours(24);
  std::vector<Key> keys;

  void describe(Binder& b) {
    b.section("turn", "The TURN server.");
    b.field("realm", realm, "Realm.");
    b.field("listen", listen, "Listeners.");
    b.field("quota", quota, "Quota.");
    b.field("flag", flag, "Flag.");
    b.field("life", life, "Lifetime.");
    b.table_array<Key>("secrets", keys, "Keys.", [](Binder& s, Key& k) {
      s.field("id", k.id, "Key id.");
      s.secret("secret", k.secret, "Key.");
    });
  }
};

Sample load(const std::string& text) {
  auto doc = parse_string(text);
  Sample s;
  auto b = Binder::loader(root_of(doc));
  s.describe(b);
  b.finish();
  return s;
}

}  // namespace

TEST(Config, DefaultsWhenEmpty) {
  Sample s = load("");
  EXPECT_EQ(s.realm, "ims.example.org");
  EXPECT_EQ(s.quota, 10);
}

TEST(Config, LoadsValuesAndTableArrays) {
  Sample s = load(R"([turn]
realm = "r"
listen = ["tcp://[::]:3478"]
quota = 3
flag = true
life = "15m"
[[turn.secrets]]
id = "k1"
secret = "s1"
[[turn.secrets]]
id = "k2"
secret = "s2"
)");
  EXPECT_EQ(s.realm, "r");
  EXPECT_EQ(s.listen.at(0), "tcp://[::]:3478");
  EXPECT_EQ(s.quota, 3);
  EXPECT_TRUE(s.flag);
  EXPECT_EQ(s.life, std::chrono::minutes(15));
  ASSERT_EQ(s.keys.size(), 2u);
  EXPECT_EQ(s.keys[1].secret, "s2");
}

TEST(Config, SecretFromFile) {
  std::string path = ::testing::TempDir() + "/webims_secret_test";
  std::ofstream(path) << "from-file\n";
  Sample s = load("[[turn.secrets]]\nid = \"k\"\nsecret_file = \"" + path + "\"\n");
  EXPECT_EQ(s.keys.at(0).secret, "from-file");
}

TEST(Config, RejectsUnknownKeysSectionsAndTypes) {
  EXPECT_THROW(load("[turn]\nrelm = \"typo\"\n"), Error);
  EXPECT_THROW(load("[trun]\n"), Error);
  EXPECT_THROW(load("[turn]\nquota = \"ten\"\n"), Error);
  EXPECT_THROW(load("[turn]\nlife = \"soon\"\n"), Error);
  EXPECT_THROW(load("[[turn.secrets]]\nid = \"k\"\nbogus = 1\n"), Error);
  EXPECT_THROW(load("[turn\n"), Error);
  try {
    load("[turn]\nrelm = \"typo\"\n");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key [turn] relm (line 2)"), std::string::npos) << e.what();
  }
}

TEST(Config, PrintMasksSecretsAndReloads) {
  Sample s;
  s.keys.push_back({"k1", "topsecret"});
  std::ostringstream os;
  auto p = Binder::printer(os);
  s.describe(p);
  std::string text = os.str();
  EXPECT_EQ(text.find("topsecret"), std::string::npos);
  EXPECT_NE(text.find("secret = \"********\""), std::string::npos);
  EXPECT_NE(text.find("life = \"24h\""), std::string::npos);
  // The printed file is itself valid configuration.
  Sample back = load(text);
  EXPECT_EQ(back.realm, s.realm);
  EXPECT_EQ(back.keys.at(0).id, "k1");
}

TEST(Config, PrintShowsExampleForEmptyArrays) {
  Sample s;
  std::ostringstream os;
  auto p = Binder::printer(os);
  s.describe(p);
  EXPECT_NE(os.str().find("# [[turn.secrets]]"), std::string::npos);
  EXPECT_NO_THROW(load(os.str()));
}
