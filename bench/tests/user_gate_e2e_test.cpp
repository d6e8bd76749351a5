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
#include <memory>
#include <sstream>
#include <string>

#include "testkit/files.hpp"
#include "testkit/paths.hpp"
#include "testkit/processes.hpp"
#include "testkit/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using keyreq::testkit::bin;
using keyreq::testkit::read_file;
using keyreq::testkit::run_shell;

class UserProviderGate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(
        run_shell(bin("keyreq") + " dataset --sqlite " + (dir_ / "agents.db").string() + " --agents 500 2>/dev/null"),
        0);
    ASSERT_EQ(
        run_shell(bin("keyreq") + " dataset --csv " + (dir_ / "agents.csv").string() + " --agents 500 2>/dev/null"), 0);
    // The same provider, 20 ms slower per call.
    keyreq::testkit::write_script(temp_, "slow-provider.sh", "sleep 0.02\nexec " + bin("keyreq-provider") + " \"$@\"");
  }
  static int bench(const std::string& out, const std::string& program) {
    return run_shell(bin("keyreq") + " bench --profile smoke --no-progress --workdir " + dir_.string() + " --out " +
                     (dir_ / out).string() + " --name fixture --exec \"" + program + " --db " +
                     (dir_ / "agents.db").string() + "\" --dataset " + (dir_ / "agents.csv").string() + " >" +
                     (dir_ / (out + ".log")).string() + " 2>&1");
  }
  static int gate(const std::string& baseline, const std::string& current) {
    return run_shell(bin("keyreq") + " gate --baseline " + (dir_ / baseline / "report.json").string() + " --current " +
                     (dir_ / current / "report.json").string() + " >" + (dir_ / (current + "-gate.md")).string() +
                     " 2>&1");
  }
  // One directory for the suite (datasets made once), removed at exit.
  static inline const keyreq::testkit::TempDir temp_{"keyreq"};
  static inline const fs::path dir_ = temp_.path();
};

TEST_F(UserProviderGate, PassesAnUnchangedProviderAndCatchesA20msSleep) {
  ASSERT_EQ(bench("baseline", bin("keyreq-provider")), 0) << read_file(dir_ / "baseline.log");
  ASSERT_EQ(bench("unchanged", bin("keyreq-provider")), 0) << read_file(dir_ / "unchanged.log");
  ASSERT_EQ(bench("slowed", (dir_ / "slow-provider.sh").string()), 0) << read_file(dir_ / "slowed.log");
  const std::string report = read_file(dir_ / "baseline" / "report.json");
  EXPECT_NE(report.find("\"fixture/exec/floor_calibrated_p50\""), std::string::npos)
      << "the calibrated figure is missing from the report";
  EXPECT_EQ(gate("baseline", "unchanged"), 0) << read_file(dir_ / "unchanged-gate.md");
  EXPECT_EQ(gate("baseline", "slowed"), 1) << "a 20 ms sleep in the provider went unnoticed:\n"
                                           << read_file(dir_ / "slowed-gate.md");
  std::cout << "---- slowed-gate.md\n" << read_file(dir_ / "slowed-gate.md") << "\n";
}

}  // namespace
