#pragma once
// A real `keyreq serve` started by bench (the herd, the memory figure): its
// own process group with PR_SET_PDEATHSIG, so a killed bench takes it (and,
// through its own PDEATHSIG, its providers) along; its log (stderr) read as
// it is written, line by line, into a ServeLog; stopped by the destructor.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "bench/histogram.hpp"

namespace keyreq::bench {

// What bench learns from serve's log. Guarded by m; cv is notified after
// every chunk of lines.
struct ServeLog {
  using Clock = std::chrono::steady_clock;
  std::mutex m;
  std::condition_variable cv;
  bool started = false, eof = false;
  std::uint64_t durable = 0, failed = 0, dropped = 0;
  std::vector<std::pair<std::string, Clock::time_point>> durable_at;  // request, when its line arrived
  Histogram queue_wait, in_serve;                                     // queue_ms and total_ms of `registered`
  std::string first_failure;
  std::string tail;  // last bytes of the log, for error messages
  // The waiters are woken when serve has started, at the end of the log, and
  // once durable + failed reaches this (0: after every chunk). A herd sets it
  // to the requests it sends, so that the reader, which runs beside serve on
  // the same cores, does not wake the herd's thread for every chunk.
  std::uint64_t wake_at_outcomes = 0;

  // A chunk read from the pipe: its complete lines under one lock and at
  // most one wake-up. The reader runs beside serve on the same cores, so
  // lines are read as views, without allocating.
  void lines(std::string_view chunk, Clock::time_point at);

 private:
  void line(std::string_view text, Clock::time_point at);  // m held
};

class ServeProcess {
 public:
  // Starts `args` (the keyreq binary, "serve", flags); its log is also
  // written to `log_file`. wait_started() says why it could not start.
  ServeProcess(const std::vector<std::string>& args, std::filesystem::path log_file);
  ~ServeProcess() { stop(); }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits for serve_started; "" or what went wrong (with the log's last lines).
  std::string wait_started(std::chrono::seconds timeout = std::chrono::seconds(30));
  // Stops the process group (SIGTERM, then SIGKILL after 20 s) and the log reader.
  void stop();

  ServeLog log;

 private:
  void read_log(int fd);

  std::filesystem::path log_file_;
  std::string error_;
  pid_t pid_ = -1;
  std::thread reader_;
};

// RSS in MiB of a fresh `keyreq serve` (from `bin_dir`, beside
// keyreq-provider, named as its provider and never called) once it has
// started, with a copy of `seed` as its client.keys (an empty one when null).
// Its files go to `dir`, named after `tag`. nullopt with `error` set when it
// did not start or its RSS could not be read.
std::optional<double> serve_rss_mib(const std::filesystem::path& bin_dir, const std::filesystem::path& dir,
                                    const std::string& tag, const std::filesystem::path* seed, std::string& error);

}  // namespace keyreq::bench
