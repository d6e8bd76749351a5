#include "resolver/transport/exec_client.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "testkit/files.hpp"
#include "testkit/processes.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;
using keyreq::testkit::TempDir;
using keyreq::testkit::write_script;
using Clock = std::chrono::steady_clock;

const Request kId001{RequestKind::id, "001"};

CallLimits limits(std::chrono::milliseconds timeout, std::chrono::milliseconds grace = 300ms) {
  CallLimits l;
  l.timeout = timeout;
  l.kill_grace = grace;
  return l;
}

ProviderResult run(const std::vector<std::string>& cmd, CallLimits l = limits(5s)) {
  ExecClient client(cmd, l);
  return client.call(kId001);
}

ProviderFailure expect_failure(const ProviderResult& r, ProviderFailureClass expected) {
  EXPECT_TRUE(std::holds_alternative<ProviderFailure>(r));
  if (!std::holds_alternative<ProviderFailure>(r)) return {};
  const auto& f = std::get<ProviderFailure>(r);
  EXPECT_EQ(to_string(f.failure), to_string(expected)) << f.detail;
  return f;
}

pid_t read_pid(const std::string& path) {
  for (int i = 0; i < 200; ++i) {
    auto text = keyreq::testkit::read_file(path);
    if (!text.empty() && text.back() == '\n') return static_cast<pid_t>(std::stol(text));
    std::this_thread::sleep_for(10ms);
  }
  return -1;
}

std::size_t open_fd_count() {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++n;
  }
  return n;
}

TEST(ExecClient, ArgumentsStdioAndSeparateStreams) {
  TempDir dir;
  auto script = write_script(dir, "p", R"(printf '%s|' "$@" >&2; cat; echo '{"error":0}')");
  auto r = run({script, "two words"});
  ASSERT_TRUE(std::holds_alternative<ProviderOutput>(r));
  const auto& out = std::get<ProviderOutput>(r);
  EXPECT_EQ(out.stdout_bytes, "{\"error\":0}\n");    // cat read /dev/null: nothing
  EXPECT_EQ(out.stderr_bytes, "two words|id|001|");  // stderr kept apart
}

TEST(ExecClient, PathLookupOfFirstWord) {
  auto r = run({"sh", "-c", R"(printf '%s' "$1$2")", "sh"});
  ASSERT_TRUE(std::holds_alternative<ProviderOutput>(r));
  EXPECT_EQ(std::get<ProviderOutput>(r).stdout_bytes, "id001");
}

TEST(ExecClient, CannotStartIsToldApartFromExit127) {
  TempDir dir;
  expect_failure(run({dir / "missing"}), ProviderFailureClass::cannot_start);
  expect_failure(run({"no-such-program-keyreq"}), ProviderFailureClass::cannot_start);
  expect_failure(run({write_script(dir, "noexec", "echo {}", false)}), ProviderFailureClass::cannot_start);
  expect_failure(run({dir.path().string()}), ProviderFailureClass::cannot_start);
  auto f = expect_failure(run({write_script(dir, "e127", "exit 127")}), ProviderFailureClass::exit_code);
  EXPECT_NE(f.detail.find("127"), std::string::npos);
}

TEST(ExecClient, ExitCodeAndSignal) {
  TempDir dir;
  auto f = expect_failure(run({write_script(dir, "e3", "echo '{\"error\":0}'; echo oops >&2; exit 3")}),
                          ProviderFailureClass::exit_code);
  EXPECT_EQ(f.stderr_bytes, "oops\n");
  expect_failure(run({write_script(dir, "sig", "kill -SEGV $$")}), ProviderFailureClass::signal);
}

TEST(ExecClient, OutputCap) {
  TempDir dir;
  auto l = limits(5s);
  l.max_output = 1000;
  auto ok = run({write_script(dir, "exact", "head -c 1000 /dev/zero | tr '\\0' x")}, l);
  ASSERT_TRUE(std::holds_alternative<ProviderOutput>(ok));
  EXPECT_EQ(std::get<ProviderOutput>(ok).stdout_bytes.size(), 1000u);
  expect_failure(run({write_script(dir, "big", "head -c 1001 /dev/zero")}, l), ProviderFailureClass::output_too_large);
  expect_failure(run({write_script(dir, "huge", "yes")}, l), ProviderFailureClass::output_too_large);
}

TEST(ExecClient, TimeoutKillsTheProcessGroup) {
  TempDir dir;
  auto script = write_script(dir, "slow", "echo $$ > " + (dir / "pid") + "; sleep 30");
  const auto start = Clock::now();
  const auto f = expect_failure(run({script}, limits(300ms)), ProviderFailureClass::timeout);
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_FALSE(keyreq::testkit::process_alive(read_pid(dir / "pid")));
  // Issue 11: it was reported as "the provider exited but a process it left
  // holds stdout open"; it was still running and was stopped by us.
  EXPECT_EQ(f.detail.find("holds stdout"), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find("still running at the deadline; stopped with SIGTERM"), std::string::npos) << f.detail;
}

