#include "resolver/resolve/resolver.hpp"

#include <gtest/gtest.h>

#include "testkit/files.hpp"
#include "testkit/processes.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq {
namespace {
using keyreq::testkit::TempDir;

// Answers every request with fixed bytes, or fails, as told.
class ScriptedProvider final : public ProviderClient {
 public:
  ProviderResult next;
  int calls = 0;
  ProviderResult call(const Request&) override {
    ++calls;
    return next;
  }
  std::string describe() const override { return "scripted"; }
};

std::string answer(std::string_view id, std::string_view name, std::string_view ip) {
  return R"({"error":0,"data":{"id":")" + std::string(id) + R"(","name":")" + std::string(name) + R"(","ip":")" +
         std::string(ip) + R"(","key":"k"}})";
}

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = KeyStore::open(dir_ / "client.keys");
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(opened));
    keys_ = std::get<std::unique_ptr<KeyStore>>(std::move(opened));
  }
  Outcome resolve_with(ProviderResult r, std::string_view request = "id:001") {
    provider_.next = std::move(r);
    Resolver resolver(provider_, keys_.get());
    return resolver.resolve(request);
  }
  std::string keys_file() const { return keyreq::testkit::read_file(dir_ / "client.keys"); }

  TempDir dir_;
  ScriptedProvider provider_;
  std::unique_ptr<KeyStore> keys_;
};

TEST_F(ResolverTest, RegistersThenAlreadyRegistered) {
  auto o = resolve_with(ProviderOutput{answer("001", "web", "any"), ""});
  ASSERT_TRUE(std::holds_alternative<outcome::Registered>(o)) << outcome_json(o, "id:001");
  EXPECT_EQ(keys_file(), "001 web any k\n");
  o = resolve_with(ProviderOutput{answer("001", "web", "any"), ""});
  EXPECT_TRUE(std::holds_alternative<outcome::AlreadyRegistered>(o));
  EXPECT_EQ(outcome_exit_code(o), 0);
  EXPECT_EQ(keys_file(), "001 web any k\n");
}

TEST_F(ResolverTest, RefusedAnswersNeverReachClientKeys) {
  auto o = resolve_with(ProviderOutput{answer("001", "bad name", "any"), ""});
  ASSERT_TRUE(std::holds_alternative<outcome::Refused>(o));
  EXPECT_EQ(std::get<outcome::Refused>(o).rule, "S3");
  const auto line = outcome_json(o, "id:001");
  EXPECT_NE(line.find(R"("rule":"S3")"), std::string::npos) << line;
  EXPECT_EQ(outcome_exit_code(o), 1);
  o = resolve_with(ProviderOutput{answer("002", "web", "any"), ""});  // C1
  EXPECT_EQ(std::get<outcome::Refused>(o).rule, "C1");
  EXPECT_EQ(keys_file(), "");
}

TEST_F(ResolverTest, DeclineConflictAndFailures) {
  auto o = resolve_with(ProviderOutput{R"({"error":4,"message":"Agent not found"})", ""});
  ASSERT_TRUE(std::holds_alternative<outcome::Declined>(o));
  EXPECT_EQ(std::get<outcome::Declined>(o).code, 4);
  EXPECT_NE(outcome_json(o, "id:001").find("Agent not found"), std::string::npos);

  ASSERT_TRUE(
      std::holds_alternative<outcome::Registered>(resolve_with(ProviderOutput{answer("001", "web", "any"), ""})));
  o = resolve_with(ProviderOutput{answer("002", "web", "any"), ""}, "id:002");  // same name, other id
  ASSERT_TRUE(std::holds_alternative<outcome::Conflict>(o));
  EXPECT_EQ(outcome_exit_code(o), 1);

  o = resolve_with(ProviderFailure{ProviderFailureClass::timeout, "no answer", "err\n"});
  ASSERT_TRUE(std::holds_alternative<outcome::ProviderFailed>(o));
  EXPECT_NE(outcome_json(o, "id:001").find(R"("failure":"timeout")"), std::string::npos);
}

TEST_F(ResolverTest, InvalidRequestNeverReachesTheProvider) {
  auto o = resolve_with(ProviderOutput{answer("001", "web", "any"), ""}, "invalid:request");
  ASSERT_TRUE(std::holds_alternative<outcome::InvalidRequest>(o));
  EXPECT_EQ(outcome_exit_code(o), 2);
  EXPECT_EQ(provider_.calls, 0);
}

TEST_F(ResolverTest, ValidateOnlyWithoutKeystore) {
  provider_.next = ProviderOutput{answer("001", "web", "any"), ""};
  Resolver resolver(provider_, nullptr);
  auto o = resolver.resolve("id:001");
  EXPECT_TRUE(std::holds_alternative<outcome::Accepted>(o));
  EXPECT_EQ(keys_file(), "");
}

TEST(OutcomeJson, StaysOneValidLineForHostileBytes) {
  Outcome o = outcome::InvalidRequest{"x"};
  const auto line = outcome_json(o, std::string("id:\n\xff\x01", 6));
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace keyreq
