// bench's memory figure is keyreq serve's own RSS, read from a fresh
// process (bench/serve_process.hpp). Measured as a difference of RSS inside
// bench, the agents' share read 0.0 MiB once bench had freed memory that
// loading the agents could reuse.
#include <gtest/gtest.h>

#include <string>

#include "bench/fixture.hpp"
#include "bench/serve_process.hpp"
#include "testkit/paths.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq::bench {
namespace {

TEST(ServeMemory, AgentsOnFileShowInServesOwnRss) {
  const testkit::TempDir dir("keyreq");
  const auto seed = dir.path() / "seed.keys";
  write_keys_file(seed, 0, 20000);
  std::string error;
  const auto empty = serve_rss_mib(testkit::bin_dir(), dir.path(), "empty", nullptr, error);
  ASSERT_TRUE(empty.has_value()) << error;
  const auto loaded = serve_rss_mib(testkit::bin_dir(), dir.path(), "agents", &seed, error);
  ASSERT_TRUE(loaded.has_value()) << error;
  EXPECT_GT(*empty, 1.0);  // a whole process
  // 20,000 lines are ~2 MiB of text, held in the store with their indexes.
  EXPECT_GT(*loaded - *empty, 2.0) << "empty " << *empty << " MiB, with 20000 agents " << *loaded << " MiB";
}

TEST(ServeMemory, AServeThatCannotStartIsAnErrorNotAFigure) {
  const testkit::TempDir dir("keyreq");
  const auto missing = dir.path() / "no-such.keys";
  std::string error;
  EXPECT_FALSE(serve_rss_mib(testkit::bin_dir(), dir.path(), "missing", &missing, error).has_value());
  EXPECT_NE(error.find("no-such.keys"), std::string::npos) << error;
  EXPECT_FALSE(serve_rss_mib(dir.path() / "no-bin", dir.path(), "nobin", nullptr, error).has_value());
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace keyreq::bench
