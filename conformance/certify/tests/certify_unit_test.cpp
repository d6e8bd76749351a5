// The pieces of keyreq certify on their own: process runner, raw socket
// probes, quoting (replayed through bash), SHOULD rules, judging, payloads,
// report writers.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <set>
#include <sstream>
#include <thread>

#include "conformance/certify/judge.hpp"
#include "conformance/certify/payloads.hpp"
#include "conformance/certify/process_runner.hpp"
#include "conformance/certify/quoting.hpp"
#include "conformance/certify/report.hpp"
#include "conformance/certify/socket_probe.hpp"
#include "conformance/certify/tests/certify_test_support.hpp"
#include "resolver/transport/command_line.hpp"

namespace keyreq::certify {
namespace {

using namespace testing;
using std::chrono::milliseconds;

RunLimits limits(milliseconds timeout) {
  RunLimits l;
  l.timeout = timeout;
  l.kill_grace = milliseconds(200);
  return l;
}

// ---------------------------------------------------------------- process runner

TEST(ProcessRunner, KeepsStdoutAndStderrApartWithTheExitStatus) {
  const ProcessRun run = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, limits(milliseconds(5000)));
  ASSERT_TRUE(run.started);
  EXPECT_EQ(run.stdout_bytes, "out\n");
  EXPECT_EQ(run.stderr_bytes, "err\n");
  EXPECT_TRUE(run.exited);
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_FALSE(run.timed_out);
}

TEST(ProcessRunner, StdinIsDevNullAndArgvIsPassedAsIs) {
  const ProcessRun run = run_process({"/bin/sh", "-c", "cat; printf '%s|' \"$@\"", "sh", "' OR '1'='1", "", "a\nb"},
                                     limits(milliseconds(5000)));
  EXPECT_EQ(run.stdout_bytes, "' OR '1'='1||a\nb|");
}

TEST(ProcessRunner, TimeoutEscalatesToSigkillWhenSigtermIsIgnored) {
  const auto start = std::chrono::steady_clock::now();
  // 1 s: time for sh to set its trap even on a loaded machine.
  const ProcessRun run = run_process({"/bin/sh", "-c", "trap '' TERM; sleep 5; echo late"}, limits(milliseconds(1000)));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(run.timed_out);
  EXPECT_TRUE(run.ignored_sigterm);
  EXPECT_EQ(run.signal, SIGKILL);
  EXPECT_TRUE(run.stdout_bytes.empty());
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(ProcessRunner, TimeoutEndsAProviderThatHonoursSigterm) {
  const ProcessRun run = run_process({"/bin/sleep", "5"}, limits(milliseconds(100)));
  EXPECT_TRUE(run.timed_out);
  EXPECT_FALSE(run.ignored_sigterm);
  EXPECT_EQ(run.signal, SIGTERM);
}

TEST(ProcessRunner, AGrandchildHoldingStdoutCannotHoldTheCall) {
  const auto start = std::chrono::steady_clock::now();
  const ProcessRun run = run_process({"/bin/sh", "-c", "setsid sleep 5 & printf partial"}, limits(milliseconds(1500)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  EXPECT_TRUE(run.timed_out);
  EXPECT_TRUE(run.stdout_held_open);
  EXPECT_EQ(run.stdout_bytes, "partial");
}

TEST(ProcessRunner, OutputPastTheCapIsTooLarge) {
  const ProcessRun run = run_process({"/bin/sh", "-c", "head -c 200000 /dev/zero"}, limits(milliseconds(5000)));
  EXPECT_TRUE(run.too_large);
  EXPECT_GT(run.stdout_total, 64u * 1024);
  EXPECT_LE(run.stdout_bytes.size(), 64u * 1024 + 1);
}

TEST(ProcessRunner, ASignalIsReported) {
  const ProcessRun run = run_process({"/bin/sh", "-c", "kill -SEGV $$"}, limits(milliseconds(5000)));
  EXPECT_FALSE(run.exited);
  EXPECT_EQ(run.signal, SIGSEGV);
}

TEST(ProcessRunner, CannotStartIsToldApart) {
  EXPECT_FALSE(run_process({"no-such-provider-xyz"}, limits(milliseconds(1000))).started);
  const ProcessRun run = run_process({"/etc/passwd"}, limits(milliseconds(1000)));
  EXPECT_FALSE(run.started);
  EXPECT_NE(run.start_error.find("Permission denied"), std::string::npos) << run.start_error;
  // A provider exiting 127 started fine.
  const ProcessRun exits = run_process({"/bin/sh", "-c", "exit 127"}, limits(milliseconds(1000)));
  EXPECT_TRUE(exits.started);
  EXPECT_EQ(exits.exit_code, 127);
}

// ---------------------------------------------------------------- socket probes

// Each connection on a thread of its own (the probes connect concurrently).
class TestServer : public UnixTestServer {
 public:
  TestServer(const std::string& path, Handler serve)
      : UnixTestServer(path, std::move(serve), 16, Handling::concurrent) {}
};

const std::string kAnswer = R"({"error":0,"data":{"id":"001","name":"agent-001","ip":"10.0.0.1","key":"k"}})";

// One recv: what the peer has sent so far.
std::string receive_once(int fd) {
  char buf[256];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

TEST(SocketProbe, HalfCloseOnlyServerTimesOutWithoutAndAnswersWith) {
  TempDir dir;
  TestServer server(dir / "s", [](int c) {
    std::string got;
    while (true) {  // until EOF
      const std::string more = receive_once(c);
      if (more.empty()) break;
      got += more;
    }
    if (!got.empty()) ::send(c, kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL);
  });
  SocketScript script;
  script.pieces = {"id:001"};
  script.timeout = milliseconds(300);
  const SocketRun plain = socket_exchange(dir / "s", script);
  EXPECT_TRUE(plain.timed_out);
  EXPECT_TRUE(plain.reply.empty());
  script.half_close = true;
  const SocketRun closing = socket_exchange(dir / "s", script);
  EXPECT_FALSE(closing.timed_out);
  EXPECT_EQ(closing.reply, kAnswer);
}

TEST(SocketProbe, PiecesGoOutSeparatelyAndASplitReplyIsCounted) {
  TempDir dir;
  std::atomic<int> reads{0};
  TestServer server(dir / "s", [&](int c) {
    std::string got;
    while (got.size() < 6) {
      const std::string more = receive_once(c);
      if (more.empty()) return;
      ++reads;
      got += more;
    }
    for (std::size_t i = 0; i < kAnswer.size(); i += 20) {
      ::send(c, kAnswer.data() + i, std::min<std::size_t>(20, kAnswer.size() - i), MSG_NOSIGNAL);
      std::this_thread::sleep_for(milliseconds(15));
    }
  });
  SocketScript script;
  script.pieces = {"i", "d:", "001"};
  script.pause_between = milliseconds(30);
  const SocketRun run = socket_exchange(dir / "s", script);
  EXPECT_GE(reads.load(), 2);  // 3 unless the server thread was too slow to see them apart
  EXPECT_EQ(run.reply, kAnswer);
  EXPECT_TRUE(run.complete_document);
  EXPECT_GE(run.pieces.size(), 2u);
}

TEST(SocketProbe, TouchAndConcurrentExchanges) {
  TempDir dir;
  EXPECT_FALSE(socket_touch(dir / "none", milliseconds(100)).empty());
  std::atomic<int> open{0}, most{0};
  TestServer server(dir / "s", [&](int c) {
    const int now = ++open;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    const std::string got = receive_once(c);
    std::this_thread::sleep_for(milliseconds(100));  // hold the connection: the others are open too
    const std::string reply = "{\"echo\":\"" + got + "\"}";
    ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    --open;
  });
  EXPECT_TRUE(socket_touch(dir / "s", milliseconds(500)).empty());
  const auto runs = concurrent_exchanges(dir / "s", {"id:001", "id:002", "id:003", "id:004"}, milliseconds(3000));
  ASSERT_EQ(runs.size(), 4u);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].reply, "{\"echo\":\"id:00" + std::to_string(i + 1) + "\"}");
  }
  EXPECT_GE(most.load(), 2);
}

// Issue 11 #1: with the provider's listen backlog full, a probe used to take
// the unconnected socket (EAGAIN) as connected and report a false IO finding.
TEST(SocketProbe, AFullListenBacklogIsWaitedFor) {
  TempDir dir;
  UnixTestServer server(
      dir / "s",
      [](int c) {
        testkit::read_some(c, 6);
        std::this_thread::sleep_for(milliseconds(5));
        testkit::write_all(c, kAnswer);
      },
      /*backlog=*/1);
  SocketScript script;
  script.pieces = {"id:001"};
  script.timeout = milliseconds(10000);
  std::vector<SocketRun> runs(32);
  std::vector<std::thread> threads;
  for (auto& run : runs) threads.emplace_back([&] { run = socket_exchange(dir / "s", script); });
  for (auto& t : threads) t.join();
  for (const SocketRun& run : runs) {
    EXPECT_EQ(run.connect_error, "");
    EXPECT_EQ(run.write_error, "");
    EXPECT_EQ(run.reply, kAnswer);
  }
}

// ---------------------------------------------------------------- quoting

TEST(Quoting, ShellWordsReplayByteForByteThroughBash) {
  const std::vector<std::string> words = {"001",
                                          "",
                                          "' OR '1'='1",
                                          "'OR''='",
                                          "\"OR\"\"=\"",
                                          "$(touch x)",
                                          "`id`",
                                          "a b",
                                          "!x",
                                          "a\nb",
                                          "a\r\n",
                                          "\xef\xbc\x90\xef\xbc\x91",
                                          std::string("\xff") + "001",
                                          std::string(4096, '1'),
                                          "x\\y",
                                          "%s",
                                          "*"};
  for (const auto& word : words) {
    const std::string line = "printf %s " + shell_quote(word);
    const ProcessRun run = run_process({"/bin/bash", "-c", line}, limits(milliseconds(5000)));
    EXPECT_EQ(run.stdout_bytes, word) << line;
  }
  EXPECT_EQ(shell_quote("fixtures/x.py"), "fixtures/x.py");
  EXPECT_EQ(shell_quote("'OR 1--"), "\"'OR 1--\"");
  EXPECT_LT(shell_quote(std::string(4096, '1')).size(), 60u);
}

TEST(Quoting, SocketReproductionReplaysTheExchange) {
  if (find_in_path("python3").empty()) GTEST_SKIP() << "no python3 in PATH";
  TempDir dir;
  std::atomic<int> reads{0};
  std::string received;
  std::mutex m;
  TestServer server(dir / "s", [&](int c) {
    std::string got;
    while (true) {
      const std::string more = receive_once(c);
      if (more.empty()) break;
      ++reads;
      got += more;
    }
    {
      std::lock_guard lock(m);
      received = got;
    }
    ::send(c, kAnswer.data(), kAnswer.size(), MSG_NOSIGNAL);
  });
  Exchange ex;
  ex.transport = Transport::socket;
  ex.pieces = {"id:' OR ", std::string("\"1\"\n\0", 5)};
  ex.pause = milliseconds(20);
  ex.half_close = true;  // the test server reads until EOF
  const std::string line = reproduce(ex, dir / "s");
  const ProcessRun run = run_process({"/bin/bash", "-c", line}, limits(milliseconds(10000)));
  EXPECT_EQ(run.stdout_bytes, kAnswer) << line << "\n" << run.stderr_bytes;
  std::lock_guard lock(m);
  EXPECT_EQ(received, std::string("id:' OR \"1\"\n\0", 13));
}

// ---------------------------------------------------------------- rules

bool has(const std::vector<Finding>& f, const std::string& rule, Level level) {
  for (const auto& x : f)
    if (x.rule == rule && x.level == level) return true;
  return false;
}

TEST(ShouldRules, E3E4S6) {
  EXPECT_TRUE(should_findings(R"({"error":1,"message":"agent not found"})").empty());
  EXPECT_TRUE(should_findings(R"({"error":0,"data":{}})").empty());
  EXPECT_TRUE(has(should_findings(R"({"error":1})"), "E3", Level::should));
  EXPECT_TRUE(has(should_findings(R"({"error":1,"message":7})"), "E3", Level::should));
  EXPECT_TRUE(has(should_findings(R"({"error":1,"message":"a\u0001b"})"), "E3", Level::should));
  EXPECT_TRUE(has(should_findings(R"({"error":1,"message":"a\u0085b"})"), "E3", Level::should));
  EXPECT_TRUE(should_findings(R"({"error":1,"message":"caf\u00e9 \u2713"})").empty());
  EXPECT_TRUE(should_findings("{\"error\":1,\"message\":\"" + std::string(1024, 'x') + "\"}").empty());
  EXPECT_TRUE(
      has(should_findings("{\"error\":1,\"message\":\"" + std::string(1025, 'x') + "\"}"), "E3", Level::should));
  EXPECT_TRUE(has(should_findings(R"({"error":2,"message":"m","data":{"id":"001"}})"), "E4", Level::should));
  EXPECT_TRUE(has(should_findings(R"({"error":0,"data":{},"padding":"x"})"), "S6", Level::should));
  EXPECT_TRUE(has(should_findings(R"({"error":0,"data":{},"message":"ok"})"), "S6", Level::should));
}

Exchange exec_answer(const std::string& stdout_bytes, int exit_code = 0) {
  Exchange ex;
  ex.transport = Transport::exec;
  ex.started = true;
  ex.output = stdout_bytes;
  ex.output_total = stdout_bytes.size();
  ex.exit_code = exit_code;
  ex.elapsed = milliseconds(5);
  return ex;
}

fixtures::DatasetAgent agent001() { return fixtures::dataset_agent(0); }

std::string record_json(const fixtures::DatasetAgent& a) {
  return R"({"error":0,"data":{"id":")" + a.id + R"(","name":")" + a.name + R"(","ip":")" + a.ip + R"(","key":")" +
         a.key + R"("}})";
}

