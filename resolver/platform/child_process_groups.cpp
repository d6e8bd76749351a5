#include "resolver/platform/child_process_groups.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <thread>

#include "resolver/platform/proc_files.hpp"

namespace keyreq {

void stop_process_group(pid_t leader, std::chrono::milliseconds grace) {
  if (leader <= 0) return;
  ::kill(-leader, SIGTERM);
  int status = 0;
  bool reaped = false;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!reaped && std::chrono::steady_clock::now() < deadline) {
    reaped = ::waitpid(leader, &status, WNOHANG) == leader;
    if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Whatever the leader started and left behind: a group id is not reused
  // while any process of the group lives.
  ::kill(-leader, SIGKILL);
  while (!reaped && ::waitpid(leader, &status, 0) < 0 && errno == EINTR) {
  }
}

std::vector<pid_t> child_process_groups() {
  std::vector<pid_t> groups;
  const pid_t self = ::getpid();
  for (const pid_t pid : list_process_ids()) {
    const auto stat = read_proc_stat(pid);
    if (stat && stat->ppid == self && stat->pgrp == pid) groups.push_back(pid);
  }
  return groups;
}

std::size_t signal_child_process_groups(int sig) {
  const auto groups = child_process_groups();
  for (const pid_t g : groups) ::kill(-g, sig);
  return groups.size();
}

namespace {
// Set once a stop signal was taken: from then on the process must die of
// that signal. Without this the main thread, seeing its provider killed,
// could report the failure and exit(1) before the signal is raised again.
std::atomic<bool> dying_of_signal{false};
void wait_for_the_signal_at_exit() {
  while (dying_of_signal.load()) ::pause();
}
}  // namespace

void kill_child_groups_when_interrupted() {
  std::atexit(wait_for_the_signal_at_exit);
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    if (::sigwait(&set, &sig) != 0) return;
    dying_of_signal.store(true);
    signal_child_process_groups(SIGKILL);
    // Die of the signal, as without this: the caller sees "killed by SIGINT".
    ::signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    ::raise(sig);
  }).detach();
}

}  // namespace keyreq
