#include "resolver/daemon/log.hpp"

#include <limits.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "resolver/platform/atomic_file.hpp"
#include "resolver/platform/escape.hpp"
#include "resolver/platform/number_format.hpp"

namespace keyreq::log {

namespace {

std::mutex& init_mutex() {
  static std::mutex m;
  return m;
}
// Set once by init(); read without a lock on every write.
std::atomic<spdlog::logger*> g_logger{nullptr};
std::atomic<int> g_level{static_cast<int>(Level::off)};

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::trace: return spdlog::level::trace;
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
    case Level::off: break;
  }
  return spdlog::level::off;
}

// The lines of this thread's HeldLines scopes (depth: nesting).
struct Held {
  int depth = 0;
  std::string lines;
};
thread_local Held t_held;

// Writes whole lines, at most PIPE_BUF bytes per write() when they fit, so
// that each write is atomic on a pipe.
void write_lines(std::string_view lines) {
  while (!lines.empty()) {
    std::size_t end = lines.size();
    if (end > PIPE_BUF) {
      const std::size_t last_newline = lines.rfind('\n', PIPE_BUF - 1);
      end = last_newline == std::string_view::npos ? lines.find('\n') : last_newline + 1;  // a longer line alone
      if (end == std::string_view::npos) end = lines.size();
    }
    (void)write_all(STDERR_FILENO, lines.substr(0, end));  // nowhere to report a failed log write
    lines.remove_prefix(end);
  }
}

// stderr, one write() per line, or kept while the thread holds its lines.
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    const std::string_view line(formatted.data(), formatted.size());
    if (t_held.depth > 0)
      t_held.lines.append(line);
    else
      write_lines(line);
  }
  void flush_() override {}
};

bool plain_token(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '/' || c == '@' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  if (name == "trace") return Level::trace;
  if (name == "debug") return Level::debug;
  if (name == "info") return Level::info;
  if (name == "warn" || name == "warning") return Level::warn;
  if (name == "error") return Level::error;
  if (name == "off") return Level::off;
  return std::nullopt;
}

void init(Level level) {
  std::lock_guard lock(init_mutex());
  if (g_logger.load() == nullptr) {
    // Never destroyed: threads may still log while static destructors run.
    // One write() per line (or per held batch): nothing buffered to lose on a crash.
    auto* logger = new spdlog::logger("keyreq", std::make_shared<StderrSink>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z level=%l %v");
    g_logger.store(logger);
  }
  g_logger.load()->set_level(to_spdlog(level));
  g_level.store(static_cast<int>(level));
}

bool enabled(Level level) {
  return level != Level::off && static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

Field kv(std::string_view key, std::string_view value) {
  if (plain_token(value)) return {key, std::string(value)};
  return {key, "\"" + escape_bytes(value, 1024) + "\""};
}
Field kv_escaped(std::string_view key, std::string_view escaped) {
  if (plain_token(escaped)) return {key, std::string(escaped)};
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    const auto c = static_cast<unsigned char>(escaped[i]);
    if (c < 0x20 || c >= 0x7f || c == '"') return kv(key, escaped);   // not escape_bytes output
    if (c == '\\' && ++i == escaped.size()) return kv(key, escaped);  // a lone trailing backslash
  }
  return {key, "\"" + std::string(escaped) + "\""};
}
Field kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
Field kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
Field kv(std::string_view key, std::int64_t value) { return {key, std::to_string(value)}; }
Field kv(std::string_view key, std::uint64_t value) { return {key, std::to_string(value)}; }
Field kv(std::string_view key, int value) { return {key, std::to_string(value)}; }
Field kv(std::string_view key, unsigned value) { return {key, std::to_string(value)}; }
Field kv(std::string_view key, long long value) { return {key, std::to_string(value)}; }
Field kv(std::string_view key, unsigned long long value) { return {key, std::to_string(value)}; }
Field kv(std::string_view key, double value) { return {key, format::fixed(value, 3)}; }
Field kv(std::string_view key, bool value) { return {key, value ? "true" : "false"}; }

std::string format_line(std::string_view event, std::initializer_list<Field> fields) {
  std::string line = "event=";
  line += event;
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    line += f.value;
  }
  return line;
}

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  spdlog::logger* logger = g_logger.load(std::memory_order_acquire);
  if (logger == nullptr) return;
  const std::string line = format_line(event, fields);
  logger->log(to_spdlog(level), spdlog::string_view_t(line.data(), line.size()));
}

HeldLines::HeldLines() { ++t_held.depth; }

HeldLines::~HeldLines() {
  if (--t_held.depth > 0 || t_held.lines.empty()) return;
  write_lines(t_held.lines);
  t_held.lines.clear();
}

}  // namespace keyreq::log

namespace keyreq::log {

LineBudget::LineBudget(std::string source, std::size_t burst, std::chrono::milliseconds interval)
    : source_(std::move(source)), burst_(burst), interval_(interval), window_start_(Clock::now()) {}

LineBudget::~LineBudget() { flush(); }

void LineBudget::roll(Clock::time_point now, bool force) {
  if (!force && now - window_start_ < interval_) return;
  if (suppressed_lines_ > 0) {
    warn("log_suppressed", {kv("source", source_), kv("lines", static_cast<unsigned long long>(suppressed_lines_)),
                            kv("bytes", static_cast<unsigned long long>(suppressed_bytes_)),
                            kv("interval_ms", static_cast<long long>(interval_.count())),
                            kv("burst", static_cast<unsigned long long>(burst_))});
  }
  window_start_ = now;
  written_ = 0;
  suppressed_lines_ = suppressed_bytes_ = 0;
}

bool LineBudget::allow(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  roll(Clock::now(), false);
  if (written_ < burst_) {
    ++written_;
    return true;
  }
  ++suppressed_lines_;
  ++suppressed_total_;
  suppressed_bytes_ += bytes;
  return false;
}

void LineBudget::tick() {
  std::lock_guard lock(mutex_);
  roll(Clock::now(), false);
}

void LineBudget::flush() {
  std::lock_guard lock(mutex_);
  if (suppressed_lines_ > 0) roll(Clock::now(), true);
}

std::uint64_t LineBudget::suppressed_total() const {
  std::lock_guard lock(mutex_);
  return suppressed_total_;
}

}  // namespace keyreq::log
