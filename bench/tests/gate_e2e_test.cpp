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

#include <nlohmann/json.hpp>

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
  // The memory figures are keyreq serve's own RSS, from fresh processes
  // (serve_memory_test.cpp checks that agents on file show in it; smoke's
  // 1000 agents are within the RSS noise of two processes).
  static void ExpectServeMemoryMeasured(const std::string& out) {
    std::ifstream in(dir_ / out / "report.json");
    const auto report = nlohmann::json::parse(in, nullptr, false);
    ASSERT_FALSE(report.is_discarded());
    const auto& m = report["measurements"];
    ASSERT_TRUE(m.contains("memory.rss_at_start_mib") && m.contains("memory.keystore_rss_mib")) << m.dump();
    EXPECT_EQ(m["memory.keystore_agents"].get<double>(), 1000);
    const double at_start = m["memory.rss_at_start_mib"].get<double>();
    EXPECT_GT(at_start, 1.0);  // a whole process, not a difference
    EXPECT_LT(at_start, 64.0);
    EXPECT_GE(m["memory.keystore_rss_mib"].get<double>(), 0.0);
    EXPECT_LT(m["memory.keystore_rss_mib"].get<double>(), 16.0);
    // The flatness run answers against that client.keys: every outcome as
    // expected (a wrong one would be a "memory: ..." note).
    EXPECT_TRUE(m.contains("memory.rss_growth_mib")) << m.dump();
    for (const auto& note : report["notes"]) EXPECT_NE(note.get<std::string>().rfind("memory:", 0), 0u) << note;
  }
  // One directory for the suite (datasets made once), removed at exit.
  static inline const keyreq::testkit::TempDir temp_{"keyreq"};
  static inline const fs::path dir_ = temp_.path();
};

TEST_F(GateEndToEnd, PassesAnUnchangedBuildAndCatchesAnInjectedDelay) {
  ASSERT_EQ(bench("baseline"), 0);
  ExpectServeMemoryMeasured("baseline");
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
