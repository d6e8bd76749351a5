// `cmake --install` into a temporary prefix: keyreq, keyreq-provider,
// keyreq-replay-provider and the docs are there, and the installed keyreq
// works on its own (dataset, certify with the installed provider, fuzz
// through the replay provider found beside it) from a directory that is not
// the source tree.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "testkit/paths.hpp"
#include "testkit/processes.hpp"
#include "testkit/temp_dir.hpp"

namespace {

using keyreq::testkit::run_command;

// stdout and stderr together, bounded by `limit`.
keyreq::testkit::CommandOptions merged_within(std::chrono::milliseconds limit) {
  keyreq::testkit::CommandOptions options;
  options.merge_stderr = true;
  options.timeout = limit;
  return options;
}
namespace fs = std::filesystem;

class Install : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto r = run_command({"cmake", "--install", keyreq::testkit::build_dir(), "--prefix", prefix}, true);
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  std::string bin(const std::string& name) const { return prefix + "/bin/" + name; }
  keyreq::testkit::TempDir temp;
  std::string prefix = temp.path().string();
};

TEST_F(Install, BinariesAndDocsAreInstalled) {
  for (const char* name : {"keyreq", "keyreq-provider", "keyreq-replay-provider"}) {
    EXPECT_TRUE(fs::exists(bin(name))) << name;
  }
  for (const char* doc : {"README.md", "certify.md", "bench.md", "rules.md", "schemas/junit-10.xsd"}) {
    EXPECT_TRUE(fs::exists(prefix + "/share/doc/keyreq/" + doc)) << doc;
  }
}

TEST_F(Install, InstalledKeyreqWorksWithoutTheSourceTree) {
  const std::string db = prefix + "/agents.db";
  auto r = run_command({bin("keyreq"), "dataset", "--agents", "30", "--sqlite", db}, true);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = run_command({bin("keyreq"), "certify", "--exec", bin("keyreq-provider") + " --db " + db, "--dataset", db}, true);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\nCERTIFIED"), std::string::npos) << r.out;
  // KEYREQ_BIN_DIR would point at the build tree: the replay provider must be found beside the binary
  r = run_command({"env", "-u", "KEYREQ_BIN_DIR", bin("keyreq"), "fuzz", "--cases", "200", "--transport-every", "50",
                   "--no-progress"},
                  true);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("exec: " + bin("keyreq-replay-provider")), std::string::npos) << r.out;
}

// bench finds keyreq-provider beside itself and the script providers in
// PREFIX/share/keyreq, run from a directory that is not the source tree.
TEST_F(Install, InstalledBenchFindsItsProvidersWithoutTheSourceTree) {
  // A whole bench run, as the "slow" tests are: under a sanitizer it took 107
  // of its 170 s on the PVM guest of session 13 and measured the sanitizer.
  // The release build is what gets installed; keyreq_bench_tests cover the
  // bench code under the sanitizers.
  const std::string build_type = keyreq::testkit::build_type();
  if (build_type != "Release") GTEST_SKIP() << "build type " << build_type << ": a whole bench run, release only";
  const auto r = run_command({"env", "-u", "KEYREQ_BIN_DIR", "-u", "KEYREQ_DATA_DIR", "sh", "-c",
                              "cd " + prefix + " && " + bin("keyreq") +
                                  " bench --profile smoke --providers reference,python --no-micro --herd 0"
                                  " --no-progress --out " +
                                  prefix + "/report"},
                             merged_within(std::chrono::seconds(170)));  // a whole bench run: ctest allows 180 s
  ASSERT_EQ(r.exit_code, 0) << (r.timed_out ? "timed out: " : "") << r.out;
  std::ifstream f(prefix + "/report/report.json");
  std::stringstream s;
  s << f.rdbuf();
  EXPECT_NE(s.str().find("\"python/exec/floor/c1\""), std::string::npos) << r.out;
}

// No path of the source tree compiled into the installed binaries (bench
// finds the script providers at run time: bench/fixture.hpp find_data_root).
TEST_F(Install, NoSourcePathIsCompiledIn) {
  // Debug information and sanitizer reports (asan-ubsan, tsan presets) name
  // the source files by design; the release build is what gets installed.
  const std::string build_type = keyreq::testkit::build_type();
  if (build_type != "Release") GTEST_SKIP() << "build type " << build_type << " carries source paths";
  const std::string source_root = keyreq::testkit::source_root();
  for (const char* name : {"keyreq", "keyreq-provider", "keyreq-replay-provider", "keyreq-microbench"}) {
    std::ifstream f(bin(name), std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    EXPECT_EQ(s.str().find(source_root), std::string::npos) << name << " holds " << source_root;
  }
}

}  // namespace
