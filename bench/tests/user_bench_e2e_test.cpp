// `keyreq bench` on a user's provider from the command line: the bad inputs
// of the issue each exit 2 with a message naming them, and the Python
// fixture provider, run as a user runs theirs (exec and a daemon bench
// starts), gets a complete report: calibrated figures, the herd through
// keyreq serve with nothing dropped, "what this means", no wrong answers.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
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

class UserBench : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(run_shell(keyreq() + " dataset --sqlite " + (dir_ / "agents.db").string() + " --agents 300 2>/dev/null"),
              0);
    ASSERT_EQ(run_shell(keyreq() + " dataset --csv " + (dir_ / "agents.csv").string() + " --agents 300 2>/dev/null"),
              0);
  }
  static std::string keyreq() { return bin("keyreq"); }
  // Exit code of `keyreq bench ARGS`; stderr in `err`.
  static int bench(const std::string& args, std::string& err) {
    const fs::path log = dir_ / "stderr.txt";
    const int rc = run_shell(keyreq() + " bench --profile smoke --no-progress --no-micro --workdir " + dir_.string() +
                             " --out " + (dir_ / "out").string() + " " + args + " >/dev/null 2>" + log.string());
    err = read_file(log);
    return rc;
  }
  // One directory for the suite (datasets made once), removed at exit.
  static inline const keyreq::testkit::TempDir temp_{"keyreq"};
  static inline const fs::path dir_ = temp_.path();
};

TEST_F(UserBench, BadInputsExit2NamingWhatWasWrong) {
  std::string err;
  const std::string provider = bin("keyreq-provider") + " --db " + (dir_ / "agents.db").string();
  EXPECT_EQ(bench("--exec \"" + provider + "\"", err), 2);
  EXPECT_NE(err.find("--dataset FILE"), std::string::npos) << err;
  EXPECT_EQ(bench("--exec \"" + provider + "\" --dataset " + (dir_ / "missing.csv").string(), err), 2);
  EXPECT_NE(err.find("missing.csv"), std::string::npos) << err;
  EXPECT_EQ(bench("--exec \"no-such-provider-xyz\" --dataset " + (dir_ / "agents.csv").string(), err), 2);
  EXPECT_NE(err.find("command not found: no-such-provider-xyz"), std::string::npos) << err;
  // A daemon that exits at once: the socket never comes up; its log is shown.
  EXPECT_EQ(bench("--socket " + (dir_ / "p.sock").string() +
                      " --socket-cmd \"/bin/sh -c 'echo daemon-says-no; exit 1'\" --dataset " +
                      (dir_ / "agents.csv").string(),
                  err),
            2);
  EXPECT_NE(err.find("daemon-says-no"), std::string::npos) << err;
  EXPECT_EQ(bench("--providers referenc", err), 2);
  EXPECT_NE(err.find("\"referenc\""), std::string::npos) << err;
}

