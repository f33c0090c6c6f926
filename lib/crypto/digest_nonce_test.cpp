#include "crypto/digest_nonce.hpp"

#include <gtest/gtest.h>

#include "base/encoding.hpp"

using namespace crypto;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kT0 = 1'700'000'000;
base::Now at(int64_t unix_s) { return base::Now{base::SteadyTime{}, unix_s}; }
base::Bytes b(std::string_view s) { return base::as_bytes(s); }
const std::string kSecret = "0123456789abcdef0123456789abcdef";

DigestNonceManager manager(std::string_view secret = kSecret, DigestNonceConfig c = {}) {
  auto m = DigestNonceManager::create(b(secret), c);
  EXPECT_TRUE(m.ok());
  return std::move(m).value();
}

TEST(DigestNonce, IssueAndVerify) {
  auto m = manager();
  base::SeededRandom rnd(1);
  std::string n = m.issue(at(kT0), rnd);
  EXPECT_EQ(n.size(), 48u);
  EXPECT_EQ(n.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
  auto c = m.verify(n, at(kT0 + 10));
  EXPECT_EQ(c.status, NonceStatus::Ok);
  EXPECT_EQ(c.issued_unix_s, kT0);
  EXPECT_NE(m.issue(at(kT0), rnd), n);  // a fresh salt every time
}

TEST(DigestNonce, AnyNodeWithTheSecretVerifies) {
  auto a = manager(), b2 = manager();
  base::SeededRandom rnd(2);
  std::string n = a.issue(at(kT0), rnd);
  EXPECT_EQ(b2.verify(n, at(kT0 + 1)).status, NonceStatus::Ok);
  auto other = manager("another secret of enough length");
  EXPECT_EQ(other.verify(n, at(kT0 + 1)).status, NonceStatus::Invalid);
}

TEST(DigestNonce, StaleAfterLifetimeButStillAuthentic) {
  auto m = manager(kSecret, DigestNonceConfig{60s, 5s});
  base::SeededRandom rnd(3);
  std::string n = m.issue(at(kT0), rnd);
  EXPECT_EQ(m.verify(n, at(kT0 + 60)).status, NonceStatus::Ok);
  auto c = m.verify(n, at(kT0 + 61));
  EXPECT_EQ(c.status, NonceStatus::Stale);
  EXPECT_EQ(c.issued_unix_s, kT0);
  EXPECT_EQ(m.verify(n, at(kT0 + 86400 * 365)).status, NonceStatus::Stale);
}

TEST(DigestNonce, FutureBeyondSkewIsInvalid) {
  auto m = manager(kSecret, DigestNonceConfig{60s, 5s});
  base::SeededRandom rnd(4);
  EXPECT_EQ(m.verify(m.issue(at(kT0 + 5), rnd), at(kT0)).status, NonceStatus::Ok);
  EXPECT_EQ(m.verify(m.issue(at(kT0 + 6), rnd), at(kT0)).status, NonceStatus::Invalid);
}

TEST(DigestNonce, RevealsNeitherTimeNorSalt) {
  auto m = manager();
  // Same salt (same seed), different times: the masked time differs and is not the plain time.
  base::SeededRandom r1(5), r2(5);
  auto n1 = base::base64url_decode(m.issue(at(kT0), r1));
  auto n2 = base::base64url_decode(m.issue(at(kT0 + 1), r2));
  ASSERT_TRUE(n1 && n2);
  ASSERT_EQ(n1->size(), 36u);
  EXPECT_TRUE(std::equal(n1->begin(), n1->begin() + 12, n2->begin()));
  EXPECT_FALSE(std::equal(n1->begin() + 12, n1->begin() + 20, n2->begin() + 12));
  EXPECT_NE(base::load_be64(n1->data() + 12), uint64_t(kT0));
}

TEST(DigestNonce, TamperedOrMalformedIsInvalid) {
  auto m = manager();
  base::SeededRandom rnd(6);
  std::string n = m.issue(at(kT0), rnd);
  for (size_t i = 0; i < n.size(); ++i) {
    std::string t = n;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(m.verify(t, at(kT0)).status, NonceStatus::Invalid) << "position " << i;
  }
  EXPECT_EQ(m.verify("", at(kT0)).status, NonceStatus::Invalid);
  EXPECT_EQ(m.verify(n.substr(0, 47), at(kT0)).status, NonceStatus::Invalid);
  EXPECT_EQ(m.verify(n + "A", at(kT0)).status, NonceStatus::Invalid);
  EXPECT_EQ(m.verify(std::string(48, '!'), at(kT0)).status, NonceStatus::Invalid);
  EXPECT_EQ(m.verify("dcd98b7102dd2f0e8b11d0f600bfb0c093", at(kT0)).status, NonceStatus::Invalid);
}

TEST(DigestNonce, ContextBinding) {
  auto m = manager();
  base::SeededRandom rnd(7);
  std::string n = m.issue(at(kT0), rnd, b("ims.example.org"));
  EXPECT_EQ(m.verify(n, at(kT0), b("ims.example.org")).status, NonceStatus::Ok);
  EXPECT_EQ(m.verify(n, at(kT0), b("other.example.org")).status, NonceStatus::Invalid);
  EXPECT_EQ(m.verify(n, at(kT0)).status, NonceStatus::Invalid);
}

TEST(DigestNonce, SecretRotation) {
  const std::string old_secret = "the old secret, 16+ octets", new_secret = "the new secret, 16+ octets";
  auto old_m = manager(old_secret);
  base::SeededRandom rnd(8);
  std::string old_nonce = old_m.issue(at(kT0), rnd);
  auto rotated = DigestNonceManager::create(b(new_secret), {}, {b(old_secret)});
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(rotated->verify(old_nonce, at(kT0)).status, NonceStatus::Ok);
  std::string new_nonce = rotated->issue(at(kT0), rnd);
  EXPECT_EQ(rotated->verify(new_nonce, at(kT0)).status, NonceStatus::Ok);
  EXPECT_EQ(old_m.verify(new_nonce, at(kT0)).status, NonceStatus::Invalid);
}

TEST(DigestNonce, CreateRejectsWeakSecretOrBadConfig) {
  EXPECT_FALSE(DigestNonceManager::create(b("short")).ok());
  EXPECT_FALSE(DigestNonceManager::create(b("")).ok());
  EXPECT_FALSE(DigestNonceManager::create(b(kSecret), {}, {b("short")}).ok());
  EXPECT_FALSE(DigestNonceManager::create(b(kSecret), DigestNonceConfig{0s, 5s}).ok());
  EXPECT_FALSE(DigestNonceManager::create(b(kSecret), DigestNonceConfig{60s, -1s}).ok());
  EXPECT_TRUE((DigestNonceConfig{}.validate().ok()));
  EXPECT_FALSE((NonceCountConfig{0, 60s}.validate().ok()));
  EXPECT_FALSE((NonceCountConfig{10, 0s}.validate().ok()));
  EXPECT_TRUE((NonceCountConfig{}.validate().ok()));
}

TEST(NonceCount, ReplayRefusedAndNcMustIncrease) {
  NonceCountTracker t;
  EXPECT_EQ(t.use("n1", kT0, 1, at(kT0)), NcStatus::Ok);
  EXPECT_EQ(t.use("n1", kT0, 1, at(kT0)), NcStatus::Replay);  // the same Authorization again
  EXPECT_EQ(t.use("n1", kT0, 2, at(kT0)), NcStatus::Ok);
  EXPECT_EQ(t.use("n1", kT0, 2, at(kT0)), NcStatus::Replay);
  EXPECT_EQ(t.use("n1", kT0, 1, at(kT0)), NcStatus::Replay);  // going back
  EXPECT_EQ(t.use("n1", kT0, 7, at(kT0)), NcStatus::Ok);      // gaps are fine
  EXPECT_EQ(t.use("n2", kT0, 1, at(kT0)), NcStatus::Ok);      // per nonce
  EXPECT_EQ(t.use("n3", kT0, 0, at(kT0)), NcStatus::Replay);
  EXPECT_EQ(t.size(), 2u);
}

TEST(NonceCount, BoundedMemoryEvictsOldestAndForgetsSafely) {
  NonceCountTracker t(NonceCountConfig{3, 300s});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(t.use("n" + std::to_string(i), kT0 + i, 1, at(kT0 + 10)), NcStatus::Ok);
  EXPECT_EQ(t.size(), 3u);
  // n0 and n1 were evicted: a replay of them cannot be told from a first use, so it is refused
  // as stale, whatever nc it carries.
  EXPECT_EQ(t.use("n0", kT0, 1, at(kT0 + 10)), NcStatus::Forgotten);
  EXPECT_EQ(t.use("n1", kT0 + 1, 9, at(kT0 + 10)), NcStatus::Forgotten);
  // The ones still remembered keep their counts; newer nonces are accepted.
  EXPECT_EQ(t.use("n4", kT0 + 4, 1, at(kT0 + 10)), NcStatus::Replay);
  EXPECT_EQ(t.use("n4", kT0 + 4, 2, at(kT0 + 10)), NcStatus::Ok);
  EXPECT_EQ(t.use("n5", kT0 + 5, 1, at(kT0 + 10)), NcStatus::Ok);
  EXPECT_EQ(t.size(), 3u);
}

TEST(NonceCount, FloodStaysBounded) {
  NonceCountTracker t(NonceCountConfig{100, 300s});
  for (int i = 0; i < 20000; ++i) (void)t.use("nonce-" + std::to_string(i), kT0 + i / 100, 1, at(kT0 + i / 100));
  EXPECT_LE(t.size(), 100u);
}

TEST(NonceCount, ExpiredRecordsArePurged) {
  NonceCountTracker t(NonceCountConfig{100, 60s});
  EXPECT_EQ(t.use("old", kT0, 1, at(kT0)), NcStatus::Ok);
  EXPECT_EQ(t.use("new", kT0 + 50, 1, at(kT0 + 50)), NcStatus::Ok);
  EXPECT_EQ(t.use("newer", kT0 + 61, 1, at(kT0 + 61)), NcStatus::Ok);
  EXPECT_EQ(t.size(), 2u);  // "old" dropped
  EXPECT_EQ(t.use("old", kT0, 2, at(kT0 + 61)), NcStatus::Forgotten);
}

TEST(NonceCount, ParseNc) {
  EXPECT_EQ(parse_nonce_count("00000001"), 1u);
  EXPECT_EQ(parse_nonce_count("0000000a"), 10u);
  EXPECT_EQ(parse_nonce_count("FFFFFFFF"), 0xffffffffu);
  EXPECT_FALSE(parse_nonce_count("00000000"));
  EXPECT_FALSE(parse_nonce_count("1"));
  EXPECT_FALSE(parse_nonce_count("000000001"));
  EXPECT_FALSE(parse_nonce_count("0000000g"));
  EXPECT_FALSE(parse_nonce_count(""));
}

// The flow a registrar runs: verify nonce, verify response, then record nc.
TEST(NonceCount, WithManager) {
  auto m = manager();
  NonceCountTracker t;
  base::SeededRandom rnd(9);
  std::string n = m.issue(at(kT0), rnd);
  auto c = m.verify(n, at(kT0 + 1));
  ASSERT_EQ(c.status, NonceStatus::Ok);
  EXPECT_EQ(t.use(n, c.issued_unix_s, *parse_nonce_count("00000001"), at(kT0 + 1)), NcStatus::Ok);
  EXPECT_EQ(t.use(n, c.issued_unix_s, *parse_nonce_count("00000001"), at(kT0 + 2)), NcStatus::Replay);
}

}  // namespace