TEST(ExecClient, ProviderIgnoringSigtermIsKilledAfterTheGrace) {
  TempDir dir;
  auto script =
      write_script(dir, "stubborn", "trap '' TERM; echo $$ > " + (dir / "pid") + "; while :; do sleep 0.05; done");
  const auto start = Clock::now();
  const auto f = expect_failure(run({script}, limits(300ms, 300ms)), ProviderFailureClass::timeout);
  EXPECT_NE(f.detail.find("killed with SIGKILL"), std::string::npos) << f.detail;
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 550ms);   // it really waited for the grace before SIGKILL
  EXPECT_LT(elapsed, 2300ms);  // timeout + 2 s at the very most
  EXPECT_FALSE(keyreq::testkit::process_alive(read_pid(dir / "pid")));
}

TEST(ExecClient, GrandchildHoldingStdoutCannotHoldTheCall) {
  TempDir dir;
  // The grandchild stays in the group: it is killed with it.
  auto script = write_script(dir, "gc", "sleep 30 & echo $! > " + (dir / "gpid") + "; exit 0");
  auto start = Clock::now();
  auto f = expect_failure(run({script}, limits(400ms)), ProviderFailureClass::timeout);
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_NE(f.detail.find("holds stdout"), std::string::npos) << f.detail;
  EXPECT_FALSE(keyreq::testkit::process_alive(read_pid(dir / "gpid")));

  // A grandchild that left the group (setsid) is out of reach, but the call still ends at the deadline.
  auto escaped = write_script(dir, "gc2", "setsid sh -c 'echo $$ > " + (dir / "spid") + "; sleep 30' & exit 0");
  start = Clock::now();
  expect_failure(run({escaped}, limits(400ms)), ProviderFailureClass::timeout);
  EXPECT_LT(Clock::now() - start, 2s);
  const pid_t escaped_pid = read_pid(dir / "spid");
  if (escaped_pid > 0) ::kill(escaped_pid, SIGKILL);
}

TEST(ExecClient, StderrHeldOpenDoesNotDelayTheAnswer) {
  TempDir dir;
  auto script = write_script(
      dir, "p", "sleep 30 >/dev/null 2>&2 & echo $! > " + (dir / "gpid") + "; echo '{\"error\":0}'; exec >&-; exit 0");
  const auto start = Clock::now();
  auto r = run({script}, limits(5s));
  EXPECT_TRUE(std::holds_alternative<ProviderOutput>(r));
  EXPECT_LT(Clock::now() - start, 2s);
  ::kill(read_pid(dir / "gpid"), SIGKILL);
}

TEST(ExecClient, ThousandCallsLeaveNoZombieAndNoDescriptor) {
  TempDir dir;
  auto quick = write_script(dir, "quick", "echo '{\"error\":1}'");
  auto slow = write_script(dir, "slow", "sleep 5");
  ExecClient quick_client({quick}, limits(5s));
  ExecClient slow_client({slow}, limits(30ms, 30ms));
  // Warm up once so lazily opened descriptors (/dev/null) are counted in the baseline.
  (void)quick_client.call(kId001);
  const auto fds_before = open_fd_count();
  int timeouts = 0;
  for (int i = 0; i < 1000; ++i) {
    if (i % 100 == 0) {
      auto r = slow_client.call(kId001);
      timeouts += std::holds_alternative<ProviderFailure>(r) &&
                  std::get<ProviderFailure>(r).failure == ProviderFailureClass::timeout;
    } else {
      ASSERT_TRUE(std::holds_alternative<ProviderOutput>(quick_client.call(kId001))) << "call " << i;
    }
  }
  EXPECT_EQ(timeouts, 10);
  EXPECT_EQ(open_fd_count(), fds_before);
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);  // no child left, reaped or not
  EXPECT_EQ(errno, ECHILD);
}

TEST(ExecClient, ConcurrentCallsFromManyThreads) {
  TempDir dir;
  auto script = write_script(dir, "p", R"(printf '{"id":"%s"}' "$2")");
  ExecClient client({script}, limits(5s));
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string id = std::to_string(100 + t * 100 + i);
        auto r = client.call(Request{RequestKind::id, id});
        if (std::holds_alternative<ProviderOutput>(r) &&
            std::get<ProviderOutput>(r).stdout_bytes == "{\"id\":\"" + id + "\"}")
          ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 100);
}

}  // namespace
}  // namespace keyreq