TEST_F(UserBench, PythonProviderOverExecAndSocketGetsTheWholeReport) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "python3 is not installed";
  const std::string script = keyreq::testkit::source_path("fixtures/providers/python/provider.py");
  const std::string db = (dir_ / "agents.db").string();
  const std::string sock = (dir_ / "py.sock").string();
  std::string err;
  ASSERT_EQ(bench("--repetitions 2 --herd 100 --exec \"python3 " + script + " --db " + db + "\" --socket " + sock +
                      " --socket-cmd \"python3 " + script + " --db " + db + " --socket " + sock + "\" --dataset " +
                      (dir_ / "agents.csv").string(),
                  err),
            0)
      << err;
  const auto report = nlohmann::json::parse(read_file(dir_ / "out" / "report.json"));
  std::set<std::string> figures;
  for (const auto& f : report["figures"]) figures.insert(f["id"].get<std::string>());
  for (const char* id : {"python-provider/exec/floor_calibrated_p50", "python-provider/socket/floor_calibrated_p50",
                         "python-provider/exec/startup_share_p50", "python-provider/herd/socket/registrations_per_s",
                         "python-provider/herd/socket/ratio_to_floor_peak"}) {
    EXPECT_TRUE(figures.count(id)) << id << " missing";
  }
  bool socket_herd = false;
  for (const auto& h : report["herd"]) {
    EXPECT_EQ(h["dropped"].get<int>(), 0) << h.dump();
    if (h["transport"] == "socket") {
      socket_herd = true;
      EXPECT_EQ(h["durable"].get<int>(), 100) << h.dump();
      EXPECT_EQ(h["failed"].get<int>(), 0) << h.dump();
      // Repeated like the series (--repetitions 2); the figure is the median's.
      ASSERT_EQ(h["repetition_rates"].size(), 2u) << h.dump();
      const double rate = h["registrations_per_s"].get<double>();
      EXPECT_TRUE(rate == h["repetition_rates"][0].get<double>() || rate == h["repetition_rates"][1].get<double>());
      // Each repetition has the floor measured beside it; the ratio's floor is the median repetition's.
      ASSERT_EQ(h["repetition_floors"].size(), 2u) << h.dump();
      const double floor = h["floor_peak_throughput"].get<double>();
      EXPECT_GT(floor, 0) << h.dump();
      EXPECT_TRUE(
          (rate == h["repetition_rates"][0].get<double>() && floor == h["repetition_floors"][0].get<double>()) ||
          (rate == h["repetition_rates"][1].get<double>() && floor == h["repetition_floors"][1].get<double>()))
          << h.dump();
      for (const auto& f : report["figures"]) {
        if (f["id"] == "python-provider/herd/socket/registrations_per_s") {
          EXPECT_EQ(f["values"].size(), 2u);
        }
        if (f["id"] == "python-provider/herd/socket/ratio_to_floor_peak") {
          ASSERT_EQ(f["values"].size(), 2u);
          for (int i = 0; i < 2; ++i) {
            EXPECT_DOUBLE_EQ(f["values"][i].get<double>(),
                             h["repetition_rates"][i].get<double>() / h["repetition_floors"][i].get<double>());
          }
        }
      }
    }
  }
  EXPECT_TRUE(socket_herd);
  for (const auto& s : report["series"]) {
    if (s["provider"] != "python-provider" || s["path"] != "resolver") continue;
    for (const auto& rep : s["repetitions"]) EXPECT_EQ(rep["errors"].get<int>(), 0) << s["id"] << rep["first_error"];
  }
  EXPECT_FALSE(report["interpretation"].empty());
  EXPECT_NE(read_file(dir_ / "out" / "report.md").find("## What this means"), std::string::npos);
}

// A daemon the user already runs: bench measures it as it is (no
// --socket-cmd), and leaves it running.
TEST_F(UserBench, SocketAlreadyServingIsBenchedAsItIs) {
  const std::string sock = (dir_ / "ref.sock").string();
  const std::string daemon = bin("keyreq-provider") + " --db " + (dir_ / "agents.db").string() + " --socket " + sock;
  ASSERT_EQ(run_shell(daemon + " >/dev/null 2>&1 & echo $! >" + (dir_ / "daemon.pid").string()), 0);
  for (int i = 0; i < 100 && !fs::exists(sock); ++i) ::usleep(50'000);
  std::string err;
  const int rc = bench(
      "--repetitions 2 --herd 50 --name mine --socket " + sock + " --dataset " + (dir_ / "agents.csv").string(), err);
  const bool still_serving = fs::exists(sock);
  run_shell("kill $(cat " + (dir_ / "daemon.pid").string() + ")");
  ASSERT_EQ(rc, 0) << err;
  EXPECT_TRUE(still_serving) << "bench stopped a daemon it did not start";
  const auto report = nlohmann::json::parse(read_file(dir_ / "out" / "report.json"));
  std::set<std::string> figures;
  for (const auto& f : report["figures"]) figures.insert(f["id"].get<std::string>());
  EXPECT_TRUE(figures.count("mine/socket/floor_calibrated_p50"));
  EXPECT_FALSE(figures.count("mine/exec/floor_calibrated_p50"));  // no --exec: no exec series
  ASSERT_EQ(report["herd"].size(), 1u);
  EXPECT_EQ(report["herd"][0]["durable"].get<int>(), 50) << report["herd"][0].dump();
}

}  // namespace
