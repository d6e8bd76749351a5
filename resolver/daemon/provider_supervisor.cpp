#include "resolver/daemon/provider_supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "resolver/daemon/exec_fallback.hpp"
#include "resolver/daemon/log.hpp"
#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/escape.hpp"
#include "resolver/platform/posix_spawn_launcher.hpp"
#include "resolver/platform/proc_files.hpp"
#include "resolver/platform/unique_fd.hpp"
#include "resolver/transport/command_line.hpp"

extern char** environ;

namespace keyreq {

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kMaxLogLine = 1024;

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) + ")";
  }
  return "status " + std::to_string(status);
}

std::string join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

long long ms(Clock::duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); }

// Splits the daemon's output into log lines.
class OutputLines {
 public:
  OutputLines(pid_t pid, log::LineBudget& budget) : pid_(pid), budget_(budget) {}
  // Reads what is available, at most kMaxDrain bytes (a provider writing
  // without pause must not keep the supervisor from its stop request);
  // false at EOF or on error.
  bool drain(int fd) {
    char buf[4096];
    for (std::size_t total = 0; total < kMaxDrain;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        feed(std::string_view(buf, static_cast<std::size_t>(n)));
        total += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      flush();
      return false;
    }
    return true;  // more may be there: the next poll says so
  }
  void flush() {
    if (!pending_.empty()) emit();
  }

 private:
  void feed(std::string_view bytes) {
    for (char c : bytes) {
      if (c == '\n') {
        emit();
        continue;
      }
      pending_ += c;
      if (pending_.size() >= kMaxLogLine) emit();
    }
  }
  void emit() {
    if (budget_.allow(pending_.size() + 1)) {
      log::info("provider_output", {log::kv("pid", static_cast<long long>(pid_)), log::kv("line", pending_)});
    }
    pending_.clear();
  }
  static constexpr std::size_t kMaxDrain = 64 * 1024;
  pid_t pid_;
  log::LineBudget& budget_;
  std::string pending_;
};

// Every live process (other than us) whose environment holds `entry`.
std::vector<pid_t> processes_with_entry(const std::string& entry) {
  std::vector<pid_t> found;
  const pid_t self = ::getpid();
  for (const pid_t pid : list_process_ids()) {
    if (pid != self && process_environment_has(pid, entry)) found.push_back(pid);
  }
  return found;
}

int dev_null() {
  static const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return fd;
}

}  // namespace

// ---------------------------------------------------------------- supervisor

ProviderSupervisor::ProviderSupervisor(SupervisorOptions options) : options_(std::move(options)) {
  if (!options_.command.empty()) program_ = find_in_path(options_.command.front());
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  // A tag no other supervisor (in this process or another) uses.
  static std::atomic<unsigned> serial{0};
  tag_ = "KEYREQ_SUPERVISED_BY=keyreq-" + std::to_string(::getpid()) + "-" + std::to_string(serial.fetch_add(1));
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "KEYREQ_SUPERVISED_BY=", 21) != 0) environment_.emplace_back(*e);
  }
  environment_.push_back(tag_);
  for (auto& e : environment_) envp_.push_back(e.data());
  envp_.push_back(nullptr);
}

void ProviderSupervisor::set_ready(bool ready) {
  {
    std::lock_guard lock(mutex_);
    ready_ = ready;
  }
  ready_cv_.notify_all();
}

bool ProviderSupervisor::socket_served(milliseconds within) {
  SocketClient probe(options_.socket_path, CallLimits{});
  const auto until = Clock::now() + within;
  while (!stopping_) {
    if (probe.health_check()) return true;
    if (Clock::now() >= until || !sleep_unless_stopped(options_.socket_poll)) return false;
  }
  return false;
}

bool ProviderSupervisor::watch_until_socket_down() {
  SocketClient probe(options_.socket_path, CallLimits{});
  while (sleep_unless_stopped(options_.standby_probe)) {
    if (!probe.health_check()) {
      set_ready(false);
      log::warn("provider_socket_lost",
                {log::kv("socket", options_.socket_path), log::kv("effect", "exec_path is started to serve it")});
      return true;
    }
  }
  return false;
}

void ProviderSupervisor::stop_tagged_processes(const char* why) {
  // pidfds: a pid reused after the scan is never signalled (the tag is
  // checked again once the pidfd pins the process).
  std::vector<UniqueFd> left;
  for (const pid_t pid : processes_with_entry(tag_)) {
    UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (fd.get() < 0 || !process_environment_has(pid, tag_)) continue;
    log::warn("provider_leftover_stopped", {log::kv("pid", static_cast<long long>(pid)), log::kv("reason", why)});
    ::syscall(SYS_pidfd_send_signal, fd.get(), SIGTERM, nullptr, 0);
    left.push_back(std::move(fd));
  }
  const auto until = Clock::now() + options_.stop_grace;
  for (auto& fd : left) {
    pollfd p{fd.get(), POLLIN, 0};
    const auto wait = std::max<long long>(0, ms(until - Clock::now()));
    if (::poll(&p, 1, static_cast<int>(wait)) <= 0) ::syscall(SYS_pidfd_send_signal, fd.get(), SIGKILL, nullptr, 0);
  }
}

