// `keyreq certify` as a user runs it: exit codes, console, files.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "conformance/certify/process_runner.hpp"
#include "conformance/certify/tests/certify_test_support.hpp"
#include "resolver/platform/proc_files.hpp"

namespace keyreq::certify {
namespace {

using namespace testing;

std::string keyreq_binary() { return bin("keyreq"); }

ProcessRun keyreq(std::vector<std::string> args) {
  args.insert(args.begin(), {keyreq_binary(), "certify"});
  RunLimits limits;
  limits.timeout = std::chrono::seconds(90);
  limits.max_stdout = 1 << 20;
  return run_process(args, limits);
}

class CertifyCommand : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(executable(keyreq_binary())) << keyreq_binary() << " is not built"; }
  TempDir dir;
  std::string dataset = make_sqlite_dataset(dir, 50);
};

TEST_F(CertifyCommand, ReferenceProviderIsCertifiedWithEveryReport) {
  const ProcessRun run = keyreq({"--exec", provider_binary() + " --db " + dataset, "--dataset", dataset, "--out",
                                 dir / "out", "--junit", dir / "junit.xml", "--parallel", "2"});
  EXPECT_EQ(run.exit_code, 0) << run.stdout_bytes << run.stderr_bytes;
  EXPECT_NE(run.stdout_bytes.find("\nCERTIFIED"), std::string::npos) << run.stdout_bytes;
  const auto json = nlohmann::json::parse(read_file(dir / "out/certificate.json"));
  EXPECT_EQ(json["verdict"], "CERTIFIED");
  EXPECT_EQ(json["settings"]["parallel"], 2);
  EXPECT_EQ(json["dataset"]["agents"], 50);
  EXPECT_GT(json["probes"].size(), 80u);
  EXPECT_NE(read_file(dir / "out/certificate.md").find("# keyreq certificate: CERTIFIED"), std::string::npos);
  const std::string junit = read_file(dir / "junit.xml");
  EXPECT_NE(junit.find("<testsuites name=\"keyreq certify\""), std::string::npos);
  EXPECT_NE(junit.find("failures=\"0\""), std::string::npos);
}

TEST_F(CertifyCommand, CsvDatasetAndSocketTransport) {
  ASSERT_FALSE(fixtures::write_csv_dataset(dir / "agents.csv", 50));
  const std::string sock = dir / "ref.sock";
  ProviderDaemon daemon({provider_binary(), "--db", dataset, "--socket", sock}, sock, dir / "ref.log");
  ASSERT_TRUE(daemon.up());
  const ProcessRun run = keyreq({"--socket", sock, "--dataset", dir / "agents.csv", "--timeout", "2"});
  EXPECT_EQ(run.exit_code, 0) << run.stdout_bytes << run.stderr_bytes;
}

