// `keyreq resolve` end to end: the real binary, the reference provider over
// exec and socket, and every faulty provider in fixtures/faulty/.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "testkit/files.hpp"
#include "testkit/paths.hpp"
#include "testkit/processes.hpp"
#include "testkit/provider_daemon.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;
using keyreq::testkit::read_file;
using keyreq::testkit::run_command;
using keyreq::testkit::TempDir;

const std::string kKeyreq = testkit::bin("keyreq");
const std::string kProvider = testkit::bin("keyreq-provider");
std::string faulty(const std::string& name) { return testkit::source_path("fixtures/faulty/" + name); }

class ResolveE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    auto r = run_command({kKeyreq, "dataset", "--agents", "2000", "--sqlite", *dir_ / "agents.db"});
    ASSERT_EQ(r.exit_code, 0);
  }
  static void TearDownTestSuite() { delete dir_; }

  std::string db() const { return *dir_ / "agents.db"; }
  std::string keys() const { return local_ / "client.keys"; }

  testkit::CommandResult resolve(const std::vector<std::string>& transport, std::string kind, std::string value,
                                 std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{kKeyreq, "resolve"};
    argv.insert(argv.end(), transport.begin(), transport.end());
    argv.insert(argv.end(), {"--keys", keys()});
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {kind, value});
    return run_command(argv);
  }

  // Starts a socket daemon and waits for its socket; killed at the end of the test.
  std::string start_daemon(std::vector<std::string> argv, const std::string& name) {
    const std::string path = local_ / (name + ".sock");
    argv.insert(argv.end(), {"--socket", path});
    daemons_.push_back(std::make_unique<testkit::ProviderDaemon>(argv, path, local_ / (name + ".log")));
    EXPECT_TRUE(daemons_.back()->up()) << "daemon did not listen on " << path << ": "
                                       << read_file(local_ / (name + ".log"));
    return path;
  }

  static TempDir* dir_;
  TempDir local_;
  std::vector<std::unique_ptr<testkit::ProviderDaemon>> daemons_;
};
TempDir* ResolveE2E::dir_ = nullptr;

#define EXPECT_CONTAINS(haystack, needle) EXPECT_NE((haystack).find(needle), std::string::npos) << (haystack)

TEST_F(ResolveE2E, RegistersFromTheReferenceProviderOverExec) {
  const std::vector<std::string> exec{"--exec", kProvider + " --db " + db()};
  auto r = resolve(exec, "id", "001");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_CONTAINS(r.out, R"("outcome":"registered")");
  r = resolve(exec, "ip", "10.0.0.7");
  EXPECT_EQ(r.exit_code, 0);
  r = resolve(exec, "id", "001");
  EXPECT_CONTAINS(r.out, R"("outcome":"already_registered")");
  r = resolve(exec, "id", "99999");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.out, R"("outcome":"declined")");
  const auto file = read_file(keys());
  EXPECT_EQ(std::count(file.begin(), file.end(), '\n'), 2);
  EXPECT_EQ(file.rfind("001 agent-001 10.0.0.1 ", 0), 0u) << file;
  EXPECT_CONTAINS(file, "\n007 agent-007 10.0.0.7 ");
}

TEST_F(ResolveE2E, RegistersFromTheReferenceProviderOverSocket) {
  const auto sock = start_daemon({kProvider, "--db", db()}, "ref");
  auto r = resolve({"--socket", sock}, "id", "1999");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  r = resolve({"--socket", sock}, "ip", "10.0.0.9");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_CONTAINS(read_file(keys()), "1999 agent-1999 ");
  EXPECT_CONTAINS(read_file(keys()), "009 agent-009 10.0.0.9 ");
}