Expectation known(const fixtures::DatasetAgent& a) {
  Expectation e;
  e.kind = Expectation::Kind::known_agent;
  e.agent = a;
  return e;
}

TEST(Judge, KnownAgentMustBeExact) {
  const auto a = agent001();
  const Request r{RequestKind::id, a.id};
  EXPECT_TRUE(judge(exec_answer(record_json(a)), r, known(a), milliseconds(5000)).empty());
  auto other = a;
  other.key = "somethingelse";
  const auto f = judge(exec_answer(record_json(other)), r, known(a), milliseconds(5000));
  ASSERT_TRUE(has(f, "DATA", Level::must));
  EXPECT_NE(f.front().message.find("data.key"), std::string::npos);
  EXPECT_TRUE(
      has(judge(exec_answer(R"({"error":1,"message":"no"})"), r, known(a), milliseconds(5000)), "DATA", Level::must));
  EXPECT_TRUE(has(judge(exec_answer(record_json(a), 3), r, known(a), milliseconds(5000)), "EXIT", Level::must));
  EXPECT_TRUE(has(judge(exec_answer("{\"error\":\"0\"}"), r, known(a), milliseconds(5000)), "E1", Level::must));
  auto slow = exec_answer(record_json(a));
  slow.elapsed = milliseconds(600);
  EXPECT_TRUE(has(judge(slow, r, known(a), milliseconds(1000)), "SLOW", Level::should));
}

