#include "resolver/core/response_parser.hpp"

#include <gtest/gtest.h>

#include <string>

namespace keyreq {
namespace {

const Request kId001{RequestKind::id, "001"};

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string answer(std::string_view id, std::string_view name, std::string_view ip, std::string_view key) {
  return R"({"error":0,"data":{"id":")" + json_escape(id) + R"(","name":")" + json_escape(name) + R"(","ip":")" +
         json_escape(ip) + R"(","key":")" + json_escape(key) + "\"}}";
}

class ParserTest : public ::testing::Test {
 protected:
  ResponseVerdict parse(std::string_view out, const Request& r = kId001) { return parser_.parse(out, r); }

  void expect_accept(std::string_view out, const Request& r = kId001) {
    auto v = parse(out, r);
    const auto* violation = std::get_if<RuleViolation>(&v);
    EXPECT_TRUE(std::holds_alternative<AgentRecord>(v))
        << out << " -> " << (violation ? violation->rule + " " + violation->detail : "decline");
  }

  void expect_rule(std::string_view rule, std::string_view out, const Request& r = kId001) {
    auto v = parse(out, r);
    ASSERT_TRUE(std::holds_alternative<RuleViolation>(v)) << out;
    EXPECT_EQ(std::get<RuleViolation>(v).rule, rule) << out << " -> " << std::get<RuleViolation>(v).detail;
  }

