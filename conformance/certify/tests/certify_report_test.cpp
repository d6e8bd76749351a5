// What a person reads in CI: findings grouped by root cause with hints,
// agent keys redacted, JUnit that validates against the Jenkins dialect
// (conformance/certify/schemas/junit-10.xsd, with xmllint), warnings visible.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "conformance/certify/redact.hpp"
#include "conformance/certify/report.hpp"
#include "conformance/certify/root_causes.hpp"
#include "conformance/certify/tests/certify_test_support.hpp"

namespace keyreq::certify {
namespace {

using namespace testing;

const std::string kKey = fixtures::dataset_agent(0).key;  // 64 hex digits

Exchange exec_output(const std::string& out) {
  Exchange ex;
  ex.transport = Transport::exec;
  ex.argv = {"/opt/p.py", "id", "001"};
  ex.started = true;
  ex.exit_code = 0;
  ex.output = out;
  ex.output_total = out.size();
  return ex;
}

// n failing probes, every answer with upper-case field names.
Certificate upper_case_certificate(std::size_t n) {
  Certificate cert;
  cert.transport = Transport::exec;
  cert.provider = "/opt/p.py";
  cert.dataset = "x.db";
  for (std::size_t i = 0; i < n; ++i) {
    ProbeResult p;
    p.id = "probe." + std::to_string(i);
    p.group = "smoke";
    p.title = "probe " + std::to_string(i);
    p.evidence.push_back(exec_output(R"({"ERROR":0,"DATA":{"ID":"001","KEY":")" + kKey + "\"}}\n"));
    p.findings.push_back({"E1", Level::must, "\"error\" is missing"});
    cert.probes.push_back(p);
  }
  return cert;
}

std::size_t count_if_contains(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(RootCauses, EachRuleOnceWithItsCountFirstExamplesAndAHint) {
  const Certificate cert = upper_case_certificate(96);
  const auto causes = root_causes(cert);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].rule, "E1");
  EXPECT_EQ(causes[0].count, 96u);
  EXPECT_EQ(causes[0].probes, 96u);
  EXPECT_EQ(causes[0].examples.size(), 3u);
  EXPECT_NE(causes[0].hint.find("\"ERROR\": field names are case-sensitive (SPEC §4)"), std::string::npos)
      << causes[0].hint;

  std::ostringstream console;
  write_console(cert, console);
  EXPECT_LE(lines(console.str()), 25u) << console.str();
  EXPECT_EQ(count_if_contains(console.str(), "[E1]"), 1u) << console.str();
  EXPECT_NE(console.str().find("... and 93 more probes"), std::string::npos) << console.str();
  const std::string md = certificate_markdown(cert);
  EXPECT_NE(md.find("### MUST E1: 96 findings in 96 probes"), std::string::npos);
  EXPECT_LE(lines(md), 96u + 45u) << "one table row per probe plus the grouped findings";
}

TEST(RootCauses, MustRulesComeFirstThenTheMostFrequent) {
  Certificate cert = upper_case_certificate(2);
  ProbeResult p;
  p.id = "exec.stderr";
  p.findings = {{"STDERR", Level::should, "x"},
                {"SQLI", Level::must, "y"},
                {"SQLI", Level::must, "z"},
                {"SQLI", Level::must, "w"}};
  cert.probes.push_back(p);
  const auto causes = root_causes(cert);
  ASSERT_EQ(causes.size(), 3u);
  EXPECT_EQ(causes[0].rule, "SQLI");  // 3 findings (in 1 probe) against E1's 2
  EXPECT_EQ(causes[0].probes, 1u);
  EXPECT_EQ(causes[1].rule, "E1");
  EXPECT_EQ(causes[2].rule, "STDERR");
}

TEST(RootCauses, HintForIdsLookedUpAsNumbers) {
  const Finding c1{"C1", Level::must, "\"id\" \"001\" answers request id:0001"};
  EXPECT_NE(hint_for(c1, nullptr).find("looks ids up as numbers"), std::string::npos);
  const Finding other{"C1", Level::must, "\"id\" \"999\" answers request id:001"};
  EXPECT_EQ(hint_for(other, nullptr), "");
}

TEST(Redaction, KeysKeepFirstAndLastFourDigitsAndTheLength) {
  EXPECT_EQ(redact_keys("key " + kKey + " end"), "key " + kKey.substr(0, 4) + "..." + kKey.substr(60) + "(64 hex) end");
  EXPECT_EQ(redact_keys("{\"key\":\"" + kKey + "\"}"),
            "{\"key\":\"" + kKey.substr(0, 4) + "..." + kKey.substr(60) + "(64 hex)\"}");
  // shorter hex runs (ids, addresses, short hashes) are not keys
  const std::string short_hex = "001 10.0.0.1 fe80::1 deadbeefdeadbeefdeadbeefdeadbee";  // 31 digits
  EXPECT_EQ(redact_keys(short_hex), short_hex);
  EXPECT_EQ(redact_keys(""), "");
}

