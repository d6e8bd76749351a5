// `keyreq gate` and `keyreq bench --profile ci` at the command line: exit
// codes and messages for the cases the gate must not pass silently.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/report.hpp"
#include "testkit/files.hpp"
#include "testkit/paths.hpp"
#include "testkit/processes.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq::bench {
namespace {

namespace fs = std::filesystem;

class GateCli : public ::testing::Test {
 protected:
  // Runs keyreq with `args`; returns the exit status, output in output_.
  int keyreq(const std::string& args) {
    const fs::path log = dir_ / "out.txt";
    const int status = testkit::run_shell(testkit::bin("keyreq") + " " + args + " >" + log.string() + " 2>&1");
    output_ = testkit::read_file(log);
    return status;
  }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  static Report with(std::vector<double> values) {
    Report r;
    r.profile = "ci";
    r.figures.push_back(Figure{"mine/exec/floor_calibrated_p50", "floor / bare spawn", "lower", true, 0.3, values});
    return r;
  }
  testkit::TempDir temp_;
  fs::path dir_ = temp_.path();
  std::string output_;
};

TEST_F(GateCli, ThreeAgainstThreeRepetitionsExitsTwoAndSaysWhy) {
  const auto report = write("three.json", report_json(with({1.0, 1.1, 1.2})));
  EXPECT_EQ(keyreq("gate --baseline " + report.string() + " --current " + report.string()), 2) << output_;
  EXPECT_NE(output_.find("CANNOT JUDGE"), std::string::npos) << output_;
  EXPECT_NE(output_.find("smallest p the U test can give is 0.100"), std::string::npos) << output_;
}

TEST_F(GateCli, FiveAgainstFiveUnchangedPasses) {
  const auto report = write("five.json", report_json(with({1.0, 1.1, 1.2, 1.05, 1.15})));
  const fs::path summary = dir_ / "summary.md";
  EXPECT_EQ(
      keyreq("gate --baseline " + report.string() + " --current " + report.string() + " --summary " + summary.string()),
      0)
      << output_;
  std::ifstream in(summary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("## keyreq gate: PASS"), std::string::npos);
}

TEST_F(GateCli, AnOlderReportSchemaIsRefused) {
  const auto old = write("old.json", "{\"schema\":\"keyreq-bench\",\"schema_version\":1,\"figures\":[]}");
  const auto report = write("five.json", report_json(with({1.0, 1.1, 1.2, 1.05, 1.15})));
  EXPECT_EQ(keyreq("gate --baseline " + old.string() + " --current " + report.string()), 2);
  EXPECT_NE(output_.find("old.json: report schema version 1 was written by an older keyreq"), std::string::npos)
      << output_;
}

TEST_F(GateCli, BenchRefusesCiRepetitionsTheGateCannotJudge) {
  EXPECT_EQ(keyreq("bench --profile ci --repetitions 3 --no-progress --out " + (dir_ / "out").string()), 2);
  EXPECT_NE(output_.find("can never reach p < 0.05"), std::string::npos) << output_;
  EXPECT_NE(output_.find("use at least 4"), std::string::npos) << output_;
  EXPECT_FALSE(fs::exists(dir_ / "out" / "report.json"));  // refused before measuring
}

}  // namespace
}  // namespace keyreq::bench