TEST(Judge, UnknownAgentMustBeDeclined) {
  Expectation e;
  e.kind = Expectation::Kind::unknown_agent;
  const Request r{RequestKind::id, "99999999"};
  EXPECT_TRUE(judge(exec_answer(R"({"error":1,"message":"not found"})"), r, e, milliseconds(5000)).empty());
  auto f = judge(exec_answer(R"({"error":1})"), r, e, milliseconds(5000));
  EXPECT_TRUE(has(f, "E3", Level::should));
  auto a = agent001();
  a.id = "99999999";
  EXPECT_TRUE(has(judge(exec_answer(record_json(a)), r, e, milliseconds(5000)), "DATA", Level::must));
  // A decline with a non-zero exit: a warning only.
  EXPECT_TRUE(
      has(judge(exec_answer(R"({"error":1,"message":"x"})", 1), r, e, milliseconds(5000)), "EXIT", Level::should));
}

TEST(Judge, SuccessToAMalformedRequestIsAcceptedMalformedInputOrInjection) {
  Expectation e;
  e.kind = Expectation::Kind::malformed;
  const Request r = as_request("id", "' OR '1'='1");
  const std::string success = record_json(agent001());
  EXPECT_TRUE(has(judge(exec_answer(success), r, e, milliseconds(5000)), "REQUEST", Level::must));
  e.sql_payload = true;
  const auto f = judge(exec_answer(success), r, e, milliseconds(5000));
  ASSERT_TRUE(has(f, "SQLI", Level::must));
  EXPECT_NE(f.front().message.find("' OR '1'='1"), std::string::npos);
  EXPECT_NE(f.front().message.find("agent-001"), std::string::npos);
  EXPECT_TRUE(judge(exec_answer(R"({"error":2,"message":"bad"})"), r, e, milliseconds(5000)).empty());
  EXPECT_TRUE(has(judge(exec_answer("usage: provider id VALUE\n"), r, e, milliseconds(5000)), "D1", Level::must));
  EXPECT_TRUE(has(judge(exec_answer(""), r, e, milliseconds(5000)), "D1", Level::must));
}

