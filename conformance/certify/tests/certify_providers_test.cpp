// Whole certification runs: correct providers are certified, wrong ones are
// not, each with the finding it deserves (fixtures/faulty/README.md says
// what each faulty provider does wrong).
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "conformance/certify/report.hpp"
#include "conformance/certify/tests/certify_test_support.hpp"

namespace keyreq::certify {
namespace {

using namespace testing;
using std::chrono::milliseconds;

class Certification : public ::testing::Test {
 protected:
  TempDir dir;
  std::string dataset = make_sqlite_dataset(dir);

  Certificate run(CertifyOptions o) {
    const auto start = std::chrono::steady_clock::now();
    Certificate cert = certify(o);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return cert;
  }
  double seconds = 0;
};

void expect_certified(const Certificate& cert) {
  EXPECT_TRUE(cert.certified()) << summary(cert);
  EXPECT_EQ(cert.must_findings(), 0u) << summary(cert);
  EXPECT_EQ(cert.count(ProbeStatus::skipped), 0u) << summary(cert);
  EXPECT_GT(cert.timing.calls, 20u);
  for (const char* id :
       {"smoke.known-id", "smoke.known-ip", "smoke.unknown-id", "smoke.unknown-ip", "adversarial.id.sqli-short-or",
        "adversarial.ip.sqli-quote-or", "adversarial.request.option-unknown", "parallel.consistent", "form.id.0001",
        "form.id.00000001", "form.ip.::ffff:10.0.0.1", "form.ip.0.0.0.0"}) {
    EXPECT_NE(probe(cert, id), nullptr) << id;
  }
}

// ---------------------------------------------------------------- correct providers

TEST_F(Certification, ReferenceProviderOverExecIsCertified) {
  const Certificate cert = run(exec_options({provider_binary(), "--db", dataset}, dataset));
  expect_certified(cert);
  EXPECT_NE(probe(cert, "exec.stderr"), nullptr);
  EXPECT_LT(seconds, 30);
}

TEST_F(Certification, ReferenceProviderOverSocketIsCertified) {
  const std::string sock = dir / "ref.sock";
  ProviderDaemon daemon({provider_binary(), "--db", dataset, "--socket", sock}, sock, dir / "ref.log");
  ASSERT_TRUE(daemon.up());
  const Certificate cert = run(socket_options(sock, dataset));
  expect_certified(cert);
  for (const char* id : {"socket.health-check", "socket.no-half-close", "socket.request-in-pieces",
                         "socket.concurrent-connections", "socket.reply-in-one-write", "socket.still-serving"}) {
    const ProbeResult* p = probe(cert, id);
    ASSERT_NE(p, nullptr) << id;
    EXPECT_EQ(p->status(), ProbeStatus::pass) << id << "\n" << summary(cert);
  }
}

struct Language {
  const char* name;
  const char* interpreter;
  const char* script;
};

void PrintTo(const Language& l, std::ostream* os) { *os << l.name; }

const Language kLanguages[] = {
    {"python", "/usr/bin/python3", "fixtures/providers/python/provider.py"},
    {"php", "/usr/bin/php", "fixtures/providers/php/provider.php"},
    {"perl", "/usr/bin/perl", "fixtures/providers/perl/provider.pl"},
};

class LanguageCertification : public Certification, public ::testing::WithParamInterface<Language> {
 protected:
  std::string script() const { return source_root() + "/" + GetParam().script; }
  void SetUp() override {
    if (!std::filesystem::exists(script())) GTEST_SKIP() << script() << " is not there (yet)";
    if (!executable(GetParam().interpreter)) GTEST_SKIP() << GetParam().interpreter << " is not installed";
  }
};

// Interpreters start slowly on a loaded machine: a generous timeout keeps the
// test about the provider, not the load (slow calls still show as SLOW).
constexpr milliseconds kInterpreterTimeout{20'000};

TEST_P(LanguageCertification, ExecProviderIsCertified) {
  const Certificate cert =
      run(exec_options({GetParam().interpreter, script(), "--db", dataset}, dataset, kInterpreterTimeout));
  expect_certified(cert);
}

TEST_P(LanguageCertification, SocketDaemonIsCertified) {
  const std::string sock = dir / (std::string(GetParam().name) + ".sock");
  ProviderDaemon daemon({GetParam().interpreter, script(), "--db", dataset, "--socket", sock}, sock,
                        dir / "daemon.log");
  ASSERT_TRUE(daemon.up()) << "the " << GetParam().name << " daemon did not come up";
  const Certificate cert = run(socket_options(sock, dataset, kInterpreterTimeout));
  expect_certified(cert);
}

INSTANTIATE_TEST_SUITE_P(Providers, LanguageCertification, ::testing::ValuesIn(kLanguages),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------- --parallel does not change the verdict

// The MUST rules of a certificate with their counts, "C1 x2 DATA x3".
std::string must_rule_counts(const Certificate& cert) {
  std::map<std::string, int> counts;
  for (const auto& p : cert.probes)
    for (const auto& f : p.findings)
      if (f.level == Level::must) ++counts[f.rule];
  std::string out;
  for (const auto& [rule, n] : counts) out += rule + " x" + std::to_string(n) + " ";
  return out;
}

TEST_F(Certification, ReferenceProviderIsCertifiedAtParallel1And32) {
  const std::string sock = dir / "ref.sock";
  ProviderDaemon daemon({provider_binary(), "--db", dataset, "--socket", sock}, sock, dir / "ref.log");
  ASSERT_TRUE(daemon.up());
  for (const unsigned parallel : {1u, 32u}) {
    CertifyOptions exec = exec_options({provider_binary(), "--db", dataset}, dataset);
    exec.parallel = parallel;
    CertifyOptions socket = socket_options(sock, dataset);
    socket.parallel = parallel;
    for (const auto& o : {exec, socket}) {
      const Certificate cert = run(o);
      EXPECT_TRUE(cert.certified()) << "--parallel " << parallel << " " << to_string(o.transport) << "\n"
                                    << summary(cert);
    }
  }
}

// A daemon that serves one connection at a time behind a listen backlog of 5:
// at --parallel 32 most connects find the backlog full (EAGAIN). Certify
// waits for room like the resolver does, so its findings are the same at 1
// and at 32 (before the shared connect routine, 60-74 false IO findings).
TEST_F(Certification, SmallBacklogDaemonGetsTheSameFindingsAtParallel1And32) {
  const std::string sock = dir / "backlog.sock";
  ProviderDaemon daemon({"/usr/bin/python3", faulty("faulty_socket.py"), "--mode", "small_backlog", "--socket", sock},
                        sock, dir / "backlog.log");
  ASSERT_TRUE(daemon.up());
  std::string rules_at_1;
  for (const unsigned parallel : {1u, 32u}) {
    CertifyOptions o = socket_options(sock, dataset, milliseconds(10'000));
    o.parallel = parallel;
    const Certificate cert = run(o);
    EXPECT_TRUE(findings_of(cert, "IO").empty()) << "--parallel " << parallel << "\n" << summary(cert);
    EXPECT_TRUE(findings_of(cert, "CONNECT").empty()) << "--parallel " << parallel << "\n" << summary(cert);
    EXPECT_TRUE(findings_of(cert, "TIMEOUT").empty()) << "--parallel " << parallel << "\n" << summary(cert);
    EXPECT_TRUE(findings_of(cert, "PARALLEL").empty() && findings_of(cert, "CONCURRENT").empty())
        << "--parallel " << parallel << "\n"
        << summary(cert);
    if (parallel == 1)
      rules_at_1 = must_rule_counts(cert);
    else
      EXPECT_EQ(must_rule_counts(cert), rules_at_1) << summary(cert);
  }
}

// ---------------------------------------------------------------- request forms

// A provider careful in everything but looking ids up as integers: `id 0001`
// is a valid request (SPEC §2: 3 to 8 digits) for an agent the dataset does
// not have, and it answers agent 001's record — C1, which the resolver
// refuses at run time. Certify used to send ids only in the dataset's
// spelling and certified it.
TEST_F(Certification, IntegerIdLookupIsNotCertifiedWithC1ShowingRequestAndAnswer) {
  const Certificate cert =
      run(exec_options({"/usr/bin/python3", faulty("careless_sqlite.py"), "--mode", "integer-ids", "--db", dataset},
                       dataset, milliseconds(20'000)));
  EXPECT_FALSE(cert.certified()) << summary(cert);
  for (const char* id : {"form.id.0001", "form.id.00000001"}) {
    const ProbeResult* p = probe(cert, id);
    ASSERT_NE(p, nullptr) << id;
    ASSERT_TRUE(has_rule(p, "C1")) << id << "\n" << summary(cert);
    const auto c1 =
        std::find_if(p->findings.begin(), p->findings.end(), [](const Finding& f) { return f.rule == "C1"; });
    EXPECT_NE(c1->message.find("\"001\""), std::string::npos) << c1->message;                      // the answer's id
    EXPECT_NE(c1->message.find(std::string("id:") + (id + 8)), std::string::npos) << c1->message;  // the request
    ASSERT_EQ(p->evidence.size(), 1u);
    EXPECT_EQ(p->evidence[0].argv.back(), std::string(id + 8));
    EXPECT_NE(p->evidence[0].output.find("\"id\":\"001\""), std::string::npos) << p->evidence[0].output;
  }
  // careful otherwise: only the zero-padded forms are wrong
  for (const auto& p : cert.probes) {
    if (p.id.rfind("form.id.", 0) == 0) continue;
    EXPECT_FALSE(p.has_must()) << p.id << "\n" << summary(cert);
  }
}

// ---------------------------------------------------------------- faulty exec providers

// The faulty providers have no database: they answer every well-formed id
// (and any address made of address characters) as found, so besides the
// fault they are named after they also get DATA for the agents outside the
// dataset. The tests check the named fault, at the probe where it shows.

class FaultyExec : public Certification {
 protected:
  Certificate certify_faulty(const std::string& name, milliseconds timeout = milliseconds(1000)) {
    if (!std::filesystem::exists(faulty(name))) {
      ADD_FAILURE() << faulty(name) << " missing";
      return {};
    }
    return run(exec_options({faulty(name)}, dataset, timeout));
  }
};

TEST_F(FaultyExec, ExitNonzeroIsNotCertifiedForItsExitStatus) {
  const Certificate cert = certify_faulty("exit_nonzero");
  EXPECT_FALSE(cert.certified());
  EXPECT_TRUE(has_rule(probe(cert, "smoke.known-id"), "EXIT")) << summary(cert);
}

// Not certified, with `rule` on the known-id smoke probe; its first finding
// mentions `detail` when one is given.
void expect_known_id_fails_with(const Certificate& cert, const std::string& rule, const std::string& detail = "") {
  EXPECT_FALSE(cert.certified());
  const ProbeResult* p = probe(cert, "smoke.known-id");
  ASSERT_TRUE(has_rule(p, rule)) << summary(cert);
  if (!detail.empty()) {
    EXPECT_NE(p->findings.front().message.find(detail), std::string::npos) << summary(cert);
  }
}

TEST_F(FaultyExec, GarbageOutputIsD1) { expect_known_id_fails_with(certify_faulty("garbage_output"), "D1"); }

TEST_F(FaultyExec, EmptyOutputIsD1) {
  expect_known_id_fails_with(certify_faulty("empty_output"), "D1", "nothing on stdout");
}

TEST_F(FaultyExec, SlowIsTimeoutAndTheRunStaysBounded) {
  ScopedEnv slow("KEYREQ_SLOW_SECONDS", "3");
  const Certificate cert = certify_faulty("slow");
  EXPECT_FALSE(cert.certified());
  EXPECT_TRUE(has_rule(probe(cert, "smoke.known-id"), "TIMEOUT")) << summary(cert);
  EXPECT_GT(cert.count(ProbeStatus::skipped), 50u);  // the breaker stopped calling it
  EXPECT_LT(seconds, 10);
}

TEST_F(FaultyExec, IgnoresSigtermIsTimeoutWithTheKillShown) {
  expect_known_id_fails_with(certify_faulty("ignores_sigterm"), "TIMEOUT", "ignored SIGTERM");
  EXPECT_LT(seconds, 12);
}

TEST_F(FaultyExec, GrandchildHoldingStdoutIsTimeout) {
  ScopedEnv sleeper("KEYREQ_GRANDCHILD_SECONDS", "3");
  for (const char* name : {"grandchild_holds_stdout", "grandchild_setsid_holds_stdout"}) {
    const Certificate cert = certify_faulty(name);
    EXPECT_FALSE(cert.certified()) << name;
    const ProbeResult* p = probe(cert, "smoke.known-id");
    ASSERT_TRUE(has_rule(p, "TIMEOUT")) << name << "\n" << summary(cert);
    EXPECT_NE(p->findings.front().message.find("kept stdout open"), std::string::npos) << summary(cert);
  }
}

TEST_F(FaultyExec, WrongAgentIsC1AndC2) {
  const Certificate cert = certify_faulty("wrong_agent");
  EXPECT_FALSE(cert.certified());
  EXPECT_TRUE(has_rule(probe(cert, "smoke.known-id"), "C1")) << summary(cert);
  EXPECT_TRUE(has_rule(probe(cert, "smoke.known-ip"), "C2")) << summary(cert);
}

TEST_F(FaultyExec, OversizedOutputIsSize) { expect_known_id_fails_with(certify_faulty("oversized_output"), "SIZE"); }

TEST_F(FaultyExec, StderrWarningsAreAWarningNotAStdoutProblem) {
  const Certificate cert = certify_faulty("stderr_warnings");
  const ProbeResult* p = probe(cert, "exec.stderr");
  ASSERT_TRUE(has_rule(p, "STDERR")) << summary(cert);
  EXPECT_EQ(p->findings.front().level, Level::should);
  EXPECT_EQ(p->status(), ProbeStatus::warn);
  // stdout stayed clean: known agents get exactly their records.
  EXPECT_EQ(probe(cert, "smoke.known-id")->status(), ProbeStatus::pass) << summary(cert);
  EXPECT_TRUE(findings_of(cert, "D1").empty()) << summary(cert);
  // Not certified all the same: without a database it answers agents that
  // are not in the dataset.
  EXPECT_FALSE(cert.certified());
  EXPECT_TRUE(has_rule(probe(cert, "smoke.unknown-id"), "DATA")) << summary(cert);
}

TEST_F(FaultyExec, KilledBySignalIsSignal) {
  expect_known_id_fails_with(certify_faulty("killed_by_signal"), "SIGNAL", "SIGSEGV");
}

TEST_F(FaultyExec, ScriptsThatCannotStartAreStart) {
  const std::pair<const char*, const char*> cases[] = {{"no_shebang.sh", "Exec format error"},
                                                       {"not_executable", "Permission denied"}};
  for (const auto& [name, why] : cases) {
    const Certificate cert = certify_faulty(name);
    EXPECT_FALSE(cert.certified()) << name;
    const ProbeResult* p = probe(cert, "smoke.known-id");
    ASSERT_TRUE(has_rule(p, "START")) << name << "\n" << summary(cert);
    EXPECT_NE(p->findings.front().message.find(why), std::string::npos) << p->findings.front().message;
    EXPECT_EQ(cert.must_findings(), 1u) << "one finding, the rest skipped\n" << summary(cert);
  }
}

// ---------------------------------------------------------------- faulty socket providers

class FaultySocket : public Certification {
 protected:
  Certificate certify_daemon(std::vector<std::string> command, std::vector<std::string> env = {},
                             milliseconds timeout = milliseconds(1000)) {
    const std::string sock = dir / "faulty.sock";
    command.push_back("--socket");
    command.push_back(sock);
    ProviderDaemon daemon(command, sock, dir / "faulty.log", std::move(env));
    if (!daemon.up()) {
      ADD_FAILURE() << command.front() << " did not come up";
      return {};
    }
    return run(socket_options(sock, dataset, timeout));
  }
};

TEST_F(FaultySocket, GarbageIsD1) {
  const Certificate cert = certify_daemon({faulty("garbage_output")});
  EXPECT_FALSE(cert.certified());
  EXPECT_TRUE(has_rule(probe(cert, "smoke.known-id"), "D1")) << summary(cert);
  EXPECT_TRUE(findings_of(cert, "HEALTH").empty()) << summary(cert);
  EXPECT_TRUE(findings_of(cert, "PARALLEL").empty()) << "as wrong in parallel as serially\n" << summary(cert);
}

TEST_F(FaultySocket, CloseWithoutAnswerIsD1) {
  const Certificate cert = certify_daemon({faulty("empty_output")});
  EXPECT_FALSE(cert.certified());
  const ProbeResult* p = probe(cert, "smoke.known-id");
  ASSERT_TRUE(has_rule(p, "D1")) << summary(cert);
  EXPECT_NE(p->findings.front().message.find("closed without a byte"), std::string::npos);
}

TEST_F(FaultySocket, SlowIsTimeout) {
  const Certificate cert = certify_daemon({faulty("slow")}, {"KEYREQ_SLOW_SECONDS=3"});
  EXPECT_FALSE(cert.certified());
  EXPECT_TRUE(has_rule(probe(cert, "smoke.known-id"), "TIMEOUT")) << summary(cert);
  EXPECT_TRUE(findings_of(cert, "HALFCLOSE").empty()) << summary(cert);
  EXPECT_LT(seconds, 10);
}

TEST_F(FaultySocket, WrongAgentIsC1) {
  const Certificate cert = certify_daemon({faulty("wrong_agent")});
  EXPECT_FALSE(cert.certified());
  EXPECT_TRUE(has_rule(probe(cert, "smoke.known-id"), "C1")) << summary(cert);
  EXPECT_TRUE(has_rule(probe(cert, "smoke.known-ip"), "C2")) << summary(cert);
}

TEST_F(FaultySocket, OversizedIsSize) {
  const Certificate cert = certify_daemon({faulty("oversized_output")});
  EXPECT_FALSE(cert.certified());
  EXPECT_TRUE(has_rule(probe(cert, "smoke.known-id"), "SIZE")) << summary(cert);
}

TEST_F(FaultySocket, CrashOnFirstRequestIsReported) {
  const Certificate cert = certify_daemon({faulty("killed_by_signal")});
  EXPECT_FALSE(cert.certified());
  EXPECT_TRUE(has_rule(probe(cert, "smoke.known-id"), "D1")) << summary(cert);  // EOF, no reply
  EXPECT_TRUE(has_rule(probe(cert, "socket.still-serving"), "DAEMON")) << summary(cert);
}

TEST_F(FaultySocket, ChunkedReplyIsASplitWarning) {
  const Certificate cert = certify_daemon({faulty("chunked_socket.py")}, {"KEYREQ_CHUNK_DELAY_MS=3"});
  const ProbeResult* p = probe(cert, "socket.reply-in-one-write");
  ASSERT_TRUE(has_rule(p, "SPLIT")) << summary(cert);
  EXPECT_EQ(p->status(), ProbeStatus::warn);
  // keyreq reads until the document is complete: the records are right.
  EXPECT_EQ(probe(cert, "smoke.known-id")->status(), ProbeStatus::pass) << summary(cert);
  // Not certified all the same: it answers agents that are not in the dataset.
  EXPECT_FALSE(cert.certified());
  EXPECT_TRUE(has_rule(probe(cert, "smoke.unknown-id"), "DATA")) << summary(cert);
}

TEST_F(FaultySocket, HalfCloseOnlyIsDetected) {
  const Certificate cert = certify_daemon({faulty("half_close_socket.py")});
  EXPECT_FALSE(cert.certified());
  const ProbeResult* p = probe(cert, "socket.no-half-close");
  ASSERT_TRUE(has_rule(p, "HALFCLOSE")) << summary(cert);
  ASSERT_EQ(p->evidence.size(), 2u);
  EXPECT_FALSE(p->evidence[0].half_close);
  EXPECT_TRUE(p->evidence[1].half_close);
  EXPECT_FALSE(p->evidence[1].output.empty());
  EXPECT_LT(seconds, 10);
}

// ---------------------------------------------------------------- the vulnerable provider

class Vulnerable : public Certification {
 protected:
  std::string script = source_root() + "/fixtures/vulnerable/provider.py";

  void expect_injection_found(const Certificate& cert) {
    EXPECT_FALSE(cert.certified());
    const auto sqli = findings_of(cert, "SQLI");
    ASSERT_FALSE(sqli.empty()) << summary(cert);
    // SQL injection is the one thing wrong with it.
    for (const auto& p : cert.probes)
      for (const auto& f : p.findings)
        if (f.level == Level::must) {
          EXPECT_EQ(f.rule, "SQLI") << p.id << ": " << f.message;
        }
    // Through id only the short payloads get past its 8-byte check.
    const ProbeResult* short_or = probe(cert, "adversarial.id.sqli-short-or");
    ASSERT_TRUE(has_rule(short_or, "SQLI")) << summary(cert);
    EXPECT_NE(short_or->findings.front().message.find("'OR 1--"), std::string::npos);
    EXPECT_FALSE(has_rule(probe(cert, "adversarial.id.sqli-quote-or"), "SQLI"));  // 11 bytes: refused
    EXPECT_TRUE(has_rule(probe(cert, "adversarial.ip.sqli-quote-or"), "SQLI"));   // fits in 19

    // Every report form shows the payload and how to replay it.
    std::ostringstream console;
    write_console(cert, console);
    const std::string md = certificate_markdown(cert);
    const std::string junit = junit_xml(cert);
    const std::string json = certificate_json(cert).dump();
    EXPECT_NE(console.str().find("'OR 1--"), std::string::npos);
    EXPECT_NE(console.str().find("repro:"), std::string::npos);
    EXPECT_NE(md.find("'OR 1--"), std::string::npos);
    EXPECT_NE(junit.find("&apos;OR 1--"), std::string::npos);
    EXPECT_NE(junit.find("type=\"SQLI\""), std::string::npos);
    EXPECT_NE(json.find("'OR 1--"), std::string::npos);
  }
};

TEST_F(Vulnerable, ExecIsNotCertifiedAndTheReportShowsThePayload) {
  if (!executable("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is not installed";
  const Certificate cert = run(exec_options({script, "--db", dataset}, dataset, milliseconds(20'000)));
  expect_injection_found(cert);
  const ProbeResult* p = probe(cert, "adversarial.id.sqli-short-or");
  ASSERT_FALSE(p->evidence.empty());
  const auto& argv = p->evidence.front().argv;
  ASSERT_GE(argv.size(), 2u);
  EXPECT_EQ(argv[argv.size() - 2], "id");
  EXPECT_EQ(argv.back(), "'OR 1--");
}

TEST_F(Vulnerable, SocketIsNotCertifiedAndTheReportShowsThePayload) {
  if (!executable("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is not installed";
  const std::string sock = dir / "vuln.sock";
  ProviderDaemon daemon({script, "--db", dataset, "--socket", sock}, sock, dir / "vuln.log");
  ASSERT_TRUE(daemon.up());
  const Certificate cert = run(socket_options(sock, dataset, milliseconds(20'000)));
  expect_injection_found(cert);
  const ProbeResult* p = probe(cert, "adversarial.id.sqli-short-or");
  ASSERT_FALSE(p->evidence.empty());
  EXPECT_EQ(p->evidence.front().pieces, std::vector<std::string>{"id:'OR 1--"});
  // It reads each request with one recv: a request in pieces is misread.
  EXPECT_TRUE(has_rule(probe(cert, "socket.request-in-pieces"), "PIECES")) << summary(cert);
}

}  // namespace
}  // namespace keyreq::certify
