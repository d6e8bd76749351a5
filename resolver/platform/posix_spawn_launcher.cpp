#include "resolver/platform/posix_spawn_launcher.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>

extern char** environ;
// glibc's clone() under its own name: ThreadSanitizer intercepts `clone` and
// treats it as a fork (then aborts the next thread start, "starting new
// threads after multi-threaded fork"). A CLONE_VM|CLONE_VFORK child running
// uninstrumented code is not a fork; __clone is the same glibc function.
extern "C" int __clone(int (*fn)(void*), void* stack, int flags, void* arg, ...);

namespace keyreq {

namespace {

// What the vfork child needs; it shares our memory, so it reports an exec
// failure by writing `error` before it exits.
struct ChildPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  int stdio[3];
  bool new_process_group;
  int parent_death_signal;
  pid_t parent;
  int error = 0;
};

// The kernel's struct sigaction for rt_sigaction (x86_64 and aarch64 layout).
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  unsigned long mask;
};

// Inlined into child_main, so it carries no instrumentation either.
__attribute__((always_inline, no_sanitize("address", "thread", "undefined"))) inline long sys(long number, long a = 0,
                                                                                              long b = 0, long c = 0,
                                                                                              long d = 0) {
  return ::syscall(number, a, b, c, d);
}

// Runs in the child on its own stack, sharing our memory until execve: raw
// system calls only, and no sanitizer instrumentation (its runtime state is
// the parent's). Never returns on success.
__attribute__((no_sanitize("address", "thread", "undefined"))) int child_main(void* arg) {
  ChildPlan& plan = *static_cast<ChildPlan*>(arg);
  // Default dispositions: an ignored SIGPIPE would survive exec, and a
  // handler of ours must never run on our memory from here.
  const KernelSigaction dfl{SIG_DFL, 0, nullptr, 0};
  for (int sig = 1; sig < _NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sys(SYS_rt_sigaction, sig, reinterpret_cast<long>(&dfl), 0, 8);
  }
  const unsigned long empty = 0;
  sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&empty), 0, 8);
  if (plan.new_process_group && sys(SYS_setpgid, 0, 0) != 0) {
    plan.error = errno;
    sys(SYS_exit, 127);
  }
  if (plan.parent_death_signal != 0) {
    sys(SYS_prctl, PR_SET_PDEATHSIG, plan.parent_death_signal);
    // The spawning thread may have died before the prctl: then no signal
    // would ever come. (A CLONE_VFORK parent is suspended, so this is the
    // process-level check glibc's manual recommends.)
    if (sys(SYS_getppid) != plan.parent) sys(SYS_exit, 127);
  }
  for (int target = 0; target < 3; ++target) {
    const int fd = plan.stdio[target];
    // dup2 onto itself keeps close-on-exec: clear it instead.
    const long rc = fd == target ? sys(SYS_fcntl, fd, F_SETFD, 0) : sys(SYS_dup2, fd, target);
    if (rc < 0) {
      plan.error = errno;
      sys(SYS_exit, 127);
    }
  }
  // Nothing of ours (client sockets, client.keys, other calls' pipes) leaks into providers.
  if (sys(SYS_close_range, 3, ~0U, 0) != 0) {
    for (long fd = 3; fd < 65536; ++fd) sys(SYS_close, fd);
  }
  sys(SYS_execve, reinterpret_cast<long>(plan.path), reinterpret_cast<long>(plan.argv),
      reinterpret_cast<long>(plan.envp));
  plan.error = errno;
  sys(SYS_exit, 127);
  return 127;
}

// The child's stack: 64 KiB per spawning thread (the thread is suspended
// while its child runs on it, so one is enough).
constexpr std::size_t kChildStack = 64 * 1024;

}  // namespace

boost::asio::io_context& process_handle_context() {
  static boost::asio::io_context context;
  return context;
}

int open_pidfd(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // close-on-exec by default
}

int spawn_process(const char* program, char* const* argv, const SpawnStdio& stdio, const SpawnOptions& options,
                  pid_t& pid) {
  ChildPlan plan{program,
                 argv,
                 options.envp != nullptr ? options.envp : environ,
                 {stdio.in, stdio.out, stdio.err},
                 options.new_process_group,
                 options.parent_death_signal,
                 ::getpid()};
  alignas(16) thread_local std::array<char, kChildStack> stack;

  // No signal handler of ours may run in the child while it shares our
  // memory: everything is blocked across the clone (the child sets its own mask).
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  pid = __clone(child_main, stack.data() + stack.size(), CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  const int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (pid < 0) return clone_errno;
  if (plan.error != 0) {
    // It never ran the program: reap it here, report why.
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
    return plan.error;
  }
  return 0;
}

int spawn_process(const std::string& program, const std::vector<std::string>& argv, const SpawnStdio& stdio,
                  const SpawnOptions& options, pid_t& pid) {
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const auto& word : argv) c_argv.push_back(const_cast<char*>(word.c_str()));
  c_argv.push_back(nullptr);
  return spawn_process(program.c_str(), c_argv.data(), stdio, options, pid);
}

int dev_null_fd(int flags) {
  static const int read_only = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  static const int write_only = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  return flags == O_RDONLY ? read_only : write_only;
}

boost::system::error_code PosixSpawnLauncher::spawn(const std::filesystem::path& executable,
                                                    const std::vector<std::string>& args, const SpawnStdio& stdio,
                                                    int& pid) const {
  std::vector<char*> argv;
  argv.reserve(args.size() + 2);
  argv.push_back(const_cast<char*>(executable.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int err = spawn_process(executable.c_str(), argv.data(), stdio, *this, pid);
  if (err != 0) return {err, boost::system::system_category()};
  return {};
}

}  // namespace keyreq