  ResponseParser parser_;
};

TEST_F(ParserTest, ValidAnswerGivesTheRecord) {
  auto v = parse(R"(  {"error":0,"data":{"id":"001","name":"web-1","ip":"any","key":"abc"}} )"
                 "\n");
  ASSERT_TRUE(std::holds_alternative<AgentRecord>(v));
  EXPECT_EQ(std::get<AgentRecord>(v), (AgentRecord{"001", "web-1", "any", "abc"}));
}

TEST_F(ParserTest, D1DocumentLevel) {
  expect_rule("D1", "");
  expect_rule("D1", "   \n");
  expect_rule("D1", "not json");
  expect_rule("D1", answer("001", "a", "any", "k") + "x");
  expect_rule("D1", answer("001", "a", "any", "k") + answer("001", "a", "any", "k"));
  expect_rule("D1", R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k"})");  // truncated
  expect_rule("D1", "\xef\xbb\xbf" + answer("001", "a", "any", "k"));                      // BOM
  expect_rule("D1", R"({"error":0,"x":"caf\xff","data":{"id":"001","name":"a","ip":"any","key":"k"}})");
  expect_rule("D1", std::string(R"({"error":0,"x":"a)") + '\x01' + R"(b"})");
  expect_rule("D1", R"({"error":0,"x":"\q"})");
  expect_rule("D1", R"({"error":0,"x":01})");
  expect_rule("D1", R"({"error":0,"x":1e999})");
  expect_rule("D1", R"({"error":0,"x":[1,,2]})");
  expect_rule("D1", R"({"error":0,"x":tru})");
  expect_rule("D1", R"({"error":0 "x":1})");
  // Trailing whitespace of every JSON kind is fine.
  expect_accept(" \t\r\n" + answer("001", "a", "any", "k") + " \t\r\n");
}

TEST_F(ParserTest, D1NestingLimit) {
  auto nested = [](int levels) {
    return R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k"},"x":)" + std::string(levels - 1, '[') +
           std::string(levels - 1, ']') + "}";
  };
  expect_accept(nested(64));  // the top-level object is level 1
  expect_rule("D1", nested(65));
  expect_rule("D1", std::string(100000, '['));
  // Counted wherever the walk goes: a top-level array, a known field's value.
  expect_rule("D1", std::string(65, '[') + std::string(65, ']'));
  expect_rule("D1", R"({"error":0,"data":{"id":)" + std::string(64, '[') + std::string(64, ']') + "}}");
  const auto deep = parse(std::string(65, '[') + std::string(65, ']'));
  ASSERT_TRUE(std::holds_alternative<RuleViolation>(deep));
  EXPECT_EQ(std::get<RuleViolation>(deep).detail, "nesting deeper than 64 levels");
  // Brackets inside strings (also after an escaped quote) do not nest.
  const std::string many = std::string(100, '[') + "\\\"" + std::string(100, '{');
  expect_accept(R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k"},"x":")" + many + "\"}");
  expect_rule("D1", R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k"},"x":")" + many + "\"," +
                        R"("y":)" + std::string(64, '[') + std::string(64, ']') + "}");
  // Raw control characters are left to simdjson's stage 1: in a key, in data.
  expect_rule("D1", std::string(R"({"error":0,"a)") + '\x1f' + R"(":1})");
  expect_rule("D1", std::string(R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k)") + '\n' + R"("}})");
}

TEST_F(ParserTest, D2ObjectAndDuplicates) {
  expect_rule("D2", "[]");
  expect_rule("D2", "0");
  expect_rule("D2", R"("error")");
  expect_rule("D2", "null");
  expect_rule("D2", R"({"error":0,"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k"}})");
  expect_rule("D2", R"({"error":0,"data":{"id":"001","id":"001","name":"a","ip":"any","key":"k"}})");
  expect_rule("D2", R"({"error":0,"x":{"a":1,"\u0061":2},"data":{"id":"001","name":"a","ip":"any","key":"k"}})");
  expect_rule("D1", R"([1,2] x)");  // D1 comes first
}

// The keys the parser looks for are told apart by a bit each, other keys by
// a set (response_parser.cpp, each_field): a repeat is D2 either way, also
// when one of the two is written with an escape, and a repeated key that is
// not looked for still comes before the S1 it would also break.
TEST_F(ParserTest, D2RepeatsOfLookedForAndOtherKeys) {
  const std::string data = R"("data":{"id":"001","name":"a","ip":"any","key":"k"})";
  expect_rule("D2", R"({"error":0,"message":"a","message":"b",)" + data + "}");
  expect_rule("D2", R"({"error":0,"\u0065rror":0,)" + data + "}");
  expect_rule("D2", R"({"error":0,)" + data + R"(,"d\u0061ta":{}})");
  expect_rule("D2", R"({"error":0,"data":{"id":"001","name":"a","\u0069p":"any","ip":"any","key":"k"}})");
  expect_rule("D2", R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k","key":"k"}})");
  expect_rule("D2", R"({"error":0,"data":{"id":"001","x":1,"name":"a","ip":"any","key":"k","x":1}})");
  expect_rule("D2", R"({"error":0,"x":1,"y":2,"x":1,)" + data + "}");
  // Each key once, one of them escaped: no repeat.
  expect_rule("S1", R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k","\u0078":1}})");
  const auto accepted = parse(R"({"\u0065rror":0,"data":{"\u0069d":"001","name":"a","ip":"any","key":"k"}})");
  EXPECT_TRUE(std::holds_alternative<AgentRecord>(accepted));
}

// Found by keyreq fuzz: top-level scalars are judged like any other document.
TEST_F(ParserTest, TopLevelScalarsFollowTheRules) {
  for (const char* d2 : {"true   ", "false  ", "true \n ", " null ", "123456789012345678901234567890",
                         "-9223372036854775809", "\"s\"  ", "1e5"}) {
    expect_rule("D2", d2);
  }
  for (const char* d1 : {"nullx", "falsex", "truex", "nullxx", "null\v", "1 2", "\"a\" \"b\"", "1]", "tru"}) {
    expect_rule("D1", d1);
  }
  expect_rule("D1", std::string("null\0", 5));
}

TEST_F(ParserTest, E1TypeStrictError) {
  const std::string data = R"(,"data":{"id":"001","name":"a","ip":"any","key":"k"}})";
  expect_rule("E1", R"({"data":{"id":"001","name":"a","ip":"any","key":"k"}})");
  for (const char* bad : {R"("0")", R"("1")", "1.0", "0.0", "1e0", "-1", "-0", "true", "null", "[]", "{}", "2147483648",
                          "99999999999999999999"}) {
    expect_rule("E1", std::string(R"({"error":)") + bad + data);
  }
  expect_rule("E1", R"({"ERROR":0)" + data);  // names are case-sensitive
  auto v = parse(R"({"error":2147483647,"message":"max"})");
  ASSERT_TRUE(std::holds_alternative<ProviderDecline>(v));
  EXPECT_EQ(std::get<ProviderDecline>(v).code, 2147483647);
}

TEST_F(ParserTest, E2DeclineCarriesCodeAndMessage) {
  auto v = parse(R"({"error":4,"message":"Agent not found"})");
  ASSERT_TRUE(std::holds_alternative<ProviderDecline>(v));
  EXPECT_EQ(std::get<ProviderDecline>(v).code, 4);
  EXPECT_EQ(std::get<ProviderDecline>(v).message, "Agent not found");
  // Nothing of data is checked on a decline; a non-string message is dropped.
  v = parse(R"({"error":5,"message":7,"data":{"id":"x"}})");
  ASSERT_TRUE(std::holds_alternative<ProviderDecline>(v));
  EXPECT_EQ(std::get<ProviderDecline>(v).message, "");
  // Messages are escaped for the log.
  v = parse(R"({"error":1,"message":"line\nbreak"})");
  EXPECT_EQ(std::get<ProviderDecline>(v).message, "line\\nbreak");
}

TEST_F(ParserTest, S1DataShape) {
  expect_rule("S1", R"({"error":0})");
  expect_rule("S1", R"({"error":0,"data":[]})");
  expect_rule("S1", R"({"error":0,"data":"x"})");
  expect_rule("S1", R"({"error":0,"data":{"id":"001","name":"a","ip":"any"}})");
  expect_rule("S1", R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k","extra":"x"}})");
  expect_rule("S1", R"({"error":0,"data":{"id":"001","name":"a","ip":"any","Key":"k"}})");
  expect_rule("S1", R"({"error":0,"data":{"id":1,"name":"a","ip":"any","key":"k"}})");
  expect_rule("S1", R"({"error":0,"data":{"id":"001","name":null,"ip":"any","key":"k"}})");
  expect_rule("S1", R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":["k"]}})");
  // Unknown top-level keys are a SHOULD (S6), not refused.
  expect_accept(R"({"error":0,"extra":{"deep":[1,2,{"x":null}]},"data":{"id":"001","name":"a","ip":"any","key":"k"}})");
}

TEST_F(ParserTest, S2ToS5AtTheirBoundaries) {
  expect_accept(answer("001", "a", "any", "k"));
  expect_accept(answer("12345678", "a", "any", "k"), Request{RequestKind::id, "12345678"});
  expect_rule("S2", answer("01", "a", "any", "k"));
  expect_rule("S2", answer("123456789", "a", "any", "k"));
  expect_rule("S2", answer("0a1", "a", "any", "k"));

  expect_accept(answer("001", std::string(128, 'n'), "any", "k"));
  expect_rule("S3", answer("001", std::string(129, 'n'), "any", "k"));
  expect_rule("S3", answer("001", "", "any", "k"));
  expect_rule("S3", answer("001", "a b", "any", "k"));
  expect_rule("S3", R"({"error":0,"data":{"id":"001","name":"a\nb","ip":"any","key":"k"}})");

  expect_accept(answer("001", "a", "10.0.0.0/255.255.255.0", "k"));
  expect_accept(answer("001", "a", "fe80::1/128", "k"));
  expect_rule("S4", answer("001", "a", "10.0.0.0/33", "k"));
  expect_rule("S4", answer("001", "a", "fe80::1/129", "k"));
  expect_rule("S4", answer("001", "a", "any ", "k"));
  expect_rule("S4", answer("001", "a", "", "k"));

  expect_accept(answer("001", "a", "any", std::string(128, '~')));
  expect_accept(answer("001", "a", "any", R"(q"b\{})"));
  expect_rule("S5", answer("001", "a", "any", std::string(129, 'k')));
  expect_rule("S5", answer("001", "a", "any", ""));
  expect_rule("S5", answer("001", "a", "any", " k"));
  expect_rule("S5", answer("001", "a", "any", "k "));
  expect_rule("S5", R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k\u007f"}})");
  expect_rule("S5", R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k\u0000"}})");
  expect_rule("S5", R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"caf\u00e9"}})");
}

TEST_F(ParserTest, EscapedValuesAreJudgedUnescaped) {
  expect_accept(R"({"error":0,"data":{"id":"\u0030\u0030\u0031","name":"a","ip":"any","key":"k"}})");
}

TEST_F(ParserTest, NulInsideAnAddressIsRefused) {
  expect_rule("S4", R"({"error":0,"data":{"id":"001","name":"a","ip":"10.0.0.1\u0000x","key":"k"}})");
}

TEST_F(ParserTest, C1AndC2Consistency) {
  expect_rule("C1", answer("002", "a", "any", "k"));
  const Request ip{RequestKind::ip, "192.168.1.100"};
  expect_accept(answer("007", "a", "192.168.1.100", "k"), ip);
  expect_accept(answer("007", "a", "192.168.1.0/24", "k"), ip);
  expect_accept(answer("007", "a", "any", "k"), ip);
  expect_rule("C2", answer("007", "a", "192.168.1.101", "k"), ip);
  expect_rule("C2", answer("007", "a", "192.168.0.0/24", "k"), ip);
  expect_rule("C2", answer("007", "a", "::ffff:192.168.1.100", "k"), ip);
}

TEST_F(ParserTest, OrderIsTheDocumentedOne) {
  expect_rule("S2", answer("01", "a b", "bad", " k"));
  expect_rule("S3", answer("001", "a b", "bad", " k"));
  expect_rule("S4", answer("001", "ab", "bad", " k"));
  expect_rule("S5", answer("002", "ab", "any", " k"));  // S5 before C1
  expect_rule("D2", R"({"error":"x","error":1})");      // D2 before E1
  expect_rule("E1", R"({"error":"x","data":5})");       // E1 before S1
}

TEST_F(ParserTest, ParserIsReusable) {
  for (int i = 0; i < 3; ++i) {
    expect_rule("D1", "{");
    expect_accept(answer("001", "a", "any", "k"));
  }
}

}  // namespace
}  // namespace keyreq
