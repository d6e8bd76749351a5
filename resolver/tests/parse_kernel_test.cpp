// The response parser's two SIMD kernels (resolver/core/parse_kernel.hpp)
// give the same verdict, and ResponseParser uses the best one this CPU runs.
#include "resolver/core/parse_kernel.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <variant>

#include "testkit/files.hpp"
#include "testkit/paths.hpp"

namespace keyreq {
namespace {

// The verdict as one comparable line.
std::string describe(const ResponseVerdict& v) {
  if (const auto* a = std::get_if<AgentRecord>(&v))
    return "agent " + a->id + " " + a->name + " " + a->ip + " " + a->key;
  if (const auto* d = std::get_if<ProviderDecline>(&v)) return "decline " + std::to_string(d->code) + " " + d->message;
  const auto& r = std::get<RuleViolation>(v);
  return "violation " + r.rule + " " + r.detail;
}

TEST(ParseKernel, BestIsWhatThisCpuRuns) {
  const bool haswell = make_haswell_parse_kernel() != nullptr;
  EXPECT_STREQ(best_parse_kernel_name(), haswell ? "haswell" : "fallback");
  EXPECT_NE(make_fallback_parse_kernel(), nullptr);
}

// Every answer of the corpus (fixtures/outputs: valid, declined, each rule
// broken) for the requests id:001 and ip:10.0.0.1.
TEST(ParseKernel, HaswellAndFallbackAgreeOnTheCorpus) {
  auto haswell = make_haswell_parse_kernel();
  if (haswell == nullptr) GTEST_SKIP() << "this CPU does not run the Haswell kernel: nothing to compare";
  auto fallback = make_fallback_parse_kernel();
  const std::filesystem::path corpus = testkit::source_path("fixtures/outputs");
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const std::string output = testkit::read_file(entry.path());
    for (const Request& request : {Request{RequestKind::id, "001"}, Request{RequestKind::ip, "10.0.0.1"}}) {
      EXPECT_EQ(describe(haswell->parse(output, request)), describe(fallback->parse(output, request)))
          << entry.path().filename() << " for " << request.kind_word() << ":" << request.value;
    }
  }
  EXPECT_GT(files, 200u) << "the corpus in " << corpus << " looks incomplete";
}

}  // namespace
}  // namespace keyreq
