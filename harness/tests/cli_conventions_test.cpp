// The CLI conventions every subcommand follows (README "Subcommands"):
// usage errors exit 2, a mistyped subcommand gets a suggestion, `keyreq help
// [CMD]`, usage lines name `keyreq`, numbers typed as numbers in --help,
// helper binaries answer --help, a dataset write error is 3.
#include <gtest/gtest.h>

#include <set>

#include "harness/suggest.hpp"
#include "testkit/paths.hpp"
#include "testkit/processes.hpp"

namespace keyreq::harness {
namespace {

using keyreq::testkit::bin;
using keyreq::testkit::run_command;

keyreq::testkit::CommandResult keyreq(std::vector<std::string> args) {
  args.insert(args.begin(), bin("keyreq"));
  return run_command(args, true);
}

const std::vector<std::string> kSubcommands = {"resolve", "dataset", "bench", "serve", "gate", "fuzz", "certify"};

TEST(EditDistance, CountsSwapsAsOneEdit) {
  EXPECT_EQ(edit_distance("bnech", "bench"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("certfy", "certify"), 1u);
  EXPECT_EQ(closest("bnech", kSubcommands), "bench");
  EXPECT_EQ(closest("fuz", kSubcommands), "fuzz");
  EXPECT_EQ(closest("zzzzzzzz", kSubcommands), "");
}

TEST(Cli, UsageErrorsOfEverySubcommandExit2) {
  const std::vector<std::vector<std::string>> cases = {
      {"resolve", "--no-such-option"},
      {"resolve"},
      {"resolve", "id", "1"},
      {"dataset", "--no-such-option"},
      {"dataset"},
      {"dataset", "--agents", "x", "--csv", "/tmp/x.csv"},
      {"bench", "--no-such-option"},
      {"bench", "--profile", "nope"},
      {"bench", "--agents", "abc"},
      {"serve", "--no-such-option"},
      {"serve"},
      {"serve", "--threads", "abc", "--exec", "x"},
      {"gate", "--no-such-option"},
      {"gate"},
      {"gate", "--baseline", "a", "--current", "b", "--alpha", "2"},
      {"fuzz", "--no-such-option"},
      {"fuzz", "--cases", "0"},
      {"fuzz", "--cases", "abc"},
      {"certify", "--no-such-option"},
      {"certify"},
      {"certify", "--parallel", "abc", "--dataset", "x", "--exec", "y"},
      {"bnech"},
      {"help", "nope"},
  };
  std::set<std::string> covered;
  for (const auto& args : cases) {
    const auto r = keyreq(args);
    std::string line;
    for (const auto& a : args) line += a + " ";
    EXPECT_EQ(r.exit_code, 2) << line << "\n" << r.out;
    covered.insert(args[0]);
  }
  for (const auto& sub : kSubcommands) EXPECT_TRUE(covered.count(sub)) << sub << " has no usage-error case";
}

TEST(Cli, UnknownSubcommandIsNamedWithTheClosestOne) {
  const auto r = keyreq({"bnech"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("unknown subcommand \"bnech\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("did you mean \"bench\"?"), std::string::npos) << r.out;
}

TEST(Cli, HelpCommandPrintsTheSameAsDashDashHelp) {
  const auto top = keyreq({"help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("Usage: keyreq [OPTIONS] SUBCOMMAND"), std::string::npos) << top.out;
  for (const auto& sub : kSubcommands) {
    const auto help = keyreq({"help", sub});
    const auto dash = keyreq({sub, "--help"});
    EXPECT_EQ(help.exit_code, 0) << sub;
    EXPECT_EQ(dash.exit_code, 0) << sub;
    EXPECT_EQ(help.out, dash.out) << sub;
  }
}

TEST(Cli, UsageLinesNameKeyreqNotTheBuildPath) {
  for (const auto& sub : kSubcommands) {
    const auto r = keyreq({sub, "--help"});
    EXPECT_NE(r.out.find("Usage: keyreq " + sub + " "), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(bin("keyreq")), std::string::npos) << r.out;
  }
}

// Options that take numbers show INT, UINT or FLOAT, not TEXT.
TEST(Cli, NumericOptionsAreTypedAsNumbersInHelp) {
  // No std::regex: GCC 12 -Wmaybe-uninitialized inside <regex> under ASan -O2.
  const char* numeric[] = {"timeout",         "parallel",    "max-failures",    "agents",
                           "cases",           "seed",        "transport-every", "transport-max",
                           "repetitions",     "duration-ms", "inject-delay-us", "alpha",
                           "tolerance-scale", "threads",     "queue-size"};
  for (const auto& sub : kSubcommands) {
    const auto r = keyreq({sub, "--help"});
    for (const char* option : numeric) {
      const std::string as_text = std::string("--") + option + " TEXT";
      EXPECT_EQ(r.out.find(as_text), std::string::npos) << sub << ": " << as_text;
    }
  }
}

TEST(Cli, HelperBinariesAnswerHelp) {
  for (const char* name : {"keyreq-provider", "keyreq-replay-provider"}) {
    const auto r = run_command({bin(name), "--help"}, true);
    EXPECT_EQ(r.exit_code, 0) << name << "\n" << r.out;
    EXPECT_NE(r.out.find(std::string("usage: ") + name), std::string::npos) << r.out;
  }
}

TEST(Cli, DatasetWriteErrorExits3) {
  const auto r = keyreq({"dataset", "--agents", "5", "--sqlite", "/nonexistent-dir/agents.db"});
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("/nonexistent-dir/agents.db"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace keyreq::harness