TEST_F(CertifyCommand, VulnerableProviderIsNotCertifiedAndThePayloadIsShown) {
  if (!executable("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is not installed";
  const ProcessRun run =
      keyreq({"--exec", source_root() + "/fixtures/vulnerable/provider.py --db " + dataset, "--dataset", dataset,
              "--out", dir / "out", "--junit", dir / "junit.xml", "--timeout", "20"});
  EXPECT_EQ(run.exit_code, 1) << run.stdout_bytes << run.stderr_bytes;
  EXPECT_NE(run.stdout_bytes.find("NOT CERTIFIED"), std::string::npos);
  EXPECT_NE(run.stdout_bytes.find("[SQLI]"), std::string::npos);
  EXPECT_NE(run.stdout_bytes.find("the payload \"'OR 1--\""), std::string::npos) << run.stdout_bytes;
  EXPECT_NE(run.stdout_bytes.find("repro:  " + source_root() + "/fixtures/vulnerable/provider.py"), std::string::npos);
  EXPECT_NE(read_file(dir / "out/certificate.md").find("'OR 1--"), std::string::npos);
  EXPECT_NE(read_file(dir / "junit.xml").find("type=\"SQLI\""), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(read_file(dir / "out/certificate.json"))["certified"], false);
}

TEST_F(CertifyCommand, UsageErrorsExit2) {
  const std::string exec = provider_binary() + " --db " + dataset;
  const std::vector<std::vector<std::string>> cases = {
      {"--exec", exec},                                               // no --dataset
      {"--exec", exec, "--socket", dir / "s", "--dataset", dataset},  // both transports
      {"--dataset", dataset},                                         // neither
      {"--exec", "no-such-provider-xyz id", "--dataset", dataset},    // not in PATH
      {"--exec", dir / "missing.py", "--dataset", dataset},           // no such file
      {"--exec", "\"unterminated", "--dataset", dataset},             // bad command line
      {"--socket", dir / "none.sock", "--dataset", dataset},          // no daemon
      {"--socket", dataset, "--dataset", dataset},                    // not a socket
      {"--exec", exec, "--dataset", dir / "missing.csv"},             // no dataset
      {"--exec", exec, "--dataset", dataset, "--parallel", "0"},      // out of range
      {"--exec", exec, "--dataset", dataset, "--timeout", "0"},       // out of range
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

// A provider with upper-case field names breaks E1 on every answer: the
// console names the rule once, with its count, a hint and a few examples
// (it printed 585 lines before findings were grouped by root cause).
TEST_F(CertifyCommand, UpperCaseFieldNamesFitIn60ConsoleLinesWithAHint) {
  const ProcessRun run = keyreq(
      {"--exec", "/usr/bin/python3 " + faulty("careless_sqlite.py") + " --mode upper-case-fields --db " + dataset,
       "--dataset", dataset, "--timeout", "20", "--out", dir / "out"});
  EXPECT_EQ(run.exit_code, 1) << run.stdout_bytes << run.stderr_bytes;
  const auto lines = std::count(run.stdout_bytes.begin(), run.stdout_bytes.end(), '\n');
  EXPECT_LE(lines, 60) << run.stdout_bytes;
  EXPECT_NE(run.stdout_bytes.find("[E1]"), std::string::npos) << run.stdout_bytes;
  EXPECT_NE(run.stdout_bytes.find("field names are case-sensitive (SPEC §4)"), std::string::npos) << run.stdout_bytes;
  // the full detail stays in certificate.json: one probe each
  const auto json = nlohmann::json::parse(read_file(dir / "out/certificate.json"));
  EXPECT_GT(json["summary"]["fail"].get<int>(), 60);
}

// Agent keys never reach an artifact whole unless --show-keys is given;
// the provider still had to send them whole to pass the record checks.
TEST_F(CertifyCommand, NoArtifactHoldsAWholeKeyWithoutShowKeys) {
  const auto agents = read_dataset(dataset).agents;
  const std::string exec =
      "/usr/bin/python3 " + faulty("careless_sqlite.py") + " --mode upper-case-fields --db " + dataset;
  for (const bool show : {false, true}) {
    const std::string out = dir / (show ? "shown" : "hidden");
    std::vector<std::string> args = {"--exec", exec,      "--dataset",        dataset, "--timeout", "20", "--out",
                                     out,      "--junit", out + "/junit.xml", "-v"};
    if (show) args.push_back("--show-keys");
    const ProcessRun run = keyreq(args);
    EXPECT_EQ(run.exit_code, 1) << run.stderr_bytes;
    for (const std::string& text : {run.stdout_bytes, run.stderr_bytes, read_file(out + "/certificate.json"),
                                    read_file(out + "/certificate.md"), read_file(out + "/junit.xml")}) {
      const bool whole = text.find(agents[0].key) != std::string::npos;
      if (show && text.size() > 200 && text != run.stderr_bytes) {
        EXPECT_TRUE(whole) << text.substr(0, 300);
      }
      if (show) continue;
      for (const auto& a : agents)
        ASSERT_EQ(text.find(a.key), std::string::npos) << a.id << " in " << text.substr(0, 300);
      if (text != run.stderr_bytes) {  // stderr: only the progress line, if any
        EXPECT_NE(text.find(agents[0].key.substr(0, 4) + "..."), std::string::npos) << text.substr(0, 300);
      }
    }
  }
  // a certified provider: certificate.json keeps every exchange, passing ones too
  const ProcessRun ok =
      keyreq({"--exec", provider_binary() + " --db " + dataset, "--dataset", dataset, "--out", dir / "ok"});
  EXPECT_EQ(ok.exit_code, 0) << ok.stdout_bytes;
  const std::string json = read_file(dir / "ok/certificate.json");
  EXPECT_NE(json.find("(64 hex)"), std::string::npos);
  for (const auto& a : agents) ASSERT_EQ(json.find(a.key), std::string::npos) << a.id;
}

TEST_F(CertifyCommand, MaxFailuresStopsProbingAfterNFailedProbes) {
  const ProcessRun run =
      keyreq({"--exec", faulty("garbage_output"), "--dataset", dataset, "--max-failures", "3", "--out", dir / "out"});
  EXPECT_EQ(run.exit_code, 1) << run.stdout_bytes << run.stderr_bytes;
  const auto json = nlohmann::json::parse(read_file(dir / "out/certificate.json"));
  EXPECT_EQ(json["summary"]["fail"], 3) << run.stdout_bytes;
  EXPECT_GT(json["summary"]["skipped"].get<int>(), 50);
  EXPECT_NE(run.stdout_bytes.find("not run: --max-failures 3 reached"), std::string::npos) << run.stdout_bytes;
}

TEST_F(CertifyCommand, WarningsAsFailuresExit1) {
  // stderr_warnings has a STDERR warning (and, having no database, DATA
  // failures): the warning is a <failure> only with --warnings-as-failures.
  const ProcessRun strict = keyreq({"--exec", faulty("stderr_warnings"), "--dataset", dataset, "--junit",
                                    dir / "strict.xml", "--warnings-as-failures"});
  const ProcessRun plain =
      keyreq({"--exec", faulty("stderr_warnings"), "--dataset", dataset, "--junit", dir / "plain.xml"});
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_NE(read_file(dir / "strict.xml").find("type=\"SHOULD STDERR\""), std::string::npos);
  EXPECT_EQ(read_file(dir / "plain.xml").find("type=\"SHOULD"), std::string::npos);
}

// "keyreq certify K/N " somewhere in `text` (no std::regex: GCC 12
// -Wmaybe-uninitialized inside <regex> under ASan -O2).
bool has_step_count(const std::string& text) {
  const std::string prefix = "keyreq certify ";
  for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
    std::size_t i = at + prefix.size();
    auto digits = [&] {
      const std::size_t from = i;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
      return i > from;
    };
    if (digits() && i < text.size() && text[i++] == '/' && digits() && i < text.size() && text[i] == ' ') return true;
  }
  return false;
}

// --progress with stderr not a terminal: plain "k/N" lines, no escape code.
TEST_F(CertifyCommand, ProgressOffATerminalShowsStepsWithoutEscapeCodes) {
  const ProcessRun run = keyreq({"--exec", provider_binary() + " --db " + dataset, "--dataset", dataset, "--progress"});
  EXPECT_EQ(run.exit_code, 0) << run.stderr_bytes;
  EXPECT_TRUE(has_step_count(run.stderr_bytes)) << run.stderr_bytes;
  EXPECT_EQ(run.stderr_bytes.find('\033'), std::string::npos) << run.stderr_bytes;
  const ProcessRun quiet = keyreq({"--exec", provider_binary() + " --db " + dataset, "--dataset", dataset});
  EXPECT_EQ(quiet.stderr_bytes, "");  // default off a terminal: no progress
}

// ---------------------------------------------------------------- interruption

// Processes (not this test) whose environment holds `tag` and whose command
// line holds `word`: the providers a certify run started, found by a
// variable only that run's environment has.
std::vector<pid_t> tagged_processes(const std::string& tag, const std::string& word) {
  std::vector<pid_t> out;
  for (const pid_t pid : list_process_ids()) {
    if (pid == ::getpid() || !process_environment_has(pid, tag)) continue;
    const auto cmdline = read_proc_file(pid, "cmdline");  // nullopt: it exited meanwhile
    if (cmdline && cmdline->find(word) != std::string::npos) out.push_back(pid);
  }
  return out;
}

// Ctrl-C or SIGTERM: certify stops the provider process group it started
// (the provider's `sleep` child included) and ends with the signal.
TEST_F(CertifyCommand, InterruptedCertifyStopsItsProviders) {
  for (const int sig : {SIGINT, SIGTERM}) {
    const std::string tag = "KEYREQ_CERTIFY_TEST_TAG=" + std::to_string(::getpid()) + "-" + std::to_string(sig);
    BackgroundProcess certify(
        {keyreq_binary(), "certify", "--exec", faulty("slow"), "--dataset", dataset, "--timeout", "60"},
        dir / "certify.log", {tag, "KEYREQ_SLOW_SECONDS=30"});
    ASSERT_TRUE(wait_until([&] { return !tagged_processes(tag, "sleep").empty(); }, std::chrono::seconds(10)))
        << "the provider never started: " << read_file(dir / "certify.log");
    certify.signal(sig);
    const auto status = certify.wait(std::chrono::seconds(5));
    ASSERT_TRUE(status.has_value()) << "certify did not end after " << strsignal(sig);
    EXPECT_EQ(*status, 128 + sig);
    EXPECT_TRUE(
        wait_until([&] { return tagged_processes(tag, "slow").empty() && tagged_processes(tag, "sleep").empty(); },
                   std::chrono::seconds(1)))
        << "provider processes outlived certify by more than 1 s";
    EXPECT_NE(read_file(dir / "certify.log").find("interrupted"), std::string::npos) << read_file(dir / "certify.log");
  }
}

// kill -9 of certify gives it no chance to stop anything: its guardian
// process does, within a second (the provider and the sleep it started).
TEST_F(CertifyCommand, NoProviderOutlivesCertifyKilledWithSigkill) {
  const std::string tag = "KEYREQ_CERTIFY_TEST_TAG=" + std::to_string(::getpid()) + "-kill9";
  BackgroundProcess certify(
      {keyreq_binary(), "certify", "--exec", faulty("slow"), "--dataset", dataset, "--timeout", "60"},
      dir / "certify.log", {tag, "KEYREQ_SLOW_SECONDS=30"});
  ASSERT_TRUE(wait_until([&] { return !tagged_processes(tag, "sleep").empty(); }, std::chrono::seconds(10)))
      << "the provider never started: " << read_file(dir / "certify.log");
  ::kill(certify.pid(), SIGKILL);
  ASSERT_TRUE(certify.wait(std::chrono::seconds(5)).has_value());
  EXPECT_TRUE(
      wait_until([&] { return tagged_processes(tag, "slow").empty() && tagged_processes(tag, "sleep").empty(); },
                 std::chrono::seconds(1)))
      << "provider processes outlived certify (kill -9) by more than 1 s";
}

TEST_F(CertifyCommand, FaultyProviderExits1) {
  const ProcessRun run = keyreq({"--exec", faulty("garbage_output"), "--dataset", dataset, "--timeout", "1"});
  EXPECT_EQ(run.exit_code, 1) << run.stdout_bytes << run.stderr_bytes;
  EXPECT_NE(run.stdout_bytes.find("[D1]"), std::string::npos);
}

}  // namespace
}  // namespace keyreq::certify
