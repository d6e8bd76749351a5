#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include <filesystem>

#include "resolver/daemon/log.hpp"
#include "resolver/daemon/metrics.hpp"
#include "resolver/platform/atomic_file.hpp"
#include "resolver/platform/escape.hpp"
#include "testkit/files.hpp"
#include "testkit/processes.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(Metrics, CountsEveryKindOfEventInPrometheusText) {
  Metrics m;
  for (int i = 0; i < 5; ++i) m.received();
  m.submitted(SubmitStatus::invalid);
  m.submitted(SubmitStatus::deduplicated);
  m.submitted(SubmitStatus::queue_full);
  m.submitted(SubmitStatus::queue_full);
  m.submitted(SubmitStatus::accepted);
  m.finished(outcome::Registered{}, 2ms);
  m.finished(outcome::AlreadyRegistered{}, 200us);
  m.finished(outcome::Declined{4, "no"}, 3s);
  m.finished(outcome::Refused{"S3", "bad name"}, 1ms);
  m.finished(outcome::Refused{"Z9", "?"}, 1ms);
  m.finished(outcome::ProviderFailed{ProviderFailureClass::timeout, "slow", ""}, 61s);
  m.finished(outcome::ProviderFailed{ProviderFailureClass::cannot_start, "gone", ""}, 1ms);
  m.finished(outcome::Conflict{"id 001 taken"}, 1ms);
  m.cancelled();
  m.provider_restarted();
  const std::string text = m.render({3, 2, true, 7});
  EXPECT_TRUE(has_line(text, "keyreq_requests_received_total 5")) << text;
  EXPECT_TRUE(has_line(text, "keyreq_requests_invalid_total 1"));
  EXPECT_TRUE(has_line(text, "keyreq_requests_deduplicated_total 1"));
  EXPECT_TRUE(has_line(text, "keyreq_requests_dropped_total{reason=\"queue_full\"} 2"));
  EXPECT_TRUE(has_line(text, "keyreq_requests_dropped_total{reason=\"cancelled_at_shutdown\"} 1"));
  EXPECT_TRUE(has_line(text, "keyreq_registered_total 1"));
  EXPECT_TRUE(has_line(text, "keyreq_already_registered_total 1"));
  EXPECT_TRUE(has_line(text, "keyreq_declined_total 1"));
  EXPECT_TRUE(has_line(text, "keyreq_refused_total{rule=\"S3\"} 1"));
  EXPECT_TRUE(has_line(text, "keyreq_refused_total{rule=\"D1\"} 0"));
  EXPECT_TRUE(has_line(text, "keyreq_refused_total{rule=\"other\"} 1"));
  EXPECT_TRUE(has_line(text, "keyreq_provider_failures_total{class=\"timeout\"} 1"));
  EXPECT_TRUE(has_line(text, "keyreq_provider_failures_total{class=\"cannot_start\"} 1"));
  EXPECT_TRUE(has_line(text, "keyreq_conflicts_total 1"));
  EXPECT_TRUE(has_line(text, "keyreq_provider_restarts_total 1"));
  EXPECT_TRUE(has_line(text, "keyreq_queue_depth 3"));
  EXPECT_TRUE(has_line(text, "keyreq_requests_running 2"));
  EXPECT_TRUE(has_line(text, "keyreq_provider_socket_up 1"));
  EXPECT_TRUE(has_line(text, "keyreq_keystore_batches_total 7"));
  // Cumulative buckets: 200us, then four at 1-2 ms, 3 s, 61 s (+Inf only).
  EXPECT_TRUE(has_line(text, "keyreq_request_duration_seconds_bucket{le=\"0.0001\"} 0"));
  EXPECT_TRUE(has_line(text, "keyreq_request_duration_seconds_bucket{le=\"0.00025\"} 1"));
  EXPECT_TRUE(has_line(text, "keyreq_request_duration_seconds_bucket{le=\"0.001\"} 5"));
  EXPECT_TRUE(has_line(text, "keyreq_request_duration_seconds_bucket{le=\"0.0025\"} 6"));
  EXPECT_TRUE(has_line(text, "keyreq_request_duration_seconds_bucket{le=\"5\"} 7"));
  EXPECT_TRUE(has_line(text, "keyreq_request_duration_seconds_bucket{le=\"60\"} 7"));
  EXPECT_TRUE(has_line(text, "keyreq_request_duration_seconds_bucket{le=\"+Inf\"} 8"));
  EXPECT_TRUE(has_line(text, "keyreq_request_duration_seconds_count 8"));
  EXPECT_NE(text.find("# TYPE keyreq_request_duration_seconds histogram"), std::string::npos);
  // No socket provider: no socket gauge.
  EXPECT_EQ(m.render({}).find("keyreq_provider_socket_up"), std::string::npos);
}

