// `keyreq bench` for the user's own provider, below the command line: its
// inputs refused with a message naming what was wrong, the interpreter
// recognised for the start-up figure, every answer checked against the
// dataset (a fast provider answering the wrong agent must not look good),
// and a slow provider's series ended by the time budget.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/loadgen.hpp"
#include "bench/timed_calls.hpp"
#include "bench/user_provider.hpp"
#include "bench/workload.hpp"
#include "dataset/dataset.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq::bench {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class UserProviderInput : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = (dir_ / "agents.csv").string();
    ASSERT_FALSE(fixtures::write_csv_dataset(csv_, 20).has_value());
  }
  static std::string error_of(const UserProviderOptions& o) {
    auto r = prepare_user_provider(o);
    return std::holds_alternative<UsageError>(r) ? std::get<UsageError>(r).message : "";
  }
  testkit::TempDir temp_;
  fs::path dir_ = temp_.path();
  std::string csv_;
};

TEST_F(UserProviderInput, MissingDatasetSaysWhatIsNeeded) {
  const std::string e = error_of({"/bin/cat", "", "", "", ""});
  EXPECT_NE(e.find("--dataset FILE"), std::string::npos) << e;
  EXPECT_NE(e.find("id,name,ip,key"), std::string::npos) << e;
}

TEST_F(UserProviderInput, UnreadableOrBadDatasetIsNamed) {
  const std::string missing = (dir_ / "nope.csv").string();
  EXPECT_NE(error_of({"/bin/cat", "", "", missing, ""}).find("nope.csv"), std::string::npos);
  const fs::path bad = dir_ / "bad.csv";
  std::ofstream(bad) << "id,name,ip,key\n12,agent-12,10.0.0.1,abcd\n";  // the id breaks S2
  const std::string e = error_of({"/bin/cat", "", "", bad.string(), ""});
  EXPECT_NE(e.find("bad.csv"), std::string::npos) << e;
}

TEST_F(UserProviderInput, CommandNotFoundIsNamed) {
  const std::string e = error_of({"no-such-provider-xyz --db x", "", "", csv_, ""});
  EXPECT_NE(e.find("command not found: no-such-provider-xyz"), std::string::npos) << e;
  const std::string quote = error_of({"python3 \"unterminated", "", "", csv_, ""});
  EXPECT_NE(quote.find("--exec"), std::string::npos) << quote;
}

TEST_F(UserProviderInput, SocketNobodyServesIsRefused) {
  const std::string sock = (dir_ / "none.sock").string();
  EXPECT_NE(error_of({"", sock, "", csv_, ""}).find("no daemon accepts connections"), std::string::npos);
  EXPECT_NE(error_of({"", "", "/bin/true", csv_, ""}).find("--socket-cmd needs --socket"), std::string::npos);
}

TEST_F(UserProviderInput, NameIsDerivedOrChecked) {
  auto ok = prepare_user_provider({"/bin/sh " + (dir_ / "my_provider.sh").string(), "", "", csv_, ""});
  ASSERT_TRUE(std::holds_alternative<UserProvider>(ok)) << std::get<UsageError>(ok).message;
  const UserProvider& u = std::get<UserProvider>(ok);
  EXPECT_EQ(u.spec.name, "my_provider");
  EXPECT_EQ(u.agents.size(), 20u);
  EXPECT_EQ(u.spec.interpreter, "sh");
  auto generic = prepare_user_provider({"python3 fixtures/providers/php/provider.php", "", "", csv_, ""});
  ASSERT_TRUE(std::holds_alternative<UserProvider>(generic));
  EXPECT_EQ(std::get<UserProvider>(generic).spec.name, "php-provider");
  EXPECT_NE(error_of({"/bin/cat", "", "", csv_, "a/b"}).find("--name"), std::string::npos);
  EXPECT_NE(error_of({"/bin/cat", "", "", csv_, "reference"}).find("--name"), std::string::npos);
}

