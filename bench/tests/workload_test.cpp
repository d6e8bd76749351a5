#include "bench/workload.hpp"

#include <gtest/gtest.h>

#include <map>

#include "resolver/core/request.hpp"

namespace keyreq::bench {
namespace {

TEST(Workload, MixIsFollowedAndItemsAreWhatTheyClaim) {
  Mix mix;
  std::string error;
  ASSERT_TRUE(parse_mix("id=50,ip=30,unknown=10,invalid=10", mix, error)) << error;
  const auto w = make_workload(1000, mix, 20000, 1);
  std::map<std::string, int> kinds;
  for (const auto& item : w.items) {
    const auto parsed = parse_request(item.raw);
    if (item.expect == Expect::invalid) {
      EXPECT_TRUE(std::holds_alternative<InvalidRequest>(parsed)) << item.raw;
      ++kinds["invalid"];
    } else {
      ASSERT_TRUE(std::holds_alternative<Request>(parsed)) << item.raw;
      EXPECT_EQ(item.raw, item.kind + ":" + item.value);
      ++kinds[item.expect == Expect::decline ? "unknown" : item.kind];
    }
  }
  EXPECT_NEAR(kinds["id"], 10000, 500);
  EXPECT_NEAR(kinds["ip"], 6000, 400);
  EXPECT_NEAR(kinds["unknown"], 2000, 250);
  EXPECT_NEAR(kinds["invalid"], 2000, 250);
}

TEST(Workload, SameSeedSameStream) {
  const auto a = make_workload(500, Mix{}, 1000, 42);
  const auto b = make_workload(500, Mix{}, 1000, 42);
  for (std::size_t i = 0; i < a.items.size(); ++i) EXPECT_EQ(a.items[i].raw, b.items[i].raw);
}

TEST(Workload, ZipfConcentratesOnFewAgents) {
  Mix mix{100, 0, 0, 0, 1.2};
  const auto w = make_workload(10000, mix, 20000, 3);
  std::map<std::string, int> counts;
  for (const auto& item : w.items) ++counts[item.value];
  EXPECT_GT(counts["001"], 2000);  // rank 1 takes a large share under s = 1.2
  EXPECT_LT(counts.size(), 5000u);
}

TEST(Workload, BadMixIsRefused) {
  Mix mix;
  std::string error;
  EXPECT_FALSE(parse_mix("id=abc", mix, error));
  EXPECT_FALSE(parse_mix("foo=1", mix, error));
  EXPECT_FALSE(parse_mix("id=0", mix, error));
  EXPECT_FALSE(parse_mix("id", mix, error));
}

}  // namespace
}  // namespace keyreq::bench
