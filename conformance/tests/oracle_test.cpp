// The oracle on its own: every rule of docs/rules.md at its edges, the rule
// order, and the hand-written address parser checked against inet_pton (the
// oracle itself does not use it, to stay independent; the test may).
#include "conformance/oracle.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "conformance/generators.hpp"

namespace keyreq::conformance {
namespace {

const OracleRequest kId001{"id", "001"};

std::string answer(std::string_view id, std::string_view name, std::string_view ip, std::string_view key) {
  return "{\"error\":0,\"data\":{\"id\":" + json_quote(id) + ",\"name\":" + json_quote(name) +
         ",\"ip\":" + json_quote(ip) + ",\"key\":" + json_quote(key) + "}}";
}
std::string valid() { return answer("001", "web", "any", "k"); }

std::string label(std::string_view out, const OracleRequest& r = kId001) { return verdict_label(judge(out, r)); }

TEST(Oracle, AcceptsAndReturnsUnescapedRecord) {
  const auto v =
      judge(R"( {"error":0,"data":{"id":"\u0030\u00301","name":"w\u0065b","ip":"any","key":"\"\\/"}} )", kId001);
  ASSERT_TRUE(std::holds_alternative<OracleAccept>(v)) << verdict_label(v);
  EXPECT_EQ(std::get<OracleAccept>(v), (OracleAccept{"001", "web", "any", "\"\\/"}));
}

TEST(Oracle, D1Document) {
  for (const std::string& out :
       {std::string(), std::string(" \n"), "\xef\xbb\xbf" + valid(), valid() + "x", valid() + valid(),
        valid().substr(0, valid().size() - 1), valid() + std::string(1, '\0'), std::string(1, '\0') + valid(),
        "\f" + valid(), valid() + "\v", valid() + "\xc2\xa0", std::string("nullx"), std::string("null\v"),
        std::string("falsex"), std::string("{\"error\":0,}")}) {
    EXPECT_EQ(label(out), "D1") << escape_for_display(out);
  }
}

TEST(Oracle, D1Utf8AndStrings) {
  for (const char* bad : {"\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xf0\x8f\xbf\xbf",
                          "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xc3", "\x01", "\t", "\x1f"}) {
    const std::string out = "{\"error\":0,\"m\":\"a" + std::string(bad) + "b\",\"data\":{}}";
    EXPECT_EQ(label(out), "D1") << escape_for_display(out);
  }
  for (const char* esc : {"\\x41", "\\u12", "\\ud800", "\\udc00", "\\ud800\\u0041", "\\'", "\\U0041"}) {
    const std::string out = "{\"error\":0,\"m\":\"" + std::string(esc) + "zz\"}";
    EXPECT_EQ(label(out), "D1") << out;
  }
  // Valid UTF-8 of every length, DEL and a surrogate pair escape are fine (E1: no error).
  EXPECT_EQ(label("{\"m\":\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\x7f\\ud83d\\ude00\"}"), "E1");
}

TEST(Oracle, D1NestingAndNumbers) {
  const auto nest = [](int n) {
    return std::string(static_cast<std::size_t>(n), '[') + std::string(static_cast<std::size_t>(n), ']');
  };
  EXPECT_EQ(label("{\"error\":0,\"d\":" + nest(63) +
                  ",\"data\":{\"id\":\"001\",\"name\":\"a\",\"ip\":\"any\",\"key\":\"k\"}}"),
            "accept");
  EXPECT_EQ(label("{\"error\":0,\"d\":" + nest(64) + "}"), "D1");
  EXPECT_EQ(label(nest(64)), "D2");
  EXPECT_EQ(label(nest(65)), "D1");  // D1 comes before "not an object"
  for (const std::string& n : std::vector<std::string>{"01", "1.", ".5", "+1", "-", "1e", "NaN", "Infinity", "1e999",
                                                       "-1e999", "0x1", "1" + std::string(400, '0')}) {
    EXPECT_EQ(label("{\"n\":" + n + "}"), "D1") << n;
  }
  for (const char* n : {"-0", "1e308", "1e-400", "123456789012345678901234567890", "-9223372036854775809", "5e-324"}) {
    EXPECT_EQ(label(std::string("{\"n\":") + n + "}"), "E1") << n;  // valid JSON: on to E1
  }
}

