// Measures process launching side by side, interleaved, in one run:
//   bare     posix_spawn + read stdout + waitpid (the floor)
//   bp2      Boost.Process v2's default (fork-based) launcher + read + wait
//   clone    keyreq's PosixSpawnLauncher alone (clone + PR_SET_PDEATHSIG) + read + wait,
//            the same work as `bare`: the launcher's own cost
//   exec     keyreq's ExecClient (posix_spawn launcher plugged into Boost.Process v2,
//            pipes for stdout and stderr, pidfd, deadline)
// Usage: launcher_compare [--rounds N] [--ballast-mb M] [command words...]
// (default command: /bin/true). --ballast-mb touches M MiB first, to show how
// fork slows with the parent's memory while posix_spawn does not.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/optional.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "resolver/platform/posix_spawn_launcher.hpp"
#include "resolver/transport/exec_client.hpp"

extern char** environ;
namespace bp2 = boost::process::v2;
using Clock = std::chrono::steady_clock;

namespace {

double micros_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

double bare_spawn(const std::vector<std::string>& cmd) {
  const auto start = Clock::now();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  std::vector<char*> argv;
  for (const auto& w : cmd) argv.push_back(const_cast<char*>(w.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  char buf[4096];
  while (::read(fds[0], buf, sizeof buf) > 0) {
  }
  ::close(fds[0]);
  int status;
  ::waitpid(pid, &status, 0);
  return micros_since(start);
}

double bp2_default(boost::asio::io_context& ctx, const std::vector<std::string>& cmd) {
  const auto start = Clock::now();
  boost::asio::readable_pipe out(ctx);
  bp2::process proc(ctx, cmd[0], std::vector<std::string>(cmd.begin() + 1, cmd.end()),
                    bp2::process_stdio{nullptr, out, {}});
  boost::system::error_code ec;
  std::string sink;
  boost::asio::read(out, boost::asio::dynamic_buffer(sink), ec);
  proc.wait();
  return micros_since(start);
}

double keyreq_launcher(const std::vector<std::string>& cmd) {
  const auto start = Clock::now();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  static const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  keyreq::PosixSpawnLauncher launcher;
  launcher.new_process_group = false;  // as `bare`
  boost::system::error_code ec;
  auto proc = launcher(keyreq::process_handle_context().get_executor(), ec, cmd[0],
                       std::vector<std::string>(cmd.begin() + 1, cmd.end()), keyreq::SpawnStdio{null_fd, fds[1], 2});
  ::close(fds[1]);
  char buf[4096];
  while (::read(fds[0], buf, sizeof buf) > 0) {
  }
  ::close(fds[0]);
  if (!ec) proc.wait(ec);
  return micros_since(start);
}

double keyreq_exec(keyreq::ExecClient& client) {
  const auto start = Clock::now();
  (void)client.call(keyreq::Request{keyreq::RequestKind::id, "001"});
  return micros_since(start);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 300;
  std::size_t ballast_mb = 0;
  std::vector<std::string> cmd;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf(
          "usage: launcher_compare [--rounds N] [--ballast-mb M] [COMMAND ARGS...]\n"
          "Times a bare posix_spawn, Boost.Process v2's default launcher, keyreq's launcher alone\n"
          "(clone + PR_SET_PDEATHSIG) and keyreq's ExecClient,\n"
          "interleaved, on COMMAND (default /bin/true). See docs/exec.md.\n");
      return 0;
    }
    if (a == "--rounds" && i + 1 < argc)
      rounds = std::stoi(argv[++i]);
    else if (a == "--ballast-mb" && i + 1 < argc)
      ballast_mb = std::stoul(argv[++i]);
    else
      cmd.push_back(a);
  }
  if (cmd.empty()) cmd = {"/bin/true"};
  std::vector<char> ballast(ballast_mb << 20, 1);  // touched: it is resident

  boost::asio::io_context ctx;
  keyreq::CallLimits limits;
  limits.timeout = std::chrono::seconds(10);
  // ExecClient appends the request words; for /bin/true they are ignored.
  keyreq::ExecClient client(cmd, limits);
  std::vector<double> bare, bp2, clone, exec;
  for (int i = 0; i < 20; ++i)
    bare_spawn(cmd), bp2_default(ctx, cmd), keyreq_launcher(cmd), keyreq_exec(client);  // warm-up
  for (int i = 0; i < rounds; ++i) {
    bare.push_back(bare_spawn(cmd));
    bp2.push_back(bp2_default(ctx, cmd));
    clone.push_back(keyreq_launcher(cmd));
    exec.push_back(keyreq_exec(client));
  }
  const double b = median(bare), d = median(bp2), c = median(clone), e = median(exec);
  std::printf("command: %s; rounds: %d interleaved; parent ballast: %zu MiB\n", cmd[0].c_str(), rounds, ballast_mb);
  std::printf("bare posix_spawn+read+wait   median %8.1f us  1.00x\n", b);
  std::printf("bp2 default launcher (fork)  median %8.1f us  %.2fx\n", d, d / b);
  std::printf("keyreq launcher (clone)      median %8.1f us  %.2fx\n", c, c / b);
  std::printf("keyreq ExecClient            median %8.1f us  %.2fx\n", e, e / b);
  return ballast.empty() || ballast[0] == 1 ? 0 : 1;
}
