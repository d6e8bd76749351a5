#include "resolver/core/field_rules.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <random>
#include <string>
#include <vector>

namespace keyreq::rules {
namespace {

TEST(FieldRules, IdBoundaries) {
  EXPECT_TRUE(is_agent_id("000"));
  EXPECT_TRUE(is_agent_id("99999999"));
  EXPECT_FALSE(is_agent_id("99"));
  EXPECT_FALSE(is_agent_id("123456789"));
  EXPECT_FALSE(is_agent_id("12a"));
  EXPECT_FALSE(is_agent_id("１２３"));  // full-width digits are not ASCII
}

TEST(FieldRules, NameBoundaries) {
  EXPECT_TRUE(is_agent_name("a"));
  EXPECT_TRUE(is_agent_name(std::string(128, 'x')));
  EXPECT_TRUE(is_agent_name("Az09-_."));
  EXPECT_FALSE(is_agent_name(""));
  EXPECT_FALSE(is_agent_name(std::string(129, 'x')));
  for (char c : std::string(" !#$%/\\:;@\"'\t\n~,")) {
    EXPECT_FALSE(is_agent_name(std::string("web") + c)) << "char " << int(c);
  }
  EXPECT_FALSE(is_agent_name("caf\xc3\xa9"));
}

TEST(FieldRules, KeyBoundaries) {
  EXPECT_TRUE(is_agent_key("k"));
  EXPECT_TRUE(is_agent_key(std::string(128, '~')));
  EXPECT_TRUE(is_agent_key("a b"));
  EXPECT_TRUE(is_agent_key("\"\\{}"));
  EXPECT_FALSE(is_agent_key(""));
  EXPECT_FALSE(is_agent_key(std::string(129, 'k')));
  EXPECT_FALSE(is_agent_key(" k"));
  EXPECT_FALSE(is_agent_key("k "));
  EXPECT_FALSE(is_agent_key("a\x7f"));
  EXPECT_FALSE(is_agent_key("a\x1f"));
  EXPECT_FALSE(is_agent_key("a\nb"));
}

// The hand-written IPv4 parser must accept exactly what inet_pton(AF_INET) does.
TEST(FieldRules, Ipv4MatchesInetPton) {
  std::vector<std::string> cases = {"0.0.0.0",
                                    "255.255.255.255",
                                    "256.0.0.0",
                                    "01.2.3.4",
                                    "1.2.3.04",
                                    "1.2.3",
                                    "1.2.3.4.",
                                    ".1.2.3.4",
                                    "1..2.3",
                                    "1.2.3.4.5",
                                    "1234.1.1.1",
                                    "00.0.0.0",
                                    "1.2.3.4 ",
                                    " 1.2.3.4",
                                    "1.2.3.-4",
                                    "1.2.3.+4",
                                    std::string("1.2.3.4\0", 8),
                                    "0x1.2.3.4",
                                    "1.2.3.255",
                                    "1.2.3.0255",
                                    "999.1.1.1",
                                    "100.200.250.249"};
  std::mt19937 rng(7);
  const std::string alphabet = "0125.9";
  for (int n = 0; n < 200000; ++n) {
    std::string s(rng() % 16, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    cases.push_back(s);
  }
  for (const auto& s : cases) {
    unsigned char out[4];
    const bool libc = inet_pton(AF_INET, std::string(s).c_str(), out) == 1 && s.find('\0') == std::string::npos;
    EXPECT_EQ(is_ip_address(s), libc) << s;
  }
}

TEST(FieldRules, IpForms) {
  for (const char* ok : {"any", "10.0.0.1", "0.0.0.0/0", "10.0.0.0/32", "192.168.1.7/24", "10.0.0.0/255.255.255.0",
                         "10.0.0.0/255.255.255.255", "10.0.0.0/0.0.0.0", "::", "::1", "fe80::1/64", "::/0",
                         "2001:db8::/128", "::ffff:1.2.3.4"}) {
    EXPECT_TRUE(is_agent_ip(ok)) << ok;
  }
  for (const char* bad :
       {"", "ANY", "any/0", "10.0.0.1/33", "::1/129", "10.0.0.1/", "10.0.0.1/01", "10.0.0.1/+8", "10.0.0.0/255.0.255.0",
        "::1/255.255.255.0", "10.0.0", "1.2.3.4.5", "01.2.3.4", "[::1]", "fe80::1%eth0", "10.0.0.1 ", "1.2.3.256"}) {
    EXPECT_FALSE(is_agent_ip(bad)) << bad;
  }
}

TEST(FieldRules, NetworkContains) {
  struct Case {
    const char* network;
    const char* address;
    bool contains;
  };
  const Case cases[] = {
      {"any", "10.1.2.3", true},
      {"any", "::1", true},
      {"10.1.2.3", "10.1.2.3", true},
      {"10.1.2.3", "10.1.2.4", false},
      {"10.1.2.0/24", "10.1.2.255", true},
      {"10.1.2.0/24", "10.1.3.0", false},
      {"10.1.0.0/255.255.0.0", "10.1.200.3", true},
      {"10.1.0.0/17", "10.1.127.3", true},
      {"10.1.0.0/17", "10.1.128.3", false},
      {"0.0.0.0/0", "8.8.8.8", true},
      {"0::1", "::1", true},
      {"2001:db8::/32", "2001:db8:ffff::1", true},
      {"::/0", "10.0.0.1", false},  // families never mix
      {"0.0.0.0/0", "::1", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(network_contains(c.network, c.address), c.contains) << c.network << " contains " << c.address;
  }
}

}  // namespace
}  // namespace keyreq::rules
