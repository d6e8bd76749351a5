// fixtures/outputs (y_ registers, d_ is declined, n_<rule>_ is refused with
// that rule) through the oracle, the resolver, and the resolver with a real
// client.keys; then JSONTestSuite's test_parsing files through the response
// parser and the oracle.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <set>

#include "conformance/compare.hpp"
#include "conformance/oracle.hpp"
#include "conformance/tests/known_resolver_bugs.hpp"
#include "resolver/core/response_parser.hpp"
#include "resolver/keystore/keystore.hpp"
#include "resolver/resolve/resolver.hpp"
#include "testkit/files.hpp"
#include "testkit/paths.hpp"

namespace keyreq::conformance {
namespace {

namespace fs = std::filesystem;

fs::path source_root() { return testkit::source_root(); }

std::string read_bytes(const fs::path& p) { return testkit::read_file(p); }

std::vector<std::string> split_name(std::string stem) {
  std::vector<std::string> tokens;
  std::size_t start = 0;
  while (true) {
    const auto at = stem.find('_', start);
    tokens.push_back(stem.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return tokens;
    start = at + 1;
  }
}

struct CorpusFile {
  std::string name;
  std::string expected;  // accept, decline or the rule id
  OracleRequest request{"id", "001"};
  std::string error;  // a badly named file
};

// The verdict is the prefix; the request is id:001 unless the name holds
// "id_<ID>" or "ip_<ADDR>" (IPv6 with '-' for ':').
CorpusFile describe(const std::string& name) {
  CorpusFile f;
  f.name = name;
  const auto tokens = split_name(fs::path(name).stem().string());
  if (tokens[0] == "y")
    f.expected = "accept";
  else if (tokens[0] == "d")
    f.expected = "decline";
  else if (tokens[0] == "n" && tokens.size() > 1 && rule_rank(tokens[1]) < rule_rank("accept"))
    f.expected = tokens[1];
  else
    f.error = "name must start with y_, d_ or n_<rule>_";
  for (std::size_t i = 1; i + 1 < tokens.size(); ++i) {
    if (tokens[i] != "id" && tokens[i] != "ip") continue;
    std::string value = tokens[i + 1];
    if (tokens[i] == "ip") {
      for (char& c : value) {
        if (c == '-') c = ':';
      }
    }
    auto r = parse_request_bytes(tokens[i] + ":" + value);
    if (!r)
      f.error = "\"" + tokens[i] + "_" + tokens[i + 1] + "\" is no request";
    else
      f.request = *r;
  }
  return f;
}

std::vector<std::string> corpus_files() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(source_root() / "fixtures" / "outputs", ec)) {
    if (e.path().extension() == ".json") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

fs::path corpus_path(const std::string& name) { return source_root() / "fixtures" / "outputs" / name; }

Request to_request(const OracleRequest& r) {
  return Request{r.kind == "id" ? RequestKind::id : RequestKind::ip, r.value};
}

class Corpus : public ::testing::TestWithParam<std::string> {};

TEST_P(Corpus, OracleGivesTheNamedVerdict) {
  const CorpusFile f = describe(GetParam());
  ASSERT_EQ(f.error, "") << f.name;
  const std::string out = read_bytes(corpus_path(f.name));
  const auto v = judge(out, f.request);
  EXPECT_EQ(verdict_label(v), f.expected) << f.name << ": " << from_oracle(v).describe();
}

TEST_P(Corpus, ResolverGivesTheNamedVerdictAndAgreesWithOracle) {
  const CorpusFile f = describe(GetParam());
  ASSERT_EQ(f.error, "") << f.name;
  const std::string out = read_bytes(corpus_path(f.name));
  InProcessResolver resolver;
  const Comparison c = compare(resolver, f.request, out);
  if (const std::string bug = testing::known_resolver_bug(out, c); !bug.empty()) GTEST_SKIP() << bug;
  EXPECT_EQ(c.resolver.label, f.expected) << f.name << ": " << c.resolver.describe();
  EXPECT_TRUE(c.agree()) << f.name << "\n  resolver " << c.resolver.describe() << "\n  oracle   "
                         << c.oracle.describe();
}

// y_ files register: a real client.keys gets exactly their line; others leave it empty.
TEST_P(Corpus, RegistersOnlyWhatConforms) {
  const CorpusFile f = describe(GetParam());
  ASSERT_EQ(f.error, "") << f.name;
  const std::string out = read_bytes(corpus_path(f.name));
  std::random_device rd;
  const fs::path dir =
      fs::temp_directory_path() / ("keyreq-corpus-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(dir);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  {
    auto opened = KeyStore::open(dir / "client.keys");
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(opened));
    auto keys = std::get<std::unique_ptr<KeyStore>>(std::move(opened));
    struct Replay final : ProviderClient {
      std::string bytes;
      ProviderResult call(const Request&) override { return ProviderOutput{bytes, {}}; }
      std::string describe() const override { return "replay"; }
    } provider;
    provider.bytes = out;
    Resolver resolver(provider, keys.get());
    const Outcome o = resolver.resolve(to_request(f.request));
    if (f.expected == "accept") {
      ASSERT_TRUE(std::holds_alternative<outcome::Registered>(o)) << f.name << ": " << outcome_json(o, "");
    } else {
      EXPECT_FALSE(std::holds_alternative<outcome::Registered>(o)) << f.name;
    }
  }
  const std::string keys = read_bytes(dir / "client.keys");
  if (f.expected == "accept") {
    const auto v = judge(out, f.request);
    ASSERT_TRUE(std::holds_alternative<OracleAccept>(v));
    const auto& a = std::get<OracleAccept>(v);
    EXPECT_EQ(keys, a.id + " " + a.name + " " + a.ip + " " + a.key + "\n") << f.name;
  } else {
    EXPECT_EQ(keys, "") << f.name;
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = fs::path(info.param).stem().string();
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(Outputs, Corpus, ::testing::ValuesIn(corpus_files()), test_name);

TEST(CorpusCoverage, EveryVerdictAndRuleHasFiles) {
  std::set<std::string> seen;
  for (const auto& name : corpus_files()) {
    const CorpusFile f = describe(name);
    EXPECT_EQ(f.error, "") << name;
    seen.insert(f.expected);
  }
  for (const char* v : {"accept", "decline", "D1", "D2", "E1", "S1", "S2", "S3", "S4", "S5", "C1", "C2"}) {
    EXPECT_TRUE(seen.count(v)) << "no corpus file for " << v;
  }
}

// ---- JSONTestSuite ------------------------------------------------------------

fs::path json_test_suite() { return fs::path(testkit::shared_dir()) / "corpora" / "JSONTestSuite" / "test_parsing"; }

struct SuiteRun {
  std::string file;
  std::string output;  // the file's bytes, as the provider's answer
  Comparison c;
  double seconds;
};

std::vector<SuiteRun> run_suite(char prefix) {
  std::vector<SuiteRun> runs;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(json_test_suite(), ec)) {
    if (e.path().filename().string()[0] == prefix) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  InProcessResolver resolver;
  for (const auto& p : files) {
    const std::string out = read_bytes(p);
    const auto t0 = std::chrono::steady_clock::now();
    Comparison c = compare(resolver, OracleRequest{"id", "001"}, out);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    runs.push_back({p.filename().string(), out, std::move(c), s});
  }
  return runs;
}

// Says (and prints a skip line) when `r`'s disagreement is a known resolver bug.
bool skipped_as_known_bug(const SuiteRun& r) {
  const std::string bug = testing::known_resolver_bug(r.output, r.c);
  if (!bug.empty()) std::cout << "[ SKIPPED  ] " << r.file << ": " << bug << "\n";
  return !bug.empty();
}

void expect_agreement(const SuiteRun& r) {
  EXPECT_TRUE(r.c.agree()) << r.file << "\n  resolver " << r.c.resolver.describe() << "\n  oracle   "
                           << r.c.oracle.describe();
}

class JsonTestSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    // A missing corpus fails: skipping would pass without checking anything.
    ASSERT_TRUE(fs::is_directory(json_test_suite()))
        << "no JSONTestSuite at " << json_test_suite() << ": the corpus lives in ../shared beside the clone";
  }
};

// Runs `check` on every file of the suite whose name starts with `prefix`,
// after what holds for each (judged within a second), and wants more than
// `more_than` such files.
void check_suite(char prefix, std::size_t more_than, const std::function<void(const SuiteRun&)>& check) {
  std::size_t n = 0;
  for (const auto& r : run_suite(prefix)) {
    ++n;
    EXPECT_LT(r.seconds, 1.0) << r.file << " took " << r.seconds << " s";
    check(r);
  }
  EXPECT_GT(n, more_than);
}

// Also the response parser on its own, the hot path: never accepts one.
TEST_F(JsonTestSuite, ResponseParserRefusesEveryNFileAsD1OrD2) {
  ResponseParser parser;
  check_suite('n', 150, [&parser](const SuiteRun& r) {
    const auto v = parser.parse(r.output, Request{RequestKind::id, "001"});
    ASSERT_TRUE(std::holds_alternative<RuleViolation>(v)) << r.file;
    const std::string rule = std::get<RuleViolation>(v).rule;
    if (rule != "D1" && rule != "D2") {
      ADD_FAILURE() << r.file << ": resolver " << rule;
      return;
    }
    EXPECT_TRUE(r.c.oracle.label == "D1" || r.c.oracle.label == "D2") << r.file << ": oracle " << r.c.oracle.describe();
    if (skipped_as_known_bug(r)) return;
    expect_agreement(r);
  });
}

TEST_F(JsonTestSuite, YFilesAreNeverAcceptedNorCalledInvalid) {
  check_suite('y', 80, [](const SuiteRun& r) {
    if (skipped_as_known_bug(r)) return;
    for (const auto* side : {&r.c.resolver, &r.c.oracle}) {
      const std::string& l = side->label;
      EXPECT_TRUE(l == "D2" || l == "E1" || l == "S1")
          << r.file << ": " << (side == &r.c.resolver ? "resolver " : "oracle ") << side->describe();
    }
    expect_agreement(r);
  });
}

// i_ files are implementation-defined for JSON; docs/rules.md fixes each
// (too large a number, bad UTF-8, deep nesting: D1), so both must agree.
TEST_F(JsonTestSuite, IFilesGetTheSameVerdictFromBoth) {
  check_suite('i', 20, [](const SuiteRun& r) {
    EXPECT_NE(r.c.resolver.label, "accept") << r.file;
    if (skipped_as_known_bug(r)) return;
    expect_agreement(r);
  });
}

}  // namespace
}  // namespace keyreq::conformance
