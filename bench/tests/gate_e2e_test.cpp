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
#include <sstream>
#include <string>

#include "bench/tests/e2e_support.hpp"

namespace {

namespace fs = std::filesystem;
using keyreq::bench::testing::run;
using keyreq::bench::testing::bin;

class GateEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char templ[] = "/tmp/keyreq-gate-e2e-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static std::string keyreq() { return bin("keyreq"); }
  static int bench(const std::string& out, const std::string& extra = "") {
    return run(keyreq() + " bench --profile smoke --providers reference --no-micro --no-progress --workdir " +
               dir_.string() + " --out " + (dir_ / out).string() + " " + extra + " >" + (dir_ / (out + ".log")).string() +
               " 2>&1");
  }
  static int gate(const std::string& baseline, const std::string& current) {
    return run(keyreq() + " gate --baseline " + (dir_ / baseline / "report.json").string() + " --current " +
               (dir_ / current / "report.json").string() + " >" + (dir_ / (current + "-gate.md")).string() + " 2>&1");
  }
  static void show(const std::string& name) {
    std::ifstream in(dir_ / name);
    std::stringstream ss;
    ss << in.rdbuf();
    std::cout << "---- " << name << "\n" << ss.str() << "\n";
  }
  static fs::path dir_;
};
fs::path GateEndToEnd::dir_;

TEST_F(GateEndToEnd, PassesAnUnchangedBuildAndCatchesAnInjectedDelay) {
  ASSERT_EQ(bench("baseline"), 0);
  ASSERT_EQ(bench("unchanged"), 0);
  ASSERT_EQ(bench("slowed", "--inject-delay-us 3000"), 0);
  EXPECT_EQ(gate("baseline", "unchanged"), 0) << "an unchanged build was judged a regression; see "
                                              << (dir_ / "unchanged-gate.md");
  EXPECT_EQ(gate("baseline", "slowed"), 1) << "a 3 ms slowdown of every resolver call went unnoticed";
  EXPECT_EQ(gate("baseline", "missing-dir"), 2);
  show("unchanged-gate.md");
  show("slowed-gate.md");
}

}  // namespace
