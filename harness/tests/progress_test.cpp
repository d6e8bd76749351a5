// The progress convention (harness/progress.hpp): k/N and ETA, no escape
// code off a terminal, NO_COLOR on a terminal, the flags.
#include "harness/progress.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace keyreq::harness {
namespace {

TEST(ProgressLine, ShowsStepOfTotalAndEta) {
  // 10 of 40 steps in 5 s: 30 more at 0.5 s each
  EXPECT_EQ(progress_line("certify", 10, 40, 5.0, "smoke.known-id"), "certify 10/40 smoke.known-id, ETA 15s");
}

TEST(ProgressLine, UnknownTotalHasNoSlashNorEta) { EXPECT_EQ(progress_line("fuzz", 7, 0, 3.0, ""), "fuzz 7"); }

TEST(ProgressLine, NoEtaBeforeTheFirstStepNorAtTheEnd) {
  EXPECT_EQ(progress_line("bench", 0, 5, 1.0, ""), "bench 0/5");
  EXPECT_EQ(progress_line("bench", 5, 5, 1.0, "done"), "bench 5/5 done");
}

TEST(ProgressLine, ControlCharactersInTheStepNameAreReplaced) {
  EXPECT_EQ(progress_line("certify", 1, 2, 0.0, "a\nb\x1b[2J"), "certify 1/2 a?b?[2J, ETA 0s");
}

TEST(FormatDuration, SecondsMinutesHours) {
  EXPECT_EQ(format_duration(4.4), "4s");
  EXPECT_EQ(format_duration(125), "2m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(-1), "0s");
}

Progress::Style plain_style() {
  Progress::Style s;
  s.enabled = true;
  s.redraw = false;
  s.min_interval = std::chrono::milliseconds(0);
  return s;
}

TEST(Progress, OffATerminalWritesPlainLinesWithoutEscapeCodes) {
  std::ostringstream out;
  {
    Progress p(out, plain_style(), "certify", 2);
    p.step("a");
    p.step("b");
    p.finish();
  }
  const std::string text = out.str();
  EXPECT_EQ(text.find('\033'), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos) << text;
  EXPECT_NE(text.find("certify 1/2 a"), std::string::npos) << text;
  EXPECT_NE(text.find("certify 2/2 b\n"), std::string::npos) << text;
}

TEST(Progress, ThrottledLinesStillShowTheLastStep) {
  std::ostringstream out;
  auto style = plain_style();
  style.min_interval = std::chrono::hours(1);
  Progress p(out, style, "fuzz", 3);
  p.step("one");
  p.step("two");  // within the interval: not drawn
  p.step("three");
  EXPECT_EQ(out.str(), "fuzz 1/3 one, ETA 0s\nfuzz 3/3 three\n");
}

// A terminal: the line is redrawn in place, with ANSI escapes or without (NO_COLOR).
Progress::Style terminal_style(bool ansi) {
  auto style = plain_style();
  style.redraw = true;
  style.ansi = ansi;
  return style;
}

TEST(Progress, OnATerminalRedrawsInPlaceAndClearsAtTheEnd) {
  std::ostringstream out;
  Progress p(out, terminal_style(true), "certify", 0);
  p.step("x");
  p.finish();
  EXPECT_EQ(out.str(), "\rcertify 1 x\033[K\r\033[K");
}

TEST(Progress, NoColorOnATerminalClearsWithSpacesNotEscapes) {
  std::ostringstream out;
  Progress p(out, terminal_style(false), "c", 0);
  p.step("long-name");
  p.step("x");
  p.finish();
  const std::string text = out.str();
  EXPECT_EQ(text.find('\033'), std::string::npos) << text;
  EXPECT_EQ(text, "\rc 1 long-name\rc 2 x        \r     \r");  // the padding is already blank
}

TEST(Progress, DisabledWritesNothing) {
  std::ostringstream out;
  Progress::Style off;
  Progress p(out, off, "certify", 3);
  p.step("a");
  p.finish();
  EXPECT_TRUE(out.str().empty());
}

TEST(ProgressFlags, ProgressAndNoProgressSetTheRequestAndExcludeEachOther) {
  for (const auto& [args, expected] : std::vector<std::pair<std::vector<std::string>, std::optional<bool>>>{
           {{}, std::nullopt}, {{"--progress"}, true}, {{"--no-progress"}, false}}) {
    CLI::App app;
    ProgressSettings settings;
    add_progress_flags(app, settings);
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
    EXPECT_EQ(settings.requested, expected);
  }
  CLI::App app;
  ProgressSettings settings;
  add_progress_flags(app, settings);
  std::vector<std::string> both{"--no-progress", "--progress"};
  EXPECT_THROW(app.parse(both), CLI::ExcludesError);
}

}  // namespace
}  // namespace keyreq::harness