TEST_F(ResolveE2E, InvalidRequestsAndUsageErrorsExit2) {
  EXPECT_EQ(resolve({"--exec", kProvider + " --db " + db()}, "id", "12").exit_code, 2);
  EXPECT_EQ(resolve({"--exec", kProvider + " --db " + db()}, "ip", "10.0.0.0/8").exit_code, 2);
  EXPECT_EQ(run_command({kKeyreq, "resolve", "id", "001"}).exit_code, 2);  // no transport
  EXPECT_EQ(run_command({kKeyreq, "resolve", "--exec", "x", "--socket", "y", "id", "001"}).exit_code, 2);
  EXPECT_EQ(run_command({kKeyreq, "resolve", "--exec", "\"unterminated", "id", "001"}).exit_code, 2);
  EXPECT_EQ(run_command({kKeyreq, "no-such-command"}).exit_code, 2);
}

TEST_F(ResolveE2E, MalformedClientKeysIsReportedWithItsLineAndLeftAlone) {
  const std::string original = "001 agent-001 10.0.0.1 key1\nbroken-line\n";
  std::ofstream(keys()) << original;
  auto r = resolve({"--exec", kProvider + " --db " + db()}, "id", "002");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(read_file(keys()), original);
}

struct FaultyCase {
  std::string script;
  std::string expected;  // substring of the outcome line
};

TEST_F(ResolveE2E, EachFaultyProviderOverExecGetsItsExactOutcome) {
  const std::vector<FaultyCase> cases = {
      {"exit_nonzero", R"("failure":"exit_code")"},
      {"garbage_output", R"("rule":"D1")"},
      {"empty_output", R"("rule":"D1")"},
      {"killed_by_signal", R"("failure":"signal")"},
      {"wrong_agent", R"("rule":"C1")"},
      {"oversized_output", R"("failure":"output_too_large")"},
      {"stderr_warnings", R"("outcome":"registered")"},
      {"not_executable", R"("failure":"cannot_start")"},
      {"does_not_exist", R"("failure":"cannot_start")"},
  };
  for (const auto& c : cases) {
    auto r = resolve({"--exec", faulty(c.script)}, "id", "001", {"--timeout", "5"});
    EXPECT_CONTAINS(r.out, c.expected) << " for " << c.script;
    EXPECT_EQ(r.exit_code, c.expected.find("registered") != std::string::npos ? 0 : 1) << c.script;
  }
  // Only the provider that answered correctly (despite stderr noise) reached client.keys.
  const auto file = read_file(keys());
  EXPECT_EQ(std::count(file.begin(), file.end(), '\n'), 1) << file;
}

TEST_F(ResolveE2E, SlowAndSigtermIgnoringProvidersAreCutOff) {
  ::setenv("KEYREQ_SLOW_SECONDS", "30", 1);
  for (const char* script : {"slow", "ignores_sigterm", "grandchild_holds_stdout"}) {
    const auto start = std::chrono::steady_clock::now();
    auto r = resolve({"--exec", faulty(script)}, "id", "001", {"--timeout", "1"});
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_CONTAINS(r.out, R"("failure":"timeout")") << script;
    EXPECT_LT(elapsed, 3s) << script << " held the call past timeout + 2 s";
  }
  ::unsetenv("KEYREQ_SLOW_SECONDS");
  // Nothing of theirs survives: no process still runs a faulty script.
  std::this_thread::sleep_for(200ms);
  auto ps = run_command({"ps", "-eo", "stat=,args="});
  for (const char* script : {"fixtures/faulty/slow", "fixtures/faulty/ignores_sigterm"}) {
    std::istringstream lines(ps.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(script) != std::string::npos && line[0] != 'Z') ADD_FAILURE() << "left behind: " << line;
    }
  }
}

TEST_F(ResolveE2E, SocketProvidersInPiecesAndWrongAgents) {
  const auto chunked = start_daemon({faulty("chunked_socket.py")}, "chunked");
  auto r = resolve({"--socket", chunked}, "id", "001");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const auto wrong = start_daemon({faulty("wrong_agent")}, "wrong");
  r = resolve({"--socket", wrong}, "id", "002");
  EXPECT_CONTAINS(r.out, R"("rule":"C1")");
  r = resolve({"--socket", local_ / "nobody.sock"}, "id", "002");
  EXPECT_CONTAINS(r.out, R"("failure":"cannot_start")");
}

}  // namespace
}  // namespace keyreq