TEST(Oracle, D2ObjectsAndDuplicates) {
  for (const char* out : {"[]", "\"x\"", "0", "null", "true", "false   ", " [{}] "}) EXPECT_EQ(label(out), "D2") << out;
  EXPECT_EQ(label(R"({"error":0,"error":0})"), "D2");
  EXPECT_EQ(label(R"({"error":0,"\u0065rror":0})"), "D2");
  EXPECT_EQ(label(R"({"x":[{"a":1,"a":2}]})"), "D2");
  EXPECT_EQ(label(R"({"":1,"":2})"), "D2");
  EXPECT_EQ(label(R"({"a":1,"A":2})"), "E1");  // case-sensitive: not a duplicate
  EXPECT_EQ(label(R"({"error":0,"error":0})"
                  "x"),
            "D1");  // D1 before D2
}

TEST(Oracle, E1AndDecline) {
  for (const char* e : {"\"0\"", "0.0", "0e0", "1e0", "-0", "-1", "true", "null", "[]", "{}", "2147483648",
                        "18446744073709551615", "18446744073709551616", "1.5"}) {
    EXPECT_EQ(label(std::string("{\"error\":") + e + "}"), "E1") << e;
  }
  EXPECT_EQ(label(R"({"ERROR":0,"data":{}})"), "E1");
  const auto d = judge(R"({"error":2147483647,"message":"a\nb","data":"junk"})", kId001);
  ASSERT_TRUE(std::holds_alternative<OracleDecline>(d));
  EXPECT_EQ(std::get<OracleDecline>(d).code, 2147483647);
  EXPECT_EQ(std::get<OracleDecline>(d).message, "a\nb");
  const auto no_message = judge(R"({"error":4,"message":5})", kId001);
  ASSERT_TRUE(std::holds_alternative<OracleDecline>(no_message));
  EXPECT_EQ(std::get<OracleDecline>(no_message).message, "");
}

TEST(Oracle, S1Shape) {
  for (const char* out : {R"({"error":0})", R"({"error":0,"data":[]})", R"({"error":0,"data":null})",
                          R"({"error":0,"data":{"id":"001","name":"a","ip":"any"}})",
                          R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k","x":1}})",
                          R"({"error":0,"data":{"id":"001","name":"a","ip":"any","Key":"k"}})",
                          R"({"error":0,"data":{"id":1,"name":"a","ip":"any","key":"k"}})",
                          R"({"error":0,"Data":{"id":"001","name":"a","ip":"any","key":"k"}})"}) {
    EXPECT_EQ(label(out), "S1") << out;
  }
}

TEST(Oracle, FieldRulesAtTheirBounds) {
  EXPECT_EQ(label(answer("12345678", "a", "any", "k"), {"id", "12345678"}), "accept");
  EXPECT_EQ(label(answer("01", "a", "any", "k")), "S2");
  EXPECT_EQ(label(answer("123456789", "a", "any", "k")), "S2");
  EXPECT_EQ(label(answer("00a", "a", "any", "k")), "S2");
  EXPECT_EQ(label(answer("001", std::string(128, 'a'), "any", "k")), "accept");
  EXPECT_EQ(label(answer("001", std::string(129, 'a'), "any", "k")), "S3");
  EXPECT_EQ(label(answer("001", "", "any", "k")), "S3");
  EXPECT_EQ(label(answer("001", "a b", "any", "k")), "S3");
  EXPECT_EQ(label(answer("001", "caf\xc3\xa9", "any", "k")), "S3");
  EXPECT_EQ(label(answer("001", "a", "ANY", "k")), "S4");
  EXPECT_EQ(label(answer("001", "a", "any", "!" + std::string(126, ' ') + "~")), "accept");
  EXPECT_EQ(label(answer("001", "a", "any", std::string(129, 'k'))), "S5");
  EXPECT_EQ(label(answer("001", "a", "any", " k")), "S5");
  EXPECT_EQ(label(answer("001", "a", "any", "k ")), "S5");
  EXPECT_EQ(label(answer("001", "a", "any", "a\x7f")), "S5");
  EXPECT_EQ(label(answer("001", "a", "any", std::string("a\0b", 3))), "S5");
  EXPECT_EQ(label(answer("002", "a", "any", "k")), "C1");
  EXPECT_EQ(label(answer("0001", "a", "any", "k")), "C1");
}

// The decimals of S4 (IPv4 octets, prefix lengths): no sign, no leading
// zero, within range (docs/rules.md).
TEST(Oracle, S4DecimalsAtTheirBounds) {
  for (const std::string ip : {"0.0.0.0", "255.255.255.255", "10.0.0.1/0", "10.0.0.1/32", "::/0", "::1/128"}) {
    EXPECT_EQ(label(answer("001", "a", ip, "k")), "accept") << ip;
  }
  for (const std::string ip :
       {"256.0.0.1", "01.2.3.4", "1.2.3.004", "+1.2.3.4", "1.2.3.4/33", "1.2.3.4/024", "1.2.3.4/+8", "1.2.3.4/",
        "1.2.3.4/0032", "1.2.3.4/-0", "::1/129", "::1/0128", "1.2.3.4/3 ", "1.2.3.4/1e1"}) {
    EXPECT_EQ(label(answer("001", "a", ip, "k")), "S4") << ip;
  }
}

