#include "resolver/daemon/datagram_input.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "testkit/files.hpp"
#include "testkit/processes.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;
using keyreq::testkit::TempDir;

struct Received {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::size_t>> got;
  DatagramInput::Handler handler() {
    return [this](std::string_view bytes, std::size_t size, bool) {
      std::lock_guard lock(m);
      got.emplace_back(std::string(bytes), size);
      cv.notify_all();
    };
  }
  bool wait(std::size_t n) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, 5s, [&] { return got.size() >= n; });
  }
};

std::unique_ptr<DatagramInput> open_ok(const std::string& path, std::size_t max = 1024) {
  auto r = DatagramInput::open(DatagramInputOptions{path, 0660, max});
  if (auto* e = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << *e;
    return nullptr;
  }
  return std::get<std::unique_ptr<DatagramInput>>(std::move(r));
}

TEST(DatagramInput, DeliversEachDatagramUntouchedAndCreatesTheDirectory) {
  TempDir dir;
  const std::string path = dir / "queue/sockets/krequest";
  auto input = open_ok(path, 64);
  ASSERT_TRUE(input);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  Received r;
  input->start(r.handler());
  const std::string with_nul(
      "id:0\0"
      "01",
      7);
  for (std::string_view m : {std::string_view("id:001"), std::string_view("ip:10.0.0.1\r\n"),
                             std::string_view(with_nul), std::string_view("")}) {
    ASSERT_EQ(send_datagram(path, m), "");
  }
  ASSERT_EQ(send_datagram(path, std::string(100, 'x')), "");
  ASSERT_TRUE(r.wait(5));
  std::lock_guard lock(r.m);
  EXPECT_EQ(r.got[0].first, "id:001");
  EXPECT_EQ(r.got[1].first, "ip:10.0.0.1\r\n");
  EXPECT_EQ(r.got[2].first, with_nul);
  EXPECT_EQ(r.got[3].first, "");
  EXPECT_EQ(r.got[4].first, std::string(64, 'x'));  // cut at the cap ...
  EXPECT_EQ(r.got[4].second, 100u);                 // ... with its real size
  EXPECT_EQ(input->received(), 5u);
}

TEST(DatagramInput, StopRemovesTheSocket) {
  TempDir dir;
  const std::string path = dir / "in";
  auto input = open_ok(path);
  ASSERT_TRUE(input);
  Received r;
  input->start(r.handler());
  input->stop();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_NE(send_datagram(path, "id:001"), "");
}

TEST(DatagramInput, ReplacesAStaleSocketButNotALiveOneNorAnotherFile) {
  TempDir dir;
  const std::string path = dir / "in";
  {
    // A socket file whose reader is gone (a crashed serve).
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  auto first = open_ok(path);
  ASSERT_TRUE(first);
  auto second = DatagramInput::open(DatagramInputOptions{path});
  ASSERT_TRUE(std::holds_alternative<std::string>(second));
  EXPECT_NE(std::get<std::string>(second).find("in use"), std::string::npos);

  const std::string file = dir / "plain";
  std::ofstream(file) << "keep me";
  auto third = DatagramInput::open(DatagramInputOptions{file});
  ASSERT_TRUE(std::holds_alternative<std::string>(third));
  EXPECT_EQ(keyreq::testkit::read_file(file), "keep me");

  auto too_long = DatagramInput::open(DatagramInputOptions{"/tmp/" + std::string(110, 'a')});
  ASSERT_TRUE(std::holds_alternative<std::string>(too_long));
}

// Records the order of admit() calls; finish() takes its time, as a reader
// resolving a request itself does, and so does every tenth admit().
class SlowFinishReader final : public DatagramInput::Reader {
 public:
  explicit SlowFinishReader(Received& r) : r_(r) {}
  void admit(std::string_view bytes, std::size_t size, bool) override {
    // Every tenth admit is slow (a thread descheduled while it logs):
    // another reader must not admit a later datagram meanwhile.
    if (bytes.back() == '0') std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::lock_guard lock(r_.m);
    r_.got.emplace_back(std::string(bytes), size);
    r_.cv.notify_all();
  }
  void finish() override { std::this_thread::sleep_for(std::chrono::microseconds(300)); }

 private:
  Received& r_;
};

// With several reading threads, datagrams are still admitted in the order
// they arrived (a full queue drops the newest). CI: with two readers and no
// common lock, serve admitted id:002 before id:001 and dropped id:001
// (Serve.FullQueueDropsAndCounts under TSan).
TEST(DatagramInput, SeveralReadersAdmitDatagramsInArrivalOrder) {
  TempDir dir;
  const std::string path = dir / "in";
  auto r = DatagramInput::open(DatagramInputOptions{.path = path, .threads = 4});
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<DatagramInput>>(r));
  auto input = std::get<std::unique_ptr<DatagramInput>>(std::move(r));
  Received received;
  input->start(
      [&]() -> std::unique_ptr<DatagramInput::Reader> { return std::make_unique<SlowFinishReader>(received); });
  constexpr int kCount = 300;
  for (int i = 0; i < kCount; ++i) {
    while (!send_datagram(path, "id:" + std::to_string(1000 + i)).empty()) std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(received.wait(kCount));
  input->stop();
  std::lock_guard lock(received.m);
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(received.got[i].first, "id:" + std::to_string(1000 + i)) << i;
}

// In a child process: with the soft descriptor limit raised one at a time
// from "nothing left", open() a two-thread input until it succeeds, and
// write the error of the last failing try to `report_fd`. That try lacked
// exactly one descriptor, the one open() takes last: the second reading
// thread's epoll set. Before, reading threads made their own epoll set and
// one that could not returned without a word, leaving serve short of a reader.
[[noreturn]] void report_last_error_before_open_succeeds(const std::string& path, int report_fd) {
  // Fill every free number below the highest in use, so new descriptors come after it.
  int highest = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  for (int probe = 0; probe < highest; ++probe) {
    if (::fcntl(probe, F_GETFD) < 0) highest = std::max(highest, ::open("/dev/null", O_RDONLY | O_CLOEXEC));
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) std::_Exit(3);
  std::string last_error;
  for (int room = 0; room <= 16; ++room) {
    limit.rlim_cur = static_cast<rlim_t>(highest + 1 + room);
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) std::_Exit(3);
    auto r = DatagramInput::open(DatagramInputOptions{.path = path, .threads = 2});
    if (auto* error = std::get_if<std::string>(&r)) {
      last_error = *error;
      if (::access(path.c_str(), F_OK) == 0) std::_Exit(4);  // a failed open leaves no socket file
      continue;
    }
    const ssize_t written = ::write(report_fd, last_error.data(), last_error.size());
    std::_Exit(written == static_cast<ssize_t>(last_error.size()) ? 0 : 3);
  }
  std::_Exit(5);
}

TEST(DatagramInput, AReadingThreadThatCannotWatchTheSocketFailsOpenWithAMessage) {
  TempDir dir;
  const std::string path = dir / "in.sock";
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) report_last_error_before_open_succeeds(path, fds[1]);
  ::close(fds[1]);
  std::string message;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) message.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: setup, 4: socket file left behind, 5: never opened";
  EXPECT_EQ(message, "epoll for input reading thread 2: Too many open files");
}

}  // namespace
}  // namespace keyreq
