// The gate judges a user's own provider (`keyreq bench --exec … --dataset`):
// a fixture provider (keyreq-provider, run as the user would run theirs) is
// benched twice unchanged, then wrapped by a shell script that sleeps 20 ms
// before exec'ing it — a real slowdown of the provider, not a keyreq flag.
// `keyreq gate` passes the unchanged pair and fails the slowed one on the
// calibrated floor figure (<name>/exec/floor_calibrated_p50).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "bench/tests/e2e_support.hpp"

namespace {

namespace fs = std::filesystem;
using keyreq::bench::testing::run;
using keyreq::bench::testing::slurp;
using keyreq::bench::testing::bin;

class UserProviderGate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char templ[] = "/tmp/keyreq-user-gate-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
    ASSERT_EQ(run(bin("keyreq") + " dataset --sqlite " + (dir_ / "agents.db").string() + " --agents 500 2>/dev/null"), 0);
    ASSERT_EQ(run(bin("keyreq") + " dataset --csv " + (dir_ / "agents.csv").string() + " --agents 500 2>/dev/null"), 0);
    // The same provider, 20 ms slower per call.
    const fs::path wrapper = dir_ / "slow-provider.sh";
    std::ofstream(wrapper) << "#!/bin/sh\nsleep 0.02\nexec " << bin("keyreq-provider") << " \"$@\"\n";
    ::chmod(wrapper.c_str(), 0755);
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static int bench(const std::string& out, const std::string& program) {
    return run(bin("keyreq") + " bench --profile smoke --no-progress --workdir " + dir_.string() + " --out " +
               (dir_ / out).string() + " --name fixture --exec \"" + program + " --db " + (dir_ / "agents.db").string() +
               "\" --dataset " + (dir_ / "agents.csv").string() + " >" + (dir_ / (out + ".log")).string() + " 2>&1");
  }
  static int gate(const std::string& baseline, const std::string& current) {
    return run(bin("keyreq") + " gate --baseline " + (dir_ / baseline / "report.json").string() + " --current " +
               (dir_ / current / "report.json").string() + " >" + (dir_ / (current + "-gate.md")).string() + " 2>&1");
  }
  static fs::path dir_;
};
fs::path UserProviderGate::dir_;

TEST_F(UserProviderGate, PassesAnUnchangedProviderAndCatchesA20msSleep) {
  ASSERT_EQ(bench("baseline", bin("keyreq-provider")), 0) << slurp(dir_ / "baseline.log");
  ASSERT_EQ(bench("unchanged", bin("keyreq-provider")), 0) << slurp(dir_ / "unchanged.log");
  ASSERT_EQ(bench("slowed", (dir_ / "slow-provider.sh").string()), 0) << slurp(dir_ / "slowed.log");
  const std::string report = slurp(dir_ / "baseline" / "report.json");
  EXPECT_NE(report.find("\"fixture/exec/floor_calibrated_p50\""), std::string::npos)
      << "the calibrated figure is missing from the report";
  EXPECT_EQ(gate("baseline", "unchanged"), 0) << slurp(dir_ / "unchanged-gate.md");
  EXPECT_EQ(gate("baseline", "slowed"), 1) << "a 20 ms sleep in the provider went unnoticed:\n"
                                           << slurp(dir_ / "slowed-gate.md");
  std::cout << "---- slowed-gate.md\n" << slurp(dir_ / "slowed-gate.md") << "\n";
}

}  // namespace