TEST(Metrics, FileIsReplacedAtomically) {
  keyreq::testkit::TempDir dir;
  const std::string path = dir / "metrics.prom";
  ASSERT_FALSE(write_file_atomically(path, "a 1\n"));
  ASSERT_FALSE(write_file_atomically(path, "a 2\n"));
  EXPECT_EQ(keyreq::testkit::read_file(path), "a 2\n");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1);                                                  // no temporary left behind
  EXPECT_TRUE(write_file_atomically(dir / "missing/dir/m.prom", "x"));  // an error message
}

TEST(Log, FieldsAreTokensOrQuotedAndEscaped) {
  EXPECT_EQ(log::format_line("registered", {log::kv("request", "id:001"), log::kv("n", 3), log::kv("ok", true)}),
            "event=registered request=id:001 n=3 ok=true");
  EXPECT_EQ(log::format_line("x", {log::kv("m", "two words")}), "event=x m=\"two words\"");
  EXPECT_EQ(log::format_line("x", {log::kv("m", "")}), "event=x m=\"\"");
  // A forged second line or field cannot get through.
  EXPECT_EQ(log::format_line("x", {log::kv("bytes", std::string("a\n2025 level=error event=\"forged\"\x01"))}),
            "event=x bytes=\"a\\n2025 level=error event=\\\"forged\\\"\\x01\"");
}

TEST(Log, AlreadyEscapedValuesAreQuotedOnceAndCannotForge) {
  EXPECT_EQ(log::format_line("x", {log::kv_escaped("m", escape_bytes("say \"no\"\nnow"))}),
            R"(event=x m="say \"no\"\nnow")");
  EXPECT_EQ(log::format_line("x", {log::kv_escaped("m", "ok")}), "event=x m=ok");
  // Not escape_bytes output: escaped after all.
  EXPECT_EQ(log::format_line("x", {log::kv_escaped("m", "a\nb")}), R"(event=x m="a\nb")");
  EXPECT_EQ(log::format_line("x", {log::kv_escaped("m", "a\" f=1")}), R"(event=x m="a\" f=1")");
  EXPECT_EQ(log::format_line("x", {log::kv_escaped("m", "end\\")}), R"(event=x m="end\\")");
}

TEST(Log, Levels) {
  EXPECT_EQ(log::parse_level("warning"), log::Level::warn);
  EXPECT_EQ(log::parse_level("debug"), log::Level::debug);
  EXPECT_FALSE(log::parse_level("loud"));
}