TEST(Redaction, NoArtifactHoldsAWholeKey) {
  Certificate cert = upper_case_certificate(3);
  cert.probes[0].notes.push_back("note " + kKey);
  cert.probes[0].evidence[0].stderr_bytes = kKey;
  cert.probes[0].evidence[0].stderr_total = kKey.size();
  cert.probes[1].findings[0].message = "data.key is " + kKey;
  const Certificate shown = redacted(cert);
  std::ostringstream console, verbose;
  write_console(shown, console);
  write_console(shown, verbose, true);
  for (const std::string& text :
       {console.str(), verbose.str(), certificate_json(shown).dump(), certificate_markdown(shown), junit_xml(shown)}) {
    EXPECT_EQ(text.find(kKey), std::string::npos) << text.substr(0, 2000);
    EXPECT_NE(text.find(kKey.substr(0, 4) + "..." + kKey.substr(60) + "(64 hex)"), std::string::npos);
  }
  // without redaction (--show-keys) the key is there: the check above can fail
  EXPECT_NE(certificate_json(cert).dump().find(kKey), std::string::npos);
}

// ---------------------------------------------------------------- JUnit schema

std::string schema() { return source_root() + "/conformance/certify/schemas/junit-10.xsd"; }

// xmllint's verdict on the document: "" when it validates, its message otherwise.
std::string xmllint_problem(const TempDir& dir, const std::string& xml) {
  const std::string path = dir / "junit.xml";
  std::ofstream(path) << xml;
  const std::string log = dir / "xmllint.log";
  const std::string cmd = "xmllint --noout --schema '" + schema() + "' '" + path + "' > '" + log + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(log);
  std::stringstream s;
  s << in.rdbuf();
  return rc == 0 ? "" : "exit " + std::to_string(rc) + ": " + s.str();
}

Certificate mixed_certificate() {
  Certificate cert = upper_case_certificate(2);
  ProbeResult warn = probe_result("exec.stderr", "exec", "stderr <&> \"quoted\"");
  warn.findings.push_back({"STDERR", Level::should, "text on stderr: \x01\x1b[31m"});
  ProbeResult skipped = probe_result("parallel.consistent", "parallel");
  skipped.skip_reason = "not run: stopped";
  const ProbeResult pass = probe_result("smoke.known-id", "smoke");
  cert.probes.push_back(warn);
  cert.probes.push_back(skipped);
  cert.probes.push_back(pass);
  return cert;
}

class JunitSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(std::system("command -v xmllint > /dev/null"), 0)
        << "xmllint is missing: install libxml2-utils (scripts/bootstrap.sh)";
  }
  TempDir dir;
};

TEST_F(JunitSchema, TheSchemaRejectsSkippedOnTestsuites) {
  // The form certify wrote before: strict validators refused it.
  const std::string old = R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="keyreq certify" tests="1" failures="0" errors="0" skipped="1" time="0.1">
  <testsuite name="s" tests="1" skipped="1"><testcase name="t"><skipped message="m"/></testcase></testsuite>
</testsuites>
)";
  EXPECT_NE(xmllint_problem(dir, old), "");
}

TEST_F(JunitSchema, CertifyJunitValidatesWithFailuresWarningsAndSkips) {
  const Certificate cert = mixed_certificate();
  EXPECT_EQ(xmllint_problem(dir, junit_xml(cert)), "");
  EXPECT_EQ(xmllint_problem(dir, junit_xml(cert, true)), "");
  EXPECT_EQ(xmllint_problem(dir, junit_xml(redacted(cert))), "");
}

TEST(Junit, WarningsAsFailuresMakeShouldFindingsFailures) {
  const Certificate cert = mixed_certificate();
  const std::string plain = junit_xml(cert);
  const std::string strict = junit_xml(cert, true);
  EXPECT_EQ(count_if_contains(plain, "<failure "), 2u);
  EXPECT_EQ(count_if_contains(strict, "<failure "), 3u);
  EXPECT_NE(strict.find("type=\"SHOULD STDERR\""), std::string::npos) << strict;
  EXPECT_NE(plain.find("name=\"warnings\" value=\"1 (STDERR x1)\""), std::string::npos) << plain;
}

}  // namespace
}  // namespace keyreq::certify
