// The nlohmann validator used as the microbenchmark reference must reach the
// same verdicts as the resolver's simdjson validator, or the speed-up
// compares different work.
#include <gtest/gtest.h>

#include "bench/nlohmann_validator.hpp"
#include "bench/timed_calls.hpp"
#include "dataset/dataset.hpp"

namespace keyreq::bench {
namespace {

std::string verdict_name(const ResponseVerdict& v) {
  if (std::holds_alternative<AgentRecord>(v)) return "agent";
  if (auto* d = std::get_if<ProviderDecline>(&v)) return "decline " + std::to_string(d->code) + " " + d->message;
  return std::get<RuleViolation>(v).rule;
}

TEST(NlohmannValidator, AgreesWithTheResolverOnRealisticAnswers) {
  const auto a = fixtures::dataset_agent(41);
  const Request by_id{RequestKind::id, a.id};
  const Request by_ip{RequestKind::ip, a.ip};
  const std::string data = "\"data\":{\"id\":\"" + a.id + "\",\"name\":\"" + a.name + "\",\"ip\":\"" + a.ip +
                           "\",\"key\":\"" + a.key + "\"}";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"error\":0," + data + "}", "agent"},
      {"  {\"error\":0," + data + "}\n", "agent"},
      {"{\"error\":0," + data + ",\"extra\":1}", "agent"},
      {"{\"error\":1,\"message\":\"not found\"}", "decline 1 not found"},
      {"{\"error\":4}", "decline 4 "},
      {"{\"error\":0," + data + "} x", "D1"},
      {"", "D1"},
      {"{\"error\":0,", "D1"},
      {"[1]", "D2"},
      {"{\"error\":0,\"error\":0," + data + "}", "D2"},
      {"{\"error\":0,\"data\":{\"id\":\"1\",\"id\":\"2\"}}", "D2"},
      {"{\"data\":{}}", "E1"},
      {"{\"error\":\"0\"," + data + "}", "E1"},
      {"{\"error\":1.0}", "E1"},
      {"{\"error\":-1}", "E1"},
      {"{\"error\":2147483648}", "E1"},
      {"{\"error\":0}", "S1"},
      {"{\"error\":0,\"data\":[]}", "S1"},
      {"{\"error\":0,\"data\":{\"id\":\"001\",\"name\":\"a\",\"ip\":\"any\"}}", "S1"},
      {"{\"error\":0,\"data\":{\"id\":1,\"name\":\"a\",\"ip\":\"any\",\"key\":\"k\"}}", "S1"},
      {"{\"error\":0,\"data\":{\"id\":\"01\",\"name\":\"a\",\"ip\":\"any\",\"key\":\"k\"}}", "S2"},
      {"{\"error\":0,\"data\":{\"id\":\"" + a.id + "\",\"name\":\"a b\",\"ip\":\"any\",\"key\":\"k\"}}", "S3"},
      {"{\"error\":0,\"data\":{\"id\":\"" + a.id + "\",\"name\":\"a\",\"ip\":\"1.2.3\",\"key\":\"k\"}}", "S4"},
      {"{\"error\":0,\"data\":{\"id\":\"" + a.id + "\",\"name\":\"a\",\"ip\":\"any\",\"key\":\" k\"}}", "S5"},
      {"{\"error\":0,\"data\":{\"id\":\"999\",\"name\":\"a\",\"ip\":\"any\",\"key\":\"k\"}}", "C1"},
  };
  ResponseParser parser;
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(verdict_name(parser.parse(text, by_id)), expected) << text;
    EXPECT_EQ(verdict_name(validate_with_nlohmann(text, by_id)), expected) << text;
  }
  // C2 by ip
  const std::string other =
      "{\"error\":0,\"data\":{\"id\":\"" + a.id + "\",\"name\":\"" + a.name + "\",\"ip\":\"192.0.2.1\",\"key\":\"k\"}}";
  EXPECT_EQ(verdict_name(parser.parse(other, by_ip)), "C2");
  EXPECT_EQ(verdict_name(validate_with_nlohmann(other, by_ip)), "C2");
  const std::string good = "{\"error\":0," + data + "}";
  EXPECT_EQ(verdict_name(validate_with_nlohmann(good, by_ip)), "agent");
}

TEST(NullProvider, AnswersDatasetAgentsAndDeclinesOthers) {
  NullProvider p(100);
  const auto a = fixtures::dataset_agent(5);
  auto r = p.call(Request{RequestKind::id, a.id});
  ASSERT_TRUE(std::holds_alternative<ProviderOutput>(r));
  ResponseParser parser;
  EXPECT_TRUE(std::holds_alternative<AgentRecord>(
      parser.parse(std::get<ProviderOutput>(r).stdout_bytes, Request{RequestKind::id, a.id})));
  r = p.call(Request{RequestKind::id, "99999"});
  EXPECT_TRUE(std::holds_alternative<ProviderDecline>(
      parser.parse(std::get<ProviderOutput>(r).stdout_bytes, Request{RequestKind::id, "99999"})));
}

}  // namespace
}  // namespace keyreq::bench