// stderr redirected to a pipe for one test (the log writes to fd 2).
class StderrPipe {
 public:
  explicit StderrPipe(int pipe_size = 0) {
    if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) return;
    if (pipe_size > 0) ::fcntl(fds_[1], F_SETPIPE_SZ, pipe_size);
    const int flags = ::fcntl(fds_[1], F_GETFL);
    ::fcntl(fds_[1], F_SETFL, flags & ~O_NONBLOCK);  // writers block on a full pipe, as on a real one
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(fds_[1], STDERR_FILENO);
  }
  ~StderrPipe() {
    if (saved_ >= 0) ::dup2(saved_, STDERR_FILENO), ::close(saved_);
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  std::string read_available() {
    std::string text;
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(fds_[0], buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    return text;
  }
  int read_fd() const { return fds_[0]; }

 private:
  int fds_[2] = {-1, -1};
  int saved_ = -1;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  for (std::size_t start = 0, nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(text.substr(start, nl - start));
  return lines;
}

TEST(Log, HeldLinesAreWrittenInOrderWhenTheOutermostScopeEnds) {
  log::init(log::Level::info);
  StderrPipe pipe;
  {
    const log::HeldLines outer;
    log::info("held", {log::kv("n", 1)});
    {
      const log::HeldLines inner;
      log::info("held", {log::kv("n", 2)});
    }
    log::info("held", {log::kv("n", 3)});
    EXPECT_EQ(pipe.read_available(), "");  // nothing yet, not even after the inner scope
  }
  const auto lines = lines_of(pipe.read_available());
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_NE(lines[i].find("level=info event=held n=" + std::to_string(i + 1)), std::string::npos) << lines[i];
  log::info("not_held");  // without a scope: at once
  EXPECT_NE(pipe.read_available().find("event=not_held"), std::string::npos);
  log::init(log::Level::off);
}

// A held batch larger than PIPE_BUF goes out in writes of whole lines of at
// most PIPE_BUF bytes, each atomic on a pipe: a line another thread writes
// meanwhile never lands inside one (a small pipe that a reader drains slowly
// makes the writers wait, where one big write would be split).
TEST(Log, AHeldBatchNeverInterleavesWithAnotherThreadsLines) {
  log::init(log::Level::info);
  StderrPipe pipe(4096);
  std::string output;
  std::atomic<bool> writing{true};
  std::thread reader([&] {
    char buffer[512];
    while (true) {
      const ssize_t n = ::read(pipe.read_fd(), buffer, sizeof buffer);
      if (n > 0) output.append(buffer, static_cast<std::size_t>(n));
      if (n <= 0 && !writing) break;
      std::this_thread::sleep_for(50us);
    }
  });
  std::thread other([] {
    for (int i = 0; i < 300; ++i) log::info("other", {log::kv("n", i), log::kv("pad", std::string(40, 'o'))});
  });
  for (int round = 0; round < 5; ++round) {
    const log::HeldLines held;
    for (int i = 0; i < 100; ++i) log::info("held", {log::kv("n", i), log::kv("pad", std::string(80, 'h'))});
  }
  other.join();
  writing = false;
  reader.join();
  log::init(log::Level::off);
  const auto lines = lines_of(output);
  EXPECT_EQ(lines.size(), 800u);
  int held = 0, others = 0;
  for (const auto& line : lines) {
    const bool is_held = line.find(" event=held n=") != std::string::npos && line.ends_with(std::string(80, 'h'));
    const bool is_other = line.find(" event=other n=") != std::string::npos && line.ends_with(std::string(40, 'o'));
    EXPECT_TRUE(is_held || is_other) << "a torn line: " << line;
    held += is_held, others += is_other;
  }
  EXPECT_EQ(held, 500);
  EXPECT_EQ(others, 300);
}

TEST(LineBudget, FirstLinesOfEachIntervalPassTheRestAreCounted) {
  log::LineBudget budget("test", 3, std::chrono::milliseconds(200));
  int passed = 0;
  for (int i = 0; i < 10; ++i) passed += budget.allow(10) ? 1 : 0;
  EXPECT_EQ(passed, 3);
  EXPECT_EQ(budget.suppressed_total(), 7u);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_TRUE(budget.allow(10));  // a new interval
  EXPECT_EQ(budget.suppressed_total(), 7u);
}

}  // namespace
}  // namespace keyreq