TEST(Oracle, RuleOrder) {
  EXPECT_EQ(label(answer("1", "a b", "bad", "")), "S2");
  EXPECT_EQ(label(answer("001", "a b", "bad", "")), "S3");
  EXPECT_EQ(label(answer("001", "a", "bad", "")), "S4");
  EXPECT_EQ(label(answer("002", "a", "any", "")), "S5");
  EXPECT_EQ(label(R"({"error":"0","data":1})"), "E1");
  EXPECT_EQ(label(R"({"error":0,"error":"x"})"), "D2");
  EXPECT_LT(rule_rank("D1"), rule_rank("D2"));
  EXPECT_LT(rule_rank("S5"), rule_rank("C1"));
}

TEST(Oracle, C2Coverage) {
  const OracleRequest v4{"ip", "10.1.2.3"};
  const OracleRequest v6{"ip", "fe80::1"};
  struct Case {
    const char* ip;  // the answer's ip field
    const OracleRequest& request;
    const char* label;
  };
  const Case cases[] = {
      {"any", v4, "accept"},          {"10.1.2.3", v4, "accept"},
      {"10.1.2.99/24", v4, "accept"}, {"10.1.0.0/255.255.0.0", v4, "accept"},
      {"0.0.0.0/0", v4, "accept"},    {"10.1.2.4", v4, "C2"},
      {"10.1.3.0/24", v4, "C2"},      {"::/0", v4, "C2"},
      {"::ffff:10.1.2.3", v4, "C2"},  {"FE80:0:0:0:0:0:0:0001", v6, "accept"},
      {"febf::/10", v6, "accept"},    {"fe81::/16", v6, "C2"},
      {"0.0.0.0/0", v6, "C2"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(label(answer("001", "a", c.ip, "k"), c.request), c.label) << c.ip << " for ip:" << c.request.value;
  }
}

TEST(Oracle, NetworkForms) {
  for (const char* ok :
       {"any", "0.0.0.0", "255.255.255.255", "1.2.3.4/0", "1.2.3.4/32", "1.2.3.4/255.255.255.0", "1.2.3.4/0.0.0.0",
        "1.2.3.4/255.255.255.255", "::", "::/0", "::1/128", "fe80::/64", "::ffff:1.2.3.4/96"}) {
    EXPECT_TRUE(parse_network(ok)) << ok;
  }
  for (const char* bad : {"ANY", "any/0", "1.2.3.4/33", "1.2.3.4/024", "1.2.3.4/", "1.2.3.4/+8", "1.2.3.4/-1",
                          "1.2.3.4/255.0.255.0", "1.2.3.4/255.255.255.1", "1.2.3.4/255.255.255.00", "::/129", "::/064",
                          "fe80::1/255.255.255.0", "1.2.3.4/24/24", "", " 1.2.3.4", "1.2.3.4 "}) {
    EXPECT_FALSE(parse_network(bad)) << bad;
  }
  const auto n = parse_network("10.1.2.3/255.255.254.0");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->prefix, 23);
}

TEST(Oracle, RequestBytes) {
  EXPECT_EQ(parse_request_bytes("id:001"), (OracleRequest{"id", "001"}));
  EXPECT_EQ(parse_request_bytes("id:001\n"), (OracleRequest{"id", "001"}));
  EXPECT_EQ(parse_request_bytes("ip:::1\r\n"), (OracleRequest{"ip", "::1"}));
  for (const std::string& bad :
       std::vector<std::string>{"id:01", "id:001\n\n", "id:001\r", "id:001 ", "ip:any", "ip:1.2.3.4/32", "ID:001",
                                "id:", "", std::string("id:001\0", 7)}) {
    EXPECT_FALSE(parse_request_bytes(bad)) << escape_for_display(bad);
  }
}

// The hand-written parser against inet_pton on the forms that matter and on
// random strings over the address alphabet.
bool pton4(const std::string& s) {
  unsigned char buf[4];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1;
}
bool pton6(const std::string& s, std::array<std::uint8_t, 16>* out = nullptr) {
  unsigned char buf[16];
  if (::inet_pton(AF_INET6, s.c_str(), buf) != 1) return false;
  if (out != nullptr) std::copy(buf, buf + 16, out->begin());
  return true;
}