TEST_F(UserProviderInput, InterpreterFromShebang) {
  const fs::path script = dir_ / "provider";
  std::ofstream(script) << "#!/usr/bin/env sh\necho {}\n";
  ::chmod(script.c_str(), 0755);
  ProviderSpec spec;
  spec.exec_command = {script.string()};
  recognise_interpreter(spec);
  EXPECT_EQ(spec.interpreter, "sh");
  ASSERT_FALSE(spec.startup_command.empty());
  EXPECT_EQ(fs::path(spec.startup_command[0]).filename(), "sh");

  ProviderSpec binary;
  binary.exec_command = {"/bin/cat"};
  recognise_interpreter(binary);
  EXPECT_TRUE(binary.interpreter.empty());
  EXPECT_TRUE(binary.startup_command.empty());
}

// Answers every known agent with its id, name and ip but the next agent's
// key: nothing the resolver can see is wrong, only the dataset can tell.
class OffByOneProvider final : public ProviderClient {
 public:
  explicit OffByOneProvider(const Workload& w) : w_(w) {}
  ProviderResult call(const Request& request) override {
    for (std::size_t i = 0; i < w_.agents.size(); ++i) {
      const auto& a = w_.agents[i];
      if (request.wire() != "id:" + a.id && request.wire() != "ip:" + a.ip) continue;
      const auto& b = w_.agents[(i + 1) % w_.agents.size()];
      return ProviderOutput{"{\"error\":0,\"data\":{\"id\":\"" + a.id + "\",\"name\":\"" + a.name + "\",\"ip\":\"" +
                                a.ip + "\",\"key\":\"" + b.key + "\"}}",
                            {}};
    }
    return ProviderOutput{"{\"error\":1,\"message\":\"not found\"}", {}};
  }
  std::string describe() const override { return "off-by-one"; }

 private:
  const Workload& w_;
};

TEST(UserProviderAnswers, WrongAgentIsAnError) {
  Mix mix{100, 0, 0, 0, 0};
  const Workload w = make_workload(50, mix, 100, 7);
  OffByOneProvider wrong(w);
  NullProvider right(50);
  auto bad = make_resolver_call(wrong, nullptr, w);
  auto good = make_resolver_call(right, nullptr, w);
  std::string error;
  const auto r = bad->call(w.items[0], error);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.outcome, "wrong_agent");
  EXPECT_NE(error.find("wrong agent"), std::string::npos) << error;
  error.clear();
  EXPECT_TRUE(good->call(w.items[0], error).ok) << error;
}

TEST(UserProviderAnswers, UnknownIdsAreNotInTheDataset) {
  std::vector<fixtures::DatasetAgent> agents;
  for (std::size_t i : {0u, 2u, 5u}) agents.push_back(fixtures::dataset_agent(i));
  Mix mix{0, 0, 100, 0, 0};
  const Workload w = make_workload(agents, mix, 200, 3);
  for (const auto& item : w.items) {
    ASSERT_EQ(item.expect, Expect::decline);
    for (const auto& a : agents) EXPECT_NE(item.value, a.id);
  }
}

class SlowProbe final : public TimedCall {
 public:
  Result call(const WorkItem&, std::string&) override {
    std::this_thread::sleep_for(40ms);
    return {true, "slept"};
  }
};

TEST(UserProviderSizing, BudgetEndsASlowSeriesShortOfItsMinimum) {
  Workload w;
  w.items.push_back(WorkItem{"id:001", "id", "001", Expect::answer, 0});
  LoadSpec spec;
  spec.concurrency = 2;
  spec.warmup = 10ms;  // shorter than one call: the first calls are warm-up
  spec.duration = 20ms;
  spec.min_requests = 1000;
  spec.budget = 150ms;
  const auto r = run_load(
      spec, [] { return std::make_unique<SlowProbe>(); }, w);
  EXPECT_GE(r.requests, 2u);   // each worker got at least one measured call
  EXPECT_LT(r.requests, 20u);  // and the budget, not the minimum, ended the run
}

}  // namespace
}  // namespace keyreq::bench