TEST(Judge, TransportOutcomes) {
  const auto a = agent001();
  const Request r{RequestKind::id, a.id};
  Exchange ex = exec_answer("");
  ex.timed_out = true;
  ex.ignored_sigterm = true;
  auto f = judge(ex, r, known(a), milliseconds(1000));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].rule, "TIMEOUT");
  EXPECT_NE(f[0].message.find("SIGKILL"), std::string::npos);
  ex = exec_answer(record_json(a));
  ex.signal = SIGSEGV;
  ex.exit_code = -1;
  EXPECT_EQ(judge(ex, r, known(a), milliseconds(1000)).front().rule, "SIGNAL");
  ex = exec_answer("");
  ex.started = false;
  ex.start_error = "cannot start \"x\": Exec format error";
  f = judge(ex, r, known(a), milliseconds(1000));
  EXPECT_EQ(f.front().rule, "START");
  EXPECT_NE(f.front().message.find("shebang"), std::string::npos);
}

// ---------------------------------------------------------------- payloads

TEST(Payloads, CoverTheIssuesListWithShortSqlAndCanaries) {
  const auto payloads = adversarial_payloads("001", "10.0.0.1", "/tmp/canary");
  std::set<std::string> ids, categories;
  std::size_t short_sql_id = 0;
  for (const auto& p : payloads) {
    EXPECT_TRUE(ids.insert(p.kind + "." + p.name).second) << "duplicate " << p.name;
    categories.insert(p.category);
    if (p.category == "shell" && p.name != "shell-glob") {
      EXPECT_FALSE(p.canary.empty()) << p.name;
    }
    if (p.sql && p.kind == "id" && p.judge_value.size() <= 8) ++short_sql_id;
    if (p.exec_args) {
      for (const auto& w : *p.exec_args) EXPECT_EQ(w.find('\0'), std::string::npos) << p.name;
    }
    EXPECT_TRUE(p.exec_args || p.socket_bytes) << p.name;
  }
  EXPECT_GE(short_sql_id, 5u);
  for (const char* c : {"sql", "length", "overlong", "empty", "non-digit", "non-address", "shell", "unicode", "newline",
                        "option", "missing", "nul"}) {
    EXPECT_TRUE(categories.count(c)) << c;
  }
}

