// `keyreq certify` as a user runs it: exit codes, console, files.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "conformance/certify/process_runner.hpp"
#include "conformance/certify/tests/certify_test_support.hpp"

namespace keyreq::certify {
namespace {

using namespace testing;

std::string keyreq_binary() { return bin_dir() + "/keyreq"; }

ProcessRun keyreq(std::vector<std::string> args) {
  args.insert(args.begin(), {keyreq_binary(), "certify"});
  RunLimits limits;
  limits.timeout = std::chrono::seconds(90);
  limits.max_stdout = 1 << 20;
  return run_process(args, limits);
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class CertifyCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!executable(keyreq_binary())) GTEST_SKIP() << keyreq_binary() << " is not built";
  }
  TempDir dir;
  std::string dataset = make_sqlite_dataset(dir, 50);
};

TEST_F(CertifyCommand, ReferenceProviderIsCertifiedWithEveryReport) {
  const ProcessRun run = keyreq({"--exec", provider_binary() + " --db " + dataset, "--dataset", dataset, "--out",
                                 dir / "out", "--junit", dir / "junit.xml", "--parallel", "2"});
  EXPECT_EQ(run.exit_code, 0) << run.stdout_bytes << run.stderr_bytes;
  EXPECT_NE(run.stdout_bytes.find("\nCERTIFIED"), std::string::npos) << run.stdout_bytes;
  const auto json = nlohmann::json::parse(slurp(dir / "out/certificate.json"));
  EXPECT_EQ(json["verdict"], "CERTIFIED");
  EXPECT_EQ(json["settings"]["parallel"], 2);
  EXPECT_EQ(json["dataset"]["agents"], 50);
  EXPECT_GT(json["probes"].size(), 80u);
  EXPECT_NE(slurp(dir / "out/certificate.md").find("# keyreq certificate: CERTIFIED"), std::string::npos);
  const std::string junit = slurp(dir / "junit.xml");
  EXPECT_NE(junit.find("<testsuites name=\"keyreq certify\""), std::string::npos);
  EXPECT_NE(junit.find("failures=\"0\""), std::string::npos);
}

TEST_F(CertifyCommand, CsvDatasetAndSocketTransport) {
  ASSERT_FALSE(fixtures::write_csv_dataset(dir / "agents.csv", 50));
  const std::string sock = dir / "ref.sock";
  Daemon daemon({provider_binary(), "--db", dataset, "--socket", sock}, sock, dir / "ref.log");
  ASSERT_TRUE(daemon.up());
  const ProcessRun run = keyreq({"--socket", sock, "--dataset", dir / "agents.csv", "--timeout", "2"});
  EXPECT_EQ(run.exit_code, 0) << run.stdout_bytes << run.stderr_bytes;
}

TEST_F(CertifyCommand, VulnerableProviderIsNotCertifiedAndThePayloadIsShown) {
  if (!executable("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is not installed";
  const ProcessRun run = keyreq({"--exec", source_root() + "/fixtures/vulnerable/provider.py --db " + dataset,
                                 "--dataset", dataset, "--out", dir / "out", "--junit", dir / "junit.xml",
                                 "--timeout", "20"});
  EXPECT_EQ(run.exit_code, 1) << run.stdout_bytes << run.stderr_bytes;
  EXPECT_NE(run.stdout_bytes.find("NOT CERTIFIED"), std::string::npos);
  EXPECT_NE(run.stdout_bytes.find("[SQLI]"), std::string::npos);
  EXPECT_NE(run.stdout_bytes.find("id \"'OR 1--\""), std::string::npos) << run.stdout_bytes;
  EXPECT_NE(slurp(dir / "out/certificate.md").find("'OR 1--"), std::string::npos);
  EXPECT_NE(slurp(dir / "junit.xml").find("type=\"SQLI\""), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(slurp(dir / "out/certificate.json"))["certified"], false);
}

TEST_F(CertifyCommand, UsageErrorsExit2) {
  const std::string exec = provider_binary() + " --db " + dataset;
  const std::vector<std::vector<std::string>> cases = {
      {"--exec", exec},                                                   // no --dataset
      {"--exec", exec, "--socket", dir / "s", "--dataset", dataset},      // both transports
      {"--dataset", dataset},                                             // neither
      {"--exec", "no-such-provider-xyz id", "--dataset", dataset},        // not in PATH
      {"--exec", dir / "missing.py", "--dataset", dataset},               // no such file
      {"--exec", "\"unterminated", "--dataset", dataset},                 // bad command line
      {"--socket", dir / "none.sock", "--dataset", dataset},              // no daemon
      {"--socket", dataset, "--dataset", dataset},                        // not a socket
      {"--exec", exec, "--dataset", dir / "missing.csv"},                 // no dataset
      {"--exec", exec, "--dataset", dataset, "--parallel", "0"},          // out of range
      {"--exec", exec, "--dataset", dataset, "--timeout", "0"},           // out of range
  };
  {
    std::ofstream bad(dir / "bad.csv");
    bad << "id,name,ip,key\n001,agent one,10.0.0.1,k\n";
  }
  const ProcessRun bad = keyreq({"--exec", exec, "--dataset", dir / "bad.csv"});
  EXPECT_EQ(bad.exit_code, 2) << bad.stdout_bytes << bad.stderr_bytes;
  EXPECT_NE(bad.stderr_bytes.find("S3"), std::string::npos) << bad.stderr_bytes;
  for (const auto& args : cases) {
    const ProcessRun run = keyreq(args);
    std::string line;
    for (const auto& a : args) line += a + " ";
    EXPECT_EQ(run.exit_code, 2) << line << "\n" << run.stdout_bytes << run.stderr_bytes;
  }
}

TEST_F(CertifyCommand, FaultyProviderExits1) {
  const ProcessRun run = keyreq({"--exec", faulty("garbage_output"), "--dataset", dataset, "--timeout", "1"});
  EXPECT_EQ(run.exit_code, 1) << run.stdout_bytes << run.stderr_bytes;
  EXPECT_NE(run.stdout_bytes.find("[D1]"), std::string::npos);
}

}  // namespace
}  // namespace keyreq::certify
