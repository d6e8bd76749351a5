#pragma once
// The one progress convention of the long commands (certify, fuzz, bench):
// a status line on stderr, "certify 37/120 adversarial.id.sqli, ETA 4s".
//  - `--progress` / `--no-progress`; by default shown only when stderr is a
//    terminal;
//  - on a terminal the line is redrawn in place (`\r`, then ESC[K to clear
//    the rest, or spaces when NO_COLOR is set or TERM=dumb); elsewhere
//    (a CI log with --progress) one plain line at most every 2 seconds and
//    the last step, never an escape code;
//  - k/N and an ETA when N is known, k alone otherwise.
// Usage: add_progress_flags(cmd, settings) while building the subcommand;
// then Progress p = Progress::on_stderr(settings, "certify", N); p.step(what)
// per step (any thread); p.finish() before printing the result.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace keyreq::harness {

struct ProgressSettings {
  std::optional<bool> requested;  // --progress (true) / --no-progress (false); unset: terminal decides
};

// Adds --progress and --no-progress to a subcommand.
void add_progress_flags(CLI::App& cmd, ProgressSettings& settings);

// "certify 12/120 smoke.known-id, ETA 3s": the line without any control
// character. total 0: unknown (no /N, no ETA); no ETA before the first step.
std::string progress_line(std::string_view label, std::size_t done, std::size_t total, double elapsed_seconds,
                          std::string_view what);

// "4s", "2m05s", "1h02m".
std::string format_duration(double seconds);

class Progress {
 public:
  struct Style {
    bool enabled = false;
    bool redraw = false;                          // a terminal: rewrite the line in place
    bool ansi = false;                            // with redraw: clear with ESC[K (else with spaces)
    std::chrono::milliseconds min_interval{100};  // between two lines drawn (the last step always is)
  };

  // The style for stderr: --progress/--no-progress, else on when stderr is a
  // terminal; ANSI unless NO_COLOR is set (any value) or TERM=dumb.
  static Style stderr_style(const ProgressSettings& settings);
  static Progress on_stderr(const ProgressSettings& settings, std::string label, std::size_t total = 0);

  Progress(std::ostream& out, Style style, std::string label, std::size_t total = 0);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  Progress(Progress&&) = delete;
  ~Progress();

  void set_total(std::size_t total);
  void step(std::string_view what = {});                      // one more step done
  void update(std::size_t done, std::string_view what = {});  // `done` steps done
  // Clears the line on a terminal (the result is printed next); idempotent.
  void finish();

  bool enabled() const { return style_.enabled; }

 private:
  void draw_locked(std::string_view what, bool force);

  std::ostream& out_;
  Style style_;
  std::string label_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  std::size_t drawn_width_ = 0;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> last_draw_;
  std::mutex mutex_;
};

}  // namespace keyreq::harness
