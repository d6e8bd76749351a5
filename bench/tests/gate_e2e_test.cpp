// The gate catches a real slowdown and passes an unchanged build: three real
// `keyreq bench` runs (short "smoke" profile, reference provider) — a
// baseline, the same build again, and the same build with a delay injected
// into every resolver provider call (--inject-delay-us, an explicit testing
// option) — then `keyreq gate` on each pair.
#include <gtest/gtest.h>
#include <stdlib.h>
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
using keyreq::testkit::run_shell;

class GateEndToEnd : public ::testing::Test {
 protected:
  static std::string keyreq() { return bin("keyreq"); }
  static int bench(const std::string& out, const std::string& extra = "") {
    return run_shell(keyreq() + " bench --profile smoke --providers reference --no-micro --no-progress --workdir " +
                     dir_.string() + " --out " + (dir_ / out).string() + " " + extra + " >" +
                     (dir_ / (out + ".log")).string() + " 2>&1");
  }
  static int gate(const std::string& baseline, const std::string& current) {
    return run_shell(keyreq() + " gate --baseline " + (dir_ / baseline / "report.json").string() + " --current " +
                     (dir_ / current / "report.json").string() + " >" + (dir_ / (current + "-gate.md")).string() +
                     " 2>&1");
  }
  static void show(const std::string& name) {
    std::ifstream in(dir_ / name);
    std::stringstream ss;
    ss << in.rdbuf();
    std::cout << "---- " << name << "\n" << ss.str() << "\n";
  }
  // One directory for the suite (datasets made once), removed at exit.
  static inline const keyreq::testkit::TempDir temp_{"keyreq"};
  static inline const fs::path dir_ = temp_.path();
};

TEST_F(GateEndToEnd, PassesAnUnchangedBuildAndCatchesAnInjectedDelay) {
  ASSERT_EQ(bench("baseline"), 0);
  ASSERT_EQ(bench("unchanged"), 0);
  ASSERT_EQ(bench("slowed", "--inject-delay-us 3000"), 0);
  EXPECT_EQ(gate("baseline", "unchanged"), 0)
      << "an unchanged build was judged a regression; see " << (dir_ / "unchanged-gate.md");
  EXPECT_EQ(gate("baseline", "slowed"), 1) << "a 3 ms slowdown of every resolver call went unnoticed";
  EXPECT_EQ(gate("baseline", "missing-dir"), 2);
  show("unchanged-gate.md");
  show("slowed-gate.md");
}

}  // namespace
