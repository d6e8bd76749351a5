#pragma once
// The daemon's log: one line per event, level and key=value fields, on
// stderr (spdlog). Values are escaped with escape_bytes, so untrusted bytes
// (requests, provider output) can never split or forge a line.
//
//   2025-01-02T03:04:05.678+0000 level=info event=registered request=id:001 id=001 name=agent-001
//
// Until init() is called nothing is written (unit tests stay quiet).
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace keyreq::log {

enum class Level { trace, debug, info, warn, error, off };

// "trace", "debug", "info", "warn" (or "warning"), "error", "off".
std::optional<Level> parse_level(std::string_view name);

// Routes the log to stderr at `level`. Safe to call again (replaces the level).
void init(Level level);
bool enabled(Level level);

// One key=value field; the value is quoted and escaped unless it is a plain
// token (letters, digits and . _ : / @ + - only).
struct Field {
  std::string_view key;
  std::string value;
};
Field kv(std::string_view key, std::string_view value);
Field kv(std::string_view key, const char* value);
Field kv(std::string_view key, const std::string& value);
Field kv(std::string_view key, std::int64_t value);
Field kv(std::string_view key, std::uint64_t value);
Field kv(std::string_view key, int value);
Field kv(std::string_view key, unsigned value);
Field kv(std::string_view key, long long value);
Field kv(std::string_view key, unsigned long long value);
Field kv(std::string_view key, double value);
Field kv(std::string_view key, bool value);

// A value already escaped with escape_bytes (a provider's message or stderr
// as the outcome carries them): quoted, not escaped a second time. Anything
// that is not escape_bytes output (a raw control byte or a bare quote) is
// escaped as by kv(), so no caller can forge a line or a field.
Field kv_escaped(std::string_view key, std::string_view escaped);

// Formats "event=NAME k=v k=v" (exposed for tests).
std::string format_line(std::string_view event, std::initializer_list<Field> fields);

void write(Level level, std::string_view event, std::initializer_list<Field> fields);

// While a HeldLines lives on a thread, the lines that thread writes are kept
// and written when the outermost one ends: with one write() per 4 KiB of
// whole lines (PIPE_BUF, so that no other thread's line can land inside one
// on a pipe) instead of one per line. keyreq serve holds the lines of one
// keystore batch's callbacks (a herd: ~87 `registered` lines per batch). A
// crash while they are held loses those log lines, never a client.keys
// entry: they are written right after the batch's fdatasync.
class HeldLines {
 public:
  HeldLines();
  ~HeldLines();
  HeldLines(const HeldLines&) = delete;
  HeldLines& operator=(const HeldLines&) = delete;
};
inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::debug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::info, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::warn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::error, event, fields);
}

// Caps the lines one untrusted source may write (a provider's stderr, invalid
// datagrams), so it cannot fill the disk client.keys lives on: the first
// `burst` lines of every `interval` are written, the rest are counted, and
// one `log_suppressed` line (source, lines, bytes) sums them up when the
// interval ends (at the next line or the next flush()). Thread-safe.
class LineBudget {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LineBudget(std::string source, std::size_t burst = 100,
                      std::chrono::milliseconds interval = std::chrono::seconds(10));
  ~LineBudget();  // flush(): nothing counted goes unreported

  // True when this line may be written; false when it is only counted.
  // `bytes`: the line's size, for the summary.
  bool allow(std::size_t bytes = 0);
  // Writes the summary when the interval has ended (call it periodically).
  void tick();
  // Writes the summary of what was counted so far at once.
  void flush();
  std::uint64_t suppressed_total() const;

 private:
  void roll(Clock::time_point now, bool force);  // under mutex_
  const std::string source_;
  const std::size_t burst_;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  Clock::time_point window_start_;
  std::size_t written_ = 0;
  std::uint64_t suppressed_lines_ = 0, suppressed_bytes_ = 0, suppressed_total_ = 0;
};

}  // namespace keyreq::log
