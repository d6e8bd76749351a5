#include "bench/serve_process.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

#include "resolver/platform/child_process_groups.hpp"
#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/posix_spawn_launcher.hpp"
#include "resolver/platform/proc_files.hpp"

namespace keyreq::bench {

namespace {

// "event=registered request=id:001 … total_ms=1.2" and " request=" → "id:001" ("" if absent).
std::string_view field(std::string_view line, std::string_view space_key_equals) {
  const std::size_t at = line.find(space_key_equals);
  if (at == std::string_view::npos) return {};
  const std::size_t start = at + space_key_equals.size();
  return line.substr(start, line.find(' ', start) - start);  // npos - start: to the end
}

std::uint64_t ms_to_ns(std::string_view text) {
  double ms = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  return ec == std::errc() && ms > 0 ? static_cast<std::uint64_t>(ms * 1e6) : 0;
}

}  // namespace

void ServeLog::line(std::string_view text, Clock::time_point at) {
  const std::string_view event = field(text, " event=");
  if (event == "serve_started")
    started = true;
  else if (event == "registered") {
    ++durable;
    durable_at.emplace_back(field(text, " request="), at);
    in_serve.record(ms_to_ns(field(text, " total_ms=")));
    queue_wait.record(ms_to_ns(field(text, " queue_ms=")));
  } else if (event == "already_registered" || event == "declined" || event == "refused" || event == "conflict" ||
             event == "provider_failure" || event == "store_failure" || event == "invalid_request" ||
             event == "dropped" || event == "cancelled" || event == "deduplicated") {
    ++failed;
    if (event == "dropped" || event == "cancelled") ++dropped;
    if (first_failure.empty()) first_failure = text;
  }
}

void ServeLog::lines(std::string_view chunk, Clock::time_point at) {
  std::lock_guard lock(m);
  const bool was_started = started;
  tail.append(chunk.substr(chunk.size() > 4000 ? chunk.size() - 4000 : 0));
  if (tail.size() > 8000) tail.erase(0, tail.size() - 4000);
  for (std::size_t start = 0, nl = chunk.find('\n'); nl != std::string_view::npos;
       start = nl + 1, nl = chunk.find('\n', start))
    line(chunk.substr(start, nl - start), at);
  if (started != was_started || durable + failed >= wake_at_outcomes) cv.notify_all();
}

ServeProcess::ServeProcess(const std::vector<std::string>& args, std::filesystem::path log_file)
    : log_file_(std::move(log_file)) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    error_ = "pipe: " + errno_text(errno);
    return;
  }
  const SpawnStdio stdio{dev_null_fd(O_RDONLY), dev_null_fd(O_WRONLY), pipe_fds[1]};
  pid_t pid = -1;
  if (spawn_process(args[0], args, stdio, SpawnOptions{}, pid) == 0) pid_ = pid;
  ::close(pipe_fds[1]);
  if (pid_ < 0) {
    ::close(pipe_fds[0]);
    error_ = "cannot start " + args[0] + " serve";
    return;
  }
  reader_ = std::thread([this, fd = pipe_fds[0]] { read_log(fd); });
}

std::string ServeProcess::wait_started(std::chrono::seconds timeout) {
  if (!error_.empty()) return error_;
  std::unique_lock lock(log.m);
  log.cv.wait_for(lock, timeout, [&] { return log.started || log.eof; });
  return log.started ? "" : "keyreq serve did not start; its log:\n" + log.tail;
}

void ServeProcess::stop() {
  if (pid_ > 0) stop_process_group(pid_, std::chrono::seconds(20));
  pid_ = -1;
  if (reader_.joinable()) reader_.join();
}

void ServeProcess::read_log(int fd) {
  std::ofstream file(log_file_, std::ios::binary);
  std::string pending;
  char buf[65536];
  while (true) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    const auto at = ServeLog::Clock::now();
    file.write(buf, got);
    pending.append(buf, static_cast<std::size_t>(got));
    const std::size_t complete = pending.rfind('\n') + 1;  // 0 when no line is complete yet
    if (complete == 0) continue;
    log.lines(std::string_view(pending).substr(0, complete), at);
    pending.erase(0, complete);
  }
  ::close(fd);
  std::lock_guard lock(log.m);
  log.eof = true;
  log.cv.notify_all();
}

std::optional<double> serve_rss_mib(const std::filesystem::path& bin_dir, const std::filesystem::path& dir,
                                    const std::string& tag, const std::filesystem::path* seed, std::string& error) {
  namespace fs = std::filesystem;
  const fs::path keys = dir / ("memory-" + tag + ".keys");
  std::error_code ec;
  fs::remove(keys, ec);
  if (seed != nullptr && !fs::copy_file(*seed, keys, fs::copy_options::overwrite_existing, ec)) {
    error = "cannot copy " + seed->string() + ": " + ec.message();
    return std::nullopt;
  }
  const std::vector<std::string> args{(bin_dir / "keyreq").string(),
                                      "serve",
                                      "--exec",
                                      (bin_dir / "keyreq-provider").string(),
                                      "--input",
                                      (dir / ("memory-" + tag + ".in")).string(),
                                      "--keys",
                                      keys.string(),
                                      "--log-level",
                                      "info"};
  ServeProcess serve(args, dir / ("memory-" + tag + ".log"));
  error = serve.wait_started();
  if (!error.empty()) return std::nullopt;
  // Its threads finish starting after the log line.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto rss = read_rss_bytes(serve.pid());
  if (!rss) {
    error = "cannot read the RSS of keyreq serve (pid " + std::to_string(serve.pid()) + ")";
    return std::nullopt;
  }
  return static_cast<double>(*rss) / (1024.0 * 1024.0);
}

}  // namespace keyreq::bench
