#include "resolver/daemon/provider_supervisor.hpp"

#include <gtest/gtest.h>

#include "resolver/transport/exec_client.hpp"
#include "testkit/testkit.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;
using namespace keyreq::testkit;
using Clock = std::chrono::steady_clock;

CallLimits limits(std::chrono::milliseconds timeout) {
  CallLimits l;
  l.timeout = timeout;
  return l;
}

std::string answer_of(const ProviderResult& r) {
  if (auto* f = std::get_if<ProviderFailure>(&r))
    return "failure " + std::string(to_string(f->failure)) + ": " + f->detail;
  return std::get<ProviderOutput>(r).stdout_bytes;
}

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = make_dataset(dir_, 20);
    socket_ = dir_ / "provider.sock";
  }
  std::vector<std::string> daemon_command() const {
    return {bin("keyreq-provider"), "--db", db_, "--socket", socket_, "--threads", "2"};
  }
  TempDir dir_;
  std::string db_;
  std::string socket_;
};

TEST_F(SupervisorTest, StartsTheDaemonAndRequestsSurviveItBeingKilled) {
  SupervisorOptions o;
  o.command = daemon_command();
  o.socket_path = socket_;
  std::atomic<int> restarts_seen{0};
  o.on_restart = [&] { ++restarts_seen; };
  ProviderSupervisor supervisor(o);
  supervisor.start();
  ASSERT_TRUE(supervisor.wait_until_ready(10s));
  const pid_t first = supervisor.pid();
  ASSERT_GT(first, 0);

  SocketProvider provider(SocketProviderOptions{socket_, limits(10s), &supervisor});
  EXPECT_NE(answer_of(provider.call(Request{RequestKind::id, "001"})).find("agent-001"), std::string::npos);

  ASSERT_EQ(::kill(first, SIGKILL), 0);
  // Sent while the daemon is dead: waits for the restart within its deadline.
  const auto start = Clock::now();
  const std::string after_kill = answer_of(provider.call(Request{RequestKind::id, "002"}));
  EXPECT_NE(after_kill.find("agent-002"), std::string::npos) << after_kill;
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_EQ(supervisor.restarts(), 1u);
  EXPECT_EQ(restarts_seen.load(), 1);
  const pid_t second = supervisor.pid();
  EXPECT_GT(second, 0);
  EXPECT_NE(second, first);

  supervisor.stop();
  EXPECT_EQ(supervisor.pid(), 0);
  EXPECT_FALSE(process_alive(second));
  EXPECT_TRUE(processes_in_group(second).empty());
  EXPECT_FALSE(std::filesystem::exists(socket_));  // the reference provider removes it on SIGTERM
  EXPECT_EQ(supervisor.restarts(), 1u);            // no restart after stop
}

TEST_F(SupervisorTest, BacksOffWhenTheDaemonKeepsDying) {
  SupervisorOptions o;
  o.command = {write_script(dir_, "dies.sh", "exit 3")};
  o.socket_path = socket_;
  ProviderSupervisor supervisor(o);
  const auto start = Clock::now();
  supervisor.start();
  ASSERT_TRUE(wait_until([&] { return supervisor.restarts() >= 1; }, 1s)) << "first restart within 1 s";
  std::this_thread::sleep_until(start + 2200ms);
  // 250 ms, then 500, 1000, 2000 ...: restarts at about 0.25, 0.75, 1.75 s.
  EXPECT_GE(supervisor.restarts(), 2u);
  EXPECT_LE(supervisor.restarts(), 4u);
  EXPECT_FALSE(supervisor.ready());
  supervisor.stop();
}

TEST_F(SupervisorTest, StopKillsADaemonIgnoringSigtermWithEverythingItStarted) {
  SupervisorOptions o;
  o.command = {"/bin/sh", write_script(dir_, "stubborn.sh", "trap '' TERM\nsleep 1000 &\nsleep 1000\n", false)};
  o.socket_path = socket_;
  o.stop_grace = 300ms;
  ProviderSupervisor supervisor(o);
  supervisor.start();
  ASSERT_TRUE(wait_until([&] { return supervisor.pid() > 0 && processes_in_group(supervisor.pid()).size() >= 3; }, 5s));
  const pid_t pid = supervisor.pid();
  const auto start = Clock::now();
  supervisor.stop();
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_TRUE(processes_in_group(pid).empty());
  EXPECT_EQ(supervisor.restarts(), 0u);
}

TEST_F(SupervisorTest, AProgramThatCannotStartDoesNotMakeRequestsWait) {
  SupervisorOptions o;
  o.command = {dir_ / "missing-provider"};
  o.socket_path = socket_;
  ProviderSupervisor supervisor(o);
  supervisor.start();
  ASSERT_TRUE(wait_until([&] { return supervisor.spawn_failing(); }, 2s));
  SocketProvider provider(SocketProviderOptions{socket_, limits(30s), &supervisor});
  const auto start = Clock::now();
  auto r = provider.call(Request{RequestKind::id, "001"});
  EXPECT_LT(Clock::now() - start, 2s);
  ASSERT_TRUE(std::holds_alternative<ProviderFailure>(r));
  EXPECT_EQ(std::get<ProviderFailure>(r).failure, ProviderFailureClass::cannot_start);
  supervisor.stop();
}

TEST_F(SupervisorTest, UnsupervisedSocketDownFailsFastIsProbedAndComesBack) {
  SocketProviderOptions o{socket_, limits(10s)};
  o.initially_up = false;
  o.probe_interval = 100ms;
  SocketProvider provider(o);
  auto start = Clock::now();
  auto r = provider.call(Request{RequestKind::id, "001"});
  EXPECT_LT(Clock::now() - start, 100ms);
  ASSERT_TRUE(std::holds_alternative<ProviderFailure>(r));
  EXPECT_EQ(std::get<ProviderFailure>(r).failure, ProviderFailureClass::cannot_start);
  EXPECT_NE(std::get<ProviderFailure>(r).detail.find("is down"), std::string::npos);

  BackgroundProcess daemon(daemon_command(), dir_ / "daemon.log");
  ASSERT_TRUE(wait_until([&] { return provider.up(); }, 5s));
  EXPECT_NE(answer_of(provider.call(Request{RequestKind::id, "003"})).find("agent-003"), std::string::npos);

  daemon.signal(SIGTERM);
  ASSERT_EQ(daemon.exit_code(5s), 0);
  r = provider.call(Request{RequestKind::id, "004"});  // finds it gone: marks it down
  ASSERT_TRUE(std::holds_alternative<ProviderFailure>(r));
  EXPECT_FALSE(provider.up());
  start = Clock::now();
  r = provider.call(Request{RequestKind::id, "004"});
  EXPECT_LT(Clock::now() - start, 100ms);
  EXPECT_TRUE(std::holds_alternative<ProviderFailure>(r));
}

TEST_F(SupervisorTest, ExecFallbackAnswersWhileTheSocketIsDown) {
  ExecClient exec({bin("keyreq-provider"), "--db", db_}, limits(10s));
  SocketProviderOptions o{socket_, limits(10s)};
  o.fallback = &exec;
  o.initially_up = true;  // found down at the first call
  SocketProvider provider(o);
  EXPECT_NE(answer_of(provider.call(Request{RequestKind::id, "005"})).find("agent-005"), std::string::npos);
  EXPECT_FALSE(provider.up());
  EXPECT_NE(answer_of(provider.call(Request{RequestKind::ip, "10.0.0.6"})).find("agent-006"), std::string::npos);
}

}  // namespace
}  // namespace keyreq