TEST(OracleAddresses, AgreeWithInetPtonOnListedForms) {
  for (const std::string s : {"0.0.0.0",
                              "1.2.3.4",
                              "255.255.255.255",
                              "256.1.1.1",
                              "01.2.3.4",
                              "1.2.3",
                              "1.2.3.4.5",
                              "1.2.3.4.",
                              ".1.2.3.4",
                              "1..2.3",
                              "1.2.3.-4",
                              "0x1.2.3.4",
                              "1.2.3.04",
                              "",
                              "::",
                              "::1",
                              "1::",
                              "fe80::1",
                              "1:2:3:4:5:6:7:8",
                              "1:2:3:4:5:6:7::",
                              "::2:3:4:5:6:7:8",
                              "1:2:3:4:5:6:7::8",
                              "1:2:3:4:5:6:7:8:9",
                              "1:2:3:4:5:6:7",
                              ":::",
                              "1::2::3",
                              "12345::",
                              "0000:0000:0000:0000:0000:0000:0000:0001",
                              "::ffff:1.2.3.4",
                              "1:2:3:4:5:6:1.2.3.4",
                              "1:2:3:4:5:6::1.2.3.4",
                              "::1.2.3.4",
                              "::1.2.3",
                              "::1.2.3.04",
                              "::1.2.3.4:1",
                              "1.2.3.4::",
                              ":1::",
                              "1::2:",
                              "::g",
                              "[::1]",
                              "fe80::1%eth0",
                              "::ffff:256.1.1.1",
                              "1:2:3:4:5::1.2.3.4",
                              "FFFF::",
                              "a:b:c:d:e:f:0:1"}) {
    std::array<std::uint8_t, 16> want{};
    const bool v6 = pton6(s, &want);
    const auto got = parse_ipv6(s);
    EXPECT_EQ(got.has_value(), v6) << s;
    if (got && v6) {
      EXPECT_EQ(*got, want) << s;
    }
    EXPECT_EQ(parse_ipv4(s).has_value(), pton4(s)) << s;
  }
}

TEST(OracleAddresses, AgreeWithInetPtonOnRandomStrings) {
  std::mt19937_64 rng(20240607);
  const std::string alphabet = "0123456789abcdefABCDEF:.:::..0";
  for (int i = 0; i < 200000; ++i) {
    std::string s;
    const std::size_t n = rng() % 24;
    for (std::size_t k = 0; k < n; ++k) s += alphabet[rng() % alphabet.size()];
    ASSERT_EQ(parse_ipv6(s).has_value(), pton6(s)) << s;
    ASSERT_EQ(parse_ipv4(s).has_value(), pton4(s)) << s;
  }
}

TEST(OracleAddresses, GeneratedTextFormsParseBack) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::array<std::uint8_t, 16> b{};
    for (int g = 0; g < 8; ++g) {
      const unsigned v = rng() % 3 == 0 ? 0 : static_cast<unsigned>(rng() % 0x10000);
      b[2 * g] = static_cast<std::uint8_t>(v >> 8);
      b[2 * g + 1] = static_cast<std::uint8_t>(v);
    }
    const bool v4_tail = rng() % 4 == 0;
    const int hex_groups = v4_tail ? 6 : 8;
    int at = 0, len = 0;
    for (int g = 0; g < hex_groups; ++g) {
      int run = 0;
      while (g + run < hex_groups && b[2 * (g + run)] == 0 && b[2 * (g + run) + 1] == 0) ++run;
      if (run > 0 && rng() % 2 == 0) {
        at = g;
        len = 1 + static_cast<int>(rng() % static_cast<unsigned>(run));
        break;
      }
    }
    const std::string text = ipv6_text(b, at, len, v4_tail, rng() % 2 == 0, 1 + static_cast<int>(rng() % 4));
    std::array<std::uint8_t, 16> want{};
    ASSERT_TRUE(pton6(text, &want)) << text;
    ASSERT_EQ(want, b) << text;
    const auto got = parse_ipv6(text);
    ASSERT_TRUE(got) << text;
    ASSERT_EQ(*got, b) << text;
  }
}

TEST(OracleUtf8, MatchesTheStandardRanges) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("a\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"));
  for (const char* bad : {"\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xf0\x8f\xbf\xbf",
                          "\xf4\x90\x80\x80", "\xf5", "\xff", "\xc2", "\xe1\x80", "\xc2\x41"}) {
    EXPECT_FALSE(valid_utf8(bad)) << escape_for_display(bad);
  }
}

}  // namespace
}  // namespace keyreq::conformance