ProviderSupervisor::~ProviderSupervisor() {
  stop();
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void ProviderSupervisor::start() {
  std::lock_guard lock(stop_mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

bool ProviderSupervisor::wait_until_ready(milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return ready_cv_.wait_for(lock, timeout, [this] { return ready_.load() || stopping_.load(); }) && ready_.load();
}

void ProviderSupervisor::stop() {
  std::lock_guard lock(stop_mutex_);
  {
    std::lock_guard state(mutex_);
    stopping_ = true;
  }
  ready_cv_.notify_all();
  const std::uint64_t one = 1;
  if (stop_fd_ >= 0) {
    const ssize_t n = ::write(stop_fd_, &one, sizeof one);
    (void)n;  // the eventfd counter cannot overflow with one write per stop()
  }
  if (thread_.joinable()) thread_.join();
}

bool ProviderSupervisor::sleep_unless_stopped(milliseconds delay) {
  pollfd p{stop_fd_, POLLIN, 0};
  const auto until = Clock::now() + delay;
  while (!stopping_) {
    const auto left = ms(until - Clock::now());
    if (left <= 0) return true;
    ::poll(&p, 1, static_cast<int>(left));
  }
  return false;
}

void ProviderSupervisor::run() {
  if (options_.start_in_standby) {
    set_ready(true);
    log::info("provider_standby",
              {log::kv("socket", options_.socket_path),
               log::kv("reason", "the socket is served already; exec_path starts when it goes down")});
    if (!watch_until_socket_down()) return;
  }
  auto delay = options_.first_restart_delay;
  std::uint64_t attempt = 0;
  while (!stopping_) {
    const RunResult run = run_once();
    if (stopping_) break;
    if (run.daemonised) {
      // Not ours to restart while it serves; when it stops serving, what is
      // left of it goes before a new one starts.
      if (!watch_until_socket_down()) break;
      stop_tagged_processes("the daemonised provider stopped serving its socket");
      restarts_.fetch_add(1);
      if (options_.on_restart) options_.on_restart();
      continue;
    }
    // Whatever the provider left outside its group (setsid) goes too.
    stop_tagged_processes("left behind by the provider that exited");
    if (run.uptime >= options_.stable_after) delay = options_.first_restart_delay;
    ++attempt;
    log::warn("provider_restart_scheduled",
              {log::kv("attempt", static_cast<unsigned long long>(attempt)), log::kv("after", run.status),
               log::kv("uptime_ms", static_cast<long long>(run.uptime.count())),
               log::kv("delay_ms", static_cast<long long>(delay.count()))});
    if (!sleep_unless_stopped(delay)) break;
    restarts_.fetch_add(1);
    if (options_.on_restart) options_.on_restart();
    delay = std::min(delay * 2, options_.max_restart_delay);
  }
  stop_tagged_processes("serve is stopping the provider");
}

void ProviderSupervisor::terminate_group(pid_t pid, int pidfd) {
  // stop(): ask the whole group, then insist (the caller sends SIGKILL).
  ::kill(-pid, SIGTERM);
  bool gone = false;
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    gone = ::poll(&p, 1, static_cast<int>(options_.stop_grace.count())) > 0;
  } else {
    const auto until = Clock::now() + options_.stop_grace;
    while (!gone && Clock::now() < until) {
      siginfo_t info{};
      gone = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
      if (!gone) std::this_thread::sleep_for(milliseconds(10));
    }
  }
  if (!gone) {
    log::warn("provider_kill", {log::kv("pid", static_cast<long long>(pid)),
                                log::kv("reason", "still running " + std::to_string(options_.stop_grace.count()) +
                                                      " ms after SIGTERM")});
  }
}

bool ProviderSupervisor::exited_zero_and_serving(pid_t pid) {
  siginfo_t info{};  // WNOWAIT: still unreaped, its group id stays reserved
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid &&
         info.si_code == CLD_EXITED && info.si_status == 0 && socket_served(options_.daemonise_grace);
}

ProviderSupervisor::RunResult ProviderSupervisor::run_once() {
  const std::string command_text = join(options_.command);
  if (program_.empty()) {
    spawn_failing_ = true;
    const std::string reason = options_.command.empty() ? std::string("exec_path is empty")
                                                        : "\"" + options_.command.front() + "\" not found in PATH";
    log::error("provider_cannot_start", {log::kv("command", command_text), log::kv("reason", reason)});
    return {milliseconds(0), "cannot start: " + reason};
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    const std::string reason = "pipe: " + errno_text(errno);
    log::error("provider_cannot_start", {log::kv("command", command_text), log::kv("reason", reason)});
    return {milliseconds(0), "cannot start: " + reason};
  }
  UniqueFd out_read(fds[0]), out_write(fds[1]);
  ::fcntl(out_read.get(), F_SETFL, O_NONBLOCK);

  boost::system::error_code ec;
  int pidfd = -1;
  PosixSpawnLauncher launcher;
  launcher.pidfd_out = &pidfd;
  launcher.envp = envp_.data();
  const std::vector<std::string> args(options_.command.begin() + 1, options_.command.end());
  auto process = launcher(process_handle_context().get_executor(), ec, program_, args,
                          SpawnStdio{dev_null(), out_write.get(), out_write.get()});
  out_write.reset();
  if (ec) {
    spawn_failing_ = true;
    log::error("provider_cannot_start", {log::kv("command", command_text), log::kv("reason", ec.message())});
    return {milliseconds(0), "cannot start: " + ec.message()};
  }
  spawn_failing_ = false;
  const pid_t pid = process.id();
  const auto started = Clock::now();
  pid_ = pid;
  starts_.fetch_add(1);
  log::info("provider_started", {log::kv("pid", static_cast<long long>(pid)), log::kv("command", command_text),
                                 log::kv("socket", options_.socket_path)});

  SocketClient probe(options_.socket_path, CallLimits{});
  OutputLines lines(pid, output_budget_);
  bool out_open = true, exited = false, stop_requested = false;
  while (!exited && !stop_requested) {
    pollfd p[3];
    nfds_t n = 0;
    p[n++] = {stop_fd_, POLLIN, 0};
    if (pidfd >= 0) p[n++] = {pidfd, POLLIN, 0};
    if (out_open) p[n++] = {out_read.get(), POLLIN, 0};
    // Ready: wake once a second anyway, for the summary of held-back output lines.
    const int timeout = ready_ ? (pidfd >= 0 ? 1000 : 100) : static_cast<int>(options_.socket_poll.count());
    const int got = ::poll(p, n, timeout);
    output_budget_.tick();
    if (got < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < n && got > 0; ++i) {
      if (p[i].revents == 0) continue;
      if (p[i].fd == stop_fd_)
        stop_requested = true;
      else if (p[i].fd == pidfd)
        exited = true;
      else
        out_open = lines.drain(out_read.get());
    }
    if (pidfd < 0) {
      // No pidfd (kernel before 5.3): look for the exit without reaping it.
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
        exited = true;
      }
    }
    if (stopping_) stop_requested = true;
    if (!ready_ && !exited && !stop_requested && probe.health_check()) {
      {
        std::lock_guard lock(mutex_);
        ready_ = true;
      }
      ready_cv_.notify_all();
      log::info("provider_ready", {log::kv("pid", static_cast<long long>(pid)), log::kv("socket", options_.socket_path),
                                   log::kv("wait_ms", ms(Clock::now() - started))});
    }
  }

  if (!exited) terminate_group(pid, pidfd);
  // A started process that exited 0 while its socket is (or soon gets)
  // served has daemonised itself: do not kill what serves.
  const bool daemonised = exited && !stop_requested && exited_zero_and_serving(pid);
  // The leader is dead but not reaped, so its group id cannot have been
  // reused: whatever it left behind in the group goes too.
  if (!daemonised) ::kill(-pid, SIGKILL);
  process.wait(ec);
  const int status = process.native_exit_code();
  if (out_open) lines.drain(out_read.get());
  lines.flush();
  {
    std::lock_guard lock(mutex_);
    ready_ = false;
    pid_ = 0;
  }
  const auto uptime = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  const std::string how = ec ? "wait: " + ec.message() : describe_status(status);
  return report_exit(pid, RunResult{uptime, how, daemonised}, stop_requested);
}

ProviderSupervisor::RunResult ProviderSupervisor::report_exit(pid_t pid, RunResult run, bool stop_requested) {
  const auto pid_field = log::kv("pid", static_cast<long long>(pid));
  const auto uptime_field = log::kv("uptime_ms", static_cast<long long>(run.uptime.count()));
  if (run.daemonised) {
    set_ready(true);
    log::warn("provider_daemonised",
              {pid_field, log::kv("socket", options_.socket_path),
               log::kv("effect",
                       "its started process exited 0 and the socket is served by a process it forked: "
                       "not restarted while it serves; found by its environment tag and stopped with serve"),
               log::kv("tag", tag_)});
  } else if (stop_requested) {
    log::info("provider_stopped", {pid_field, log::kv("status", run.status), uptime_field});
  } else {
    log::warn("provider_exited", {pid_field, log::kv("status", run.status), uptime_field});
  }
  return run;
}

// ---------------------------------------------------------------- socket provider

SocketProvider::SocketProvider(SocketProviderOptions options)
    : options_(std::move(options)),
      waiting_(options_.path, options_.limits, options_.limits.timeout),
      fast_(options_.path, options_.limits, options_.connect_retry),
      up_(options_.initially_up) {
  if (options_.supervisor == nullptr) prober_ = std::thread([this] { probe_loop(); });
}

SocketProvider::~SocketProvider() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (prober_.joinable()) prober_.join();
}

