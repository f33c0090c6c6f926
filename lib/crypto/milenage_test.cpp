#include "crypto/milenage.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/encoding.hpp"
#include "crypto/milenage_test_sets.hpp"

using namespace crypto;
using base::hex_encode;

namespace {

TEST(MilenageVectors, FileHasAllTestSets) {
  auto sets = load_milenage_test_sets();
  ASSERT_EQ(sets.size(), 20u) << "tests/vectors/ts35208/milenage_test_sets.txt";
  for (size_t i = 0; i < sets.size(); ++i) EXPECT_EQ(sets[i].at("set"), std::to_string(i + 1));
}

// TS 35.208 §4.3 / TS 35.207: every output of every test set, from K, RAND, SQN, AMF and OP.
TEST(Milenage, Ts35208AllTestSets) {
  for (const auto& s : load_milenage_test_sets()) {
    SCOPED_TRACE("test set " + s.at("set") + ": " + s.at("source"));
    K k = *K::from(unhex(s.at("k")));
    Op op = *Op::from(unhex(s.at("op")));
    auto opc = Milenage::compute_opc(k, op);
    ASSERT_TRUE(opc.ok());
    EXPECT_EQ(hex_encode(opc->bytes()), s.at("opc"));

    auto m = Milenage::create(k, *opc);
    ASSERT_TRUE(m.ok());
    Rand rand = to_array<16>(s.at("rand"));
    auto sqn = unhex(s.at("sqn"));
    Amf amf = to_array<2>(s.at("amf"));
    SqnOctets sqn6(sqn.data(), 6);

    EXPECT_EQ(hex_encode(m->f1(rand, sqn6, amf)), s.at("f1"));
    EXPECT_EQ(hex_encode(m->f1_star(rand, sqn6, amf)), s.at("f1star"));
    auto f = m->f2345(rand);
    EXPECT_EQ(hex_encode(f.res.bytes()), s.at("f2"));
    EXPECT_EQ(hex_encode(f.ck.bytes()), s.at("f3"));
    EXPECT_EQ(hex_encode(f.ik.bytes()), s.at("f4"));
    EXPECT_EQ(hex_encode(f.ak), s.at("f5"));
    EXPECT_EQ(hex_encode(m->f5_star(rand)), s.at("f5star"));
  }
}

TEST(Milenage, ContextIsReusableAndMovable) {
  auto s = load_milenage_test_sets().at(0);
  auto m = Milenage::create(*K::from(unhex(s.at("k"))), *Opc::from(unhex(s.at("opc"))));
  ASSERT_TRUE(m.ok());
  Rand rand = to_array<16>(s.at("rand"));
  // The same keyed context serves many calls (per authentication) with identical results.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(hex_encode(m->f2345(rand).res.bytes()), s.at("f2"));
  Milenage moved = std::move(*m);
  EXPECT_EQ(hex_encode(moved.f5_star(rand)), s.at("f5star"));
  Milenage constructed = std::move(moved);
  EXPECT_EQ(hex_encode(constructed.f2345(rand).ck.bytes()), s.at("f3"));
  // Move assignment over a live context (another subscription's) frees that one.
  auto s3 = load_milenage_test_sets().at(2);
  auto other = Milenage::create(*K::from(unhex(s3.at("k"))), *Opc::from(unhex(s3.at("opc"))));
  ASSERT_TRUE(other.ok());
  *other = std::move(constructed);
  EXPECT_EQ(hex_encode(other->f2345(rand).ik.bytes()), s.at("f4"));
}

TEST(Milenage, DifferentRandGivesDifferentOutputs) {
  auto s = load_milenage_test_sets().at(0);
  auto m = Milenage::create(*K::from(unhex(s.at("k"))), *Opc::from(unhex(s.at("opc"))));
  Rand r1 = to_array<16>(s.at("rand")), r2 = r1;
  r2[15] ^= 1;
  EXPECT_FALSE(m->f2345(r1).res == m->f2345(r2).res);
  EXPECT_NE(m->f5_star(r1), m->f5_star(r2));
}

TEST(SecretBytes, FromChecksLengthAndComparesByValue) {
  EXPECT_FALSE(K::from(unhex("00112233")).has_value());
  auto a = K::from(unhex("465b5ce8b199b49faa5f0a2ee238a6bc"));
  auto b = K::from(unhex("465b5ce8b199b49faa5f0a2ee238a6bc"));
  auto c = K::from(unhex("465b5ce8b199b49faa5f0a2ee238a6bd"));
  ASSERT_TRUE(a && b && c);
  EXPECT_TRUE(*a == *b);
  EXPECT_FALSE(*a == *c);
  K zero;
  EXPECT_EQ(hex_encode(zero.bytes()), std::string(32, '0'));
}

TEST(SecretString, MoveLeavesSourceEmpty) {
  SecretString a(std::string("Circle Of Life"));
  SecretString b(std::move(a));
  EXPECT_EQ(b.view(), "Circle Of Life");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): wiped and empty by contract
  SecretString c;
  c = b;
  EXPECT_TRUE(c == b);
  c = SecretString(std::string("x"));
  EXPECT_EQ(c.view(), "x");
}

}  // namespace