// ---------------------------------------------------------------- reports

Certificate sample_certificate() {
  Certificate cert;
  cert.keyreq_version = "0.1.0";
  cert.started_at = "2024-01-01T00:00:00Z";
  cert.transport = Transport::exec;
  cert.provider = "/opt/p.py --db x.db";
  cert.dataset = "x.db";
  cert.dataset_agents = 3;
  cert.timeout_seconds = 5;
  cert.parallel = 4;
  const ProbeResult pass = probe_result("smoke.known-id", "smoke", "known id");
  ProbeResult fail = probe_result("adversarial.id.sqli-short-or", "adversarial", "short <payload> & co");
  Exchange ex = exec_answer(record_json(agent001()));
  ex.argv = {"/opt/p.py", "--db", "x.db", "id", "'OR 1--"};
  fail.evidence.push_back(ex);
  fail.findings.push_back({"SQLI", Level::must, "possible SQL injection: \"'OR 1--\""});
  ProbeResult warn = probe_result("exec.stderr", "exec", "stderr");
  warn.findings.push_back({"STDERR", Level::should, "text on stderr"});
  ProbeResult skipped = probe_result("parallel.consistent", "parallel", "parallel");
  skipped.skip_reason = "not run: stopped";
  cert.probes = {pass, fail, warn, skipped};
  return cert;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(Reports, EveryFormShowsTheFailureWithItsEvidence) {
  const Certificate cert = sample_certificate();
  EXPECT_FALSE(cert.certified());
  EXPECT_EQ(verdict(cert), "NOT CERTIFIED");

  std::ostringstream console;
  write_console(cert, console);
  const std::string text = console.str();
  for (const char* part :
       {"MUST   [SQLI] 1 finding in 1 probe", "adversarial.id.sqli-short-or: possible SQL injection",
        "sent:   argv /opt/p.py --db x.db id \"'OR 1--\"", "got:    exit 0",
        "stdout: ", "repro:  /opt/p.py --db x.db id \"'OR 1--\"", "SHOULD [STDERR] 1 finding in 1 probe",
        "exec.stderr: text on stderr", "NOT CERTIFIED: 1 MUST findings (SQLI x1)", "1 warnings (STDERR x1)"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
  }
  EXPECT_EQ(text.find("smoke.known-id"), std::string::npos);  // passing probes only with --verbose
  std::ostringstream verbose;
  write_console(cert, verbose, true);
  for (const char* part :
       {"PASS smoke.known-id", "FAIL adversarial.id.sqli-short-or", "WARN exec.stderr", "SKIP parallel.consistent"}) {
    EXPECT_NE(verbose.str().find(part), std::string::npos) << part << "\n" << verbose.str();
  }

  const std::string junit = junit_xml(cert);
  EXPECT_EQ(count_of(junit, "<testcase "), 4u);
  EXPECT_EQ(count_of(junit, "<failure "), 1u);
  EXPECT_EQ(count_of(junit, "<skipped "), 1u);
  EXPECT_NE(junit.find("<testsuites name=\"keyreq certify\" tests=\"4\" failures=\"1\" errors=\"0\" time="),
            std::string::npos)
      << junit;
  EXPECT_NE(junit.find("tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"1\""), std::string::npos);  // <testsuite>
  EXPECT_NE(junit.find("name=\"warnings\" value=\"1 (STDERR x1)\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("short &lt;payload&gt; &amp; co"), std::string::npos);
  EXPECT_EQ(junit.find("<payload>"), std::string::npos);
  EXPECT_NE(junit.find("type=\"SQLI\""), std::string::npos);

  const auto json = certificate_json(cert);
  EXPECT_EQ(json["verdict"], "NOT CERTIFIED");
  EXPECT_EQ(json["summary"]["fail"], 1);
  EXPECT_EQ(json["probes"][1]["findings"][0]["rule"], "SQLI");
  EXPECT_EQ(json["probes"][1]["evidence"][0]["sent"]["argv"][4], "'OR 1--");
  EXPECT_EQ(json["probes"][1]["evidence"][0]["reproduce"], "/opt/p.py --db x.db id \"'OR 1--\"");
  // Output goes into JSON as it came when it is UTF-8, escaped when not.
  EXPECT_EQ(json["probes"][1]["evidence"][0]["output"], record_json(agent001()));
  Certificate odd = cert;
  odd.probes[1].evidence[0].output = std::string("\xff\xfe{\"a\":1}\n", 10);
  EXPECT_EQ(certificate_json(odd)["probes"][1]["evidence"][0]["output"], "\\xff\\xfe{\\\"a\\\":1}\\n");

  const std::string md = certificate_markdown(cert);
  EXPECT_NE(md.find("# keyreq certificate: NOT CERTIFIED"), std::string::npos);
  EXPECT_NE(md.find("### MUST SQLI: 1 finding in 1 probe"), std::string::npos) << md;
  EXPECT_NE(md.find("### SHOULD STDERR: 1 finding in 1 probe"), std::string::npos) << md;
  EXPECT_NE(md.find("repro:  /opt/p.py"), std::string::npos);
}

TEST(Reports, FilesAreWritten) {
  TempDir dir;
  const Certificate cert = sample_certificate();
  EXPECT_EQ(write_certificate_files(cert, dir / "out/nested"), "");
  EXPECT_TRUE(std::filesystem::exists(dir / "out/nested/certificate.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "out/nested/certificate.md"));
  EXPECT_NE(write_text_file(dir / "missing-dir/x.xml", "x"), "");
}

TEST(Dataset, CsvAndSqliteAreBothRead) {
  TempDir dir;
  ASSERT_FALSE(fixtures::write_csv_dataset(dir / "a.csv", 5));
  ASSERT_FALSE(fixtures::write_sqlite_dataset(dir / "a.db", 5));
  const auto csv = read_dataset(dir / "a.csv");
  const auto db = read_dataset(dir / "a.db");
  ASSERT_TRUE(csv) << csv.error;
  ASSERT_TRUE(db) << db.error;
  EXPECT_EQ(csv.agents, db.agents);
  EXPECT_EQ(csv.agents.size(), 5u);
  EXPECT_FALSE(read_dataset(dir / "none.csv"));
}

TEST(Dataset, RecordsThatBreakTheFieldRulesCannotBeExpected) {
  std::vector<fixtures::DatasetAgent> agents = {fixtures::dataset_agent(0), fixtures::dataset_agent(1)};
  EXPECT_EQ(dataset_problem(agents), "");
  EXPECT_NE(dataset_problem({}), "");
  auto bad = agents;
  bad[1].name = "agent 2";
  EXPECT_NE(dataset_problem(bad).find("S3"), std::string::npos);
  bad = agents;
  bad[1].id = "1";
  EXPECT_NE(dataset_problem(bad).find("S2"), std::string::npos);
  bad = agents;
  bad[1].id = bad[0].id;
  EXPECT_NE(dataset_problem(bad).find("twice"), std::string::npos);
}

}  // namespace
}  // namespace keyreq::certify
