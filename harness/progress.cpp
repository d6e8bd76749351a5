#include "harness/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace keyreq::harness {

void add_progress_flags(CLI::App& cmd, ProgressSettings& settings) {
  auto* on = cmd.add_flag_callback(
      "--progress", [&settings] { settings.requested = true; },
      "show progress (step k/N, ETA) on stderr even when it is not a terminal");
  auto* off = cmd.add_flag_callback(
      "--no-progress", [&settings] { settings.requested = false; }, "never show progress");
  on->excludes(off);
}

std::string format_duration(double seconds) {
  const long s = seconds < 0 ? 0 : static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  return buf;
}

std::string progress_line(std::string_view label, std::size_t done, std::size_t total, double elapsed_seconds,
                          std::string_view what) {
  std::string line(label);
  line += " " + std::to_string(done);
  if (total > 0) line += "/" + std::to_string(total);
  if (!what.empty()) {
    line += " ";
    // never a control character in the line, whatever the caller passes
    for (char c : what) line += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  if (total > 0 && done > 0 && done < total) {
    line += ", ETA " + format_duration(elapsed_seconds / static_cast<double>(done) * static_cast<double>(total - done));
  }
  return line;
}

Progress::Style Progress::stderr_style(const ProgressSettings& settings) {
  Style style;
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  style.enabled = settings.requested.value_or(terminal);
  style.redraw = terminal;
  const char* term = std::getenv("TERM");
  style.ansi = terminal && std::getenv("NO_COLOR") == nullptr && !(term && std::strcmp(term, "dumb") == 0);
  style.min_interval = terminal ? std::chrono::milliseconds(100) : std::chrono::milliseconds(2000);
  return style;
}

Progress Progress::on_stderr(const ProgressSettings& settings, std::string label, std::size_t total) {
  return Progress(std::cerr, stderr_style(settings), std::move(label), total);
}

Progress::Progress(std::ostream& out, Style style, std::string label, std::size_t total)
    : out_(out), style_(style), label_(std::move(label)), total_(total) {}

Progress::~Progress() { finish(); }

void Progress::set_total(std::size_t total) {
  std::lock_guard lock(mutex_);
  total_ = total;
}

void Progress::step(std::string_view what) {
  std::lock_guard lock(mutex_);
  ++done_;
  draw_locked(what, total_ > 0 && done_ >= total_);
}

void Progress::update(std::size_t done, std::string_view what) {
  std::lock_guard lock(mutex_);
  done_ = done;
  draw_locked(what, total_ > 0 && done_ >= total_);
}

void Progress::draw_locked(std::string_view what, bool force) {
  if (!style_.enabled || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && last_draw_ && now - *last_draw_ < style_.min_interval) return;
  last_draw_ = now;
  const std::string line =
      progress_line(label_, done_, total_, std::chrono::duration<double>(now - start_).count(), what);
  if (!style_.redraw) {
    out_ << line << "\n" << std::flush;
    return;
  }
  out_ << "\r" << line;
  if (style_.ansi)
    out_ << "\033[K";
  else if (line.size() < drawn_width_)
    out_ << std::string(drawn_width_ - line.size(), ' ');
  drawn_width_ = line.size();
  out_ << std::flush;
}

void Progress::finish() {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (!style_.enabled || !style_.redraw || !last_draw_) return;
  if (style_.ansi)
    out_ << "\r\033[K";
  else
    out_ << "\r" << std::string(drawn_width_, ' ') << "\r";
  out_ << std::flush;
}

}  // namespace keyreq::harness
