#pragma once
// Socket provider management (SPEC §3).
//
// ProviderSupervisor: when the provider socket is down at start-up and
// exec_path is set, exec_path (split into words, no argument added) is
// started as the daemon serving the socket, in its own process group, and
// restarted whenever it exits: the first restart within 1 s, then a capped
// exponential backoff while it keeps dying, reset once a run lasts long
// enough. Every exit and restart is logged with the exit status; the
// provider's stdout and stderr become log lines. stop() sends SIGTERM to the
// group, SIGKILL after a grace period, and reaps it.
//
// Standby (issue 11 items 7, 9): a supervisor whose socket is already served
// by someone else (start_in_standby: an orphan of an earlier serve, or an
// external daemon) watches it and starts exec_path the moment it goes down.
// A provider that daemonises itself (its started process exits 0 while the
// socket is served: it forked, with or without setsid) is not killed and
// restarted in a loop: `provider_daemonised` is logged, the supervisor
// watches the socket as in standby, and finds the daemon's processes by the
// KEYREQ_SUPERVISED_BY=<tag> variable it puts in the provider's environment
// (inherited by whatever it forks, whatever its session or group), to stop
// them on stop() or before a restart. Nothing is leaked.
//
// SocketProvider: the ProviderClient the workers use for a socket. With a
// supervisor, requests arriving while the daemon restarts wait for it within
// their deadline (a connection reset or closed empty by a daemon that the
// supervisor then sees die is retried once, within the same deadline). Without one, the first refused connection marks
// the socket down: requests then fail at once (or go to the exec fallback when one is given) while a background probe
// checks the socket every probe_interval.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "resolver/core/provider_client.hpp"
#include "resolver/daemon/log.hpp"
#include "resolver/transport/socket_client.hpp"

namespace keyreq {

struct SupervisorOptions {
  std::vector<std::string> command;  // exec_path split into words; no argument is added
  std::string socket_path;           // what the daemon serves (health-checked)
  std::chrono::milliseconds first_restart_delay{250};
  std::chrono::milliseconds max_restart_delay{30'000};
  std::chrono::milliseconds stable_after{10'000};  // a run this long resets the backoff
  std::chrono::milliseconds stop_grace{5'000};     // SIGTERM, then SIGKILL this long after
  std::chrono::milliseconds socket_poll{20};       // health-check period while waiting for the socket
  std::function<void()> on_restart;                // called once per restart (metrics)
  bool start_in_standby = false;                   // the socket is served already: start exec_path when it goes down
  std::chrono::milliseconds standby_probe{200};    // health-check period while someone else serves the socket
  std::chrono::milliseconds daemonise_grace{
      2'000};  // after the started process exited 0: time for its socket to appear
};

class ProviderSupervisor {
 public:
  explicit ProviderSupervisor(SupervisorOptions options);
  ~ProviderSupervisor();  // stop()
  ProviderSupervisor(const ProviderSupervisor&) = delete;
  ProviderSupervisor& operator=(const ProviderSupervisor&) = delete;

  // Starts the supervising thread, which launches the daemon at once.
  void start();
  // True once the socket accepted a health check since the last (re)start;
  // false after `timeout` without that.
  bool wait_until_ready(std::chrono::milliseconds timeout);
  // Stops the daemon (SIGTERM to its process group, SIGKILL after
  // stop_grace), reaps it, and never restarts it again. Idempotent.
  void stop();

  bool ready() const { return ready_.load(); }
  // The program could not be started at the last attempt (not found, not
  // executable): requests should not wait for a socket nobody will serve.
  bool spawn_failing() const { return spawn_failing_.load(); }
  pid_t pid() const { return pid_.load(); }  // 0 while no daemon runs
  std::uint64_t restarts() const { return restarts_.load(); }
  std::uint64_t starts() const { return starts_.load(); }
  const SupervisorOptions& options() const { return options_; }

 private:
  void run();
  struct RunResult {
    std::chrono::milliseconds uptime{0};  // 0 when it could not start
    std::string status;                   // "exit status 1", "killed by signal 9 (Killed)", "cannot start: ..."
    bool daemonised = false;              // exited 0 while (or shortly before) its socket was served
  };
  // Health-checks the socket every standby_probe while it is served (ready).
  // True once it is down, false when stop() was called.
  bool watch_until_socket_down();
  // SIGTERM, then SIGKILL after stop_grace, to every process carrying our tag.
  void stop_tagged_processes(const char* why);
  bool socket_served(std::chrono::milliseconds within);
  // SIGTERM to the daemon's group; waits stop_grace for the leader to exit.
  void terminate_group(pid_t pid, int pidfd);
  // The (unreaped) leader exited with status 0 and its socket is served
  // within daemonise_grace: it daemonised itself.
  bool exited_zero_and_serving(pid_t pid);
  // Logs how a run ended (daemonised, stopped or exited) and returns it.
  RunResult report_exit(pid_t pid, RunResult run, bool stop_requested);
  void set_ready(bool ready);
  // Launches one daemon and watches it until it exits or stop() is called.
  RunResult run_once();
  bool sleep_unless_stopped(std::chrono::milliseconds delay);

  SupervisorOptions options_;
  std::string program_;                   // command[0] resolved through PATH
  std::string tag_;                       // KEYREQ_SUPERVISED_BY=... in the provider's environment
  std::vector<std::string> environment_;  // ours plus tag_
  std::vector<char*> envp_;
  int stop_fd_ = -1;  // eventfd: wakes the supervising thread
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ready_{false};
  std::atomic<bool> spawn_failing_{false};
  std::atomic<pid_t> pid_{0};
  std::atomic<std::uint64_t> restarts_{0};
  std::atomic<std::uint64_t> starts_{0};
  std::mutex mutex_;
  std::condition_variable ready_cv_;
  std::mutex stop_mutex_;
  std::thread thread_;
  log::LineBudget output_budget_{"provider_output"};  // the daemon's stdout/stderr lines
};

struct SocketProviderOptions {
  std::string path;
  CallLimits limits;
  ProviderSupervisor* supervisor = nullptr;  // requests wait for its restarts within their deadline
  ProviderClient* fallback = nullptr;        // per-request exec while the socket is down (upstream 4.4+)
  std::chrono::milliseconds probe_interval{1'000};
  std::chrono::milliseconds connect_retry{200};  // unsupervised: how long a refused connect is retried
  bool initially_up = true;                      // what the start-up health check found
};

class SocketProvider final : public ProviderClient {
 public:
  explicit SocketProvider(SocketProviderOptions options);
  ~SocketProvider() override;

  ProviderResult call(const Request& request) override;
  std::string describe() const override;
  bool up() const;

 private:
  void mark_down(const std::string& why);
  void probe_loop();

  SocketProviderOptions options_;
  SocketClient waiting_;  // connect retried up to the request's deadline (supervised)
  SocketClient fast_;     // connect retried briefly (unsupervised)
  std::atomic<bool> up_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread prober_;
};

}  // namespace keyreq