std::string SocketProvider::describe() const {
  std::string s = "socket:" + options_.path;
  if (options_.supervisor != nullptr) s += " (supervised: " + join(options_.supervisor->options().command) + ")";
  if (options_.fallback != nullptr) s += " (exec fallback: " + options_.fallback->describe() + ")";
  return s;
}

bool SocketProvider::up() const {
  if (options_.supervisor != nullptr) return options_.supervisor->ready();
  return up_.load();
}

ProviderResult SocketProvider::call(const Request& request) {
  if (auto* supervisor = options_.supervisor) {
    // A daemon being restarted: wait for it within the deadline. One that
    // cannot even be started: do not make every request wait for nothing.
    if (supervisor->spawn_failing() && !supervisor->ready()) {
      auto result = fast_.call(request);
      if (auto* failure = std::get_if<ProviderFailure>(&result)) {
        failure->detail += " (the supervised provider cannot be started; see provider_cannot_start)";
      }
      return result;
    }
    const auto deadline = Clock::now() + options_.limits.timeout;
    const pid_t daemon = supervisor->pid();
    auto result = waiting_.call(request);
    // A connection the daemon accepted just before it died comes back reset
    // or empty. When the supervisor sees that daemon gone, the request
    // arrived during the restart: it waits for the new daemon, once, within
    // what is left of its deadline. A live daemon's answer stands.
    auto* failure = std::get_if<ProviderFailure>(&result);
    auto* output = std::get_if<ProviderOutput>(&result);
    const bool connection_lost = (failure != nullptr && failure->failure == ProviderFailureClass::io_error) ||
                                 (output != nullptr && output->stdout_bytes.empty());
    if (!connection_lost || daemon == 0) return result;
    const auto notice_by = std::min(deadline, Clock::now() + milliseconds(250));
    while (supervisor->pid() == daemon && Clock::now() < notice_by) std::this_thread::sleep_for(milliseconds(5));
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (supervisor->pid() == daemon || left <= milliseconds(0)) return result;
    log::info("provider_call_retried",
              {log::kv("request", request.wire()), log::kv("pid", static_cast<long long>(daemon)),
               log::kv("reason", "the daemon died during the call"),
               log::kv("left_ms", static_cast<long long>(left.count()))});
    CallLimits rest = options_.limits;
    rest.timeout = left;
    return SocketClient(options_.path, rest, left).call(request);
  }
  if (!up_.load()) {
    return apply_exec_fallback(
        ProviderFailure{ProviderFailureClass::cannot_start,
                        "provider socket " + escape_bytes(options_.path) + " is down (probed every " +
                            std::to_string(options_.probe_interval.count()) + " ms)",
                        {}},
        request, options_.fallback);
  }
  auto result = fast_.call(request);
  auto* failure = std::get_if<ProviderFailure>(&result);
  if (failure != nullptr && failure->failure == ProviderFailureClass::cannot_start) mark_down(failure->detail);
  return apply_exec_fallback(std::move(result), request, options_.fallback);
}

void SocketProvider::mark_down(const std::string& why) {
  if (up_.exchange(false)) {
    log::warn("provider_socket_down", {log::kv("socket", options_.path), log::kv("reason", why),
                                       log::kv("probe_ms", static_cast<long long>(options_.probe_interval.count())),
                                       log::kv("fallback", options_.fallback != nullptr ? options_.fallback->describe()
                                                                                        : std::string("none"))});
  }
}

void SocketProvider::probe_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.probe_interval, [this] { return stopping_; });
    if (stopping_ || up_.load()) continue;
    lock.unlock();
    const bool back = fast_.health_check();
    lock.lock();
    if (back && !up_.exchange(true)) log::info("provider_socket_up", {log::kv("socket", options_.path)});
  }
}

}  // namespace keyreq
