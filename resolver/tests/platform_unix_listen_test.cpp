// The platform kit's Unix socket set-up (resolver/platform/unix_listen.hpp):
// a dead server's socket is replaced, a live one and a plain file are refused.
#include "resolver/platform/unix_listen.hpp"

#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "resolver/platform/unix_connect.hpp"

namespace keyreq {
namespace {
namespace fs = std::filesystem;

class PlatformUnixListen : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "keyreq-listen-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static bool connects(const std::string& p) {
    const auto now = std::chrono::steady_clock::now();
    return connect_unix(p, now + std::chrono::milliseconds(200), now).connected();
  }
  fs::path dir_;
};

TEST_F(PlatformUnixListen, ListensWithMode0660AndLeavesNoTemporaryName) {
  const auto result = listen_unix(path("s.sock"));
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_FALSE(result.replaced_stale);
  EXPECT_TRUE(connects(path("s.sock")));
  struct stat st {};
  ASSERT_EQ(::stat(path("s.sock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(PlatformUnixListen, ADeadServersSocketIsReplaced) {
  {
    auto first = listen_unix(path("s.sock"));
    ASSERT_TRUE(first.ok()) << first.error;
    ::close(first.listener.release());  // closed, file left behind: what a killed server leaves
  }
  ASSERT_TRUE(fs::exists(path("s.sock")));
  const auto second = listen_unix(path("s.sock"));
  ASSERT_TRUE(second.ok()) << second.error;
  EXPECT_TRUE(second.replaced_stale);
  EXPECT_TRUE(connects(path("s.sock")));
}

TEST_F(PlatformUnixListen, ALiveServerIsNeverStolenFrom) {
  const auto live = listen_unix(path("s.sock"));
  ASSERT_TRUE(live.ok()) << live.error;
  const auto second = listen_unix(path("s.sock"));
  EXPECT_FALSE(second.ok());
  EXPECT_TRUE(second.in_use);
  EXPECT_NE(second.error.find("already serving " + path("s.sock")), std::string::npos) << second.error;
  EXPECT_TRUE(connects(path("s.sock")));  // still the first server's
}

TEST_F(PlatformUnixListen, TheListenerRemovesItsPathOnlyWhileItIsStillItsOwn) {
  {
    const auto result = listen_unix(path("s.sock"));
    ASSERT_TRUE(result.ok()) << result.error;
  }
  EXPECT_FALSE(fs::exists(path("s.sock")));  // gone with the listener
  auto first = listen_unix(path("s.sock"));
  ASSERT_TRUE(first.ok()) << first.error;
  fs::remove(path("s.sock"));  // a successor takes the path meanwhile
  const auto successor = listen_unix(path("s.sock"));
  ASSERT_TRUE(successor.ok()) << successor.error;
  first = UnixListenResult{};  // the first one goes: the successor's path stays
  EXPECT_TRUE(connects(path("s.sock")));
}

TEST_F(PlatformUnixListen, AFileThatIsNotASocketIsRefusedAndKept) {
  std::ofstream(path("notes.txt")) << "keep me";
  const auto result = listen_unix(path("notes.txt"));
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("is not a socket"), std::string::npos) << result.error;
  EXPECT_TRUE(fs::exists(path("notes.txt")));
}

TEST_F(PlatformUnixListen, DatagramsRoundTripAndALiveDatagramInputIsRefused) {
  const auto input = listen_unix(path("in"), UnixListenOptions{.type = SOCK_DGRAM, .nonblocking = true});
  ASSERT_TRUE(input.ok()) << input.error;
  EXPECT_FALSE(listen_unix(path("in"), UnixListenOptions{.type = SOCK_DGRAM}).ok());
  std::string error;
  const UniqueFd sender = connect_unix_datagram(path("in"), error);
  ASSERT_GE(sender.get(), 0) << error;
  ASSERT_EQ(::send(sender.get(), "id:001", 6, 0), 6);
  char buf[16];
  EXPECT_EQ(::recv(input.listener.fd(), buf, sizeof buf, 0), 6);
  EXPECT_EQ(std::string(buf, 6), "id:001");
}

TEST_F(PlatformUnixListen, AcceptUntilStoppedHandsEveryConnectionOverAndStops) {
  const auto server = listen_unix(path("s.sock"));
  ASSERT_TRUE(server.ok()) << server.error;
  std::atomic<bool> stop{false};
  std::atomic<int> handled{0};
  std::thread loop([&] {
    accept_until_stopped(server.listener.fd(), stop, [&](int client) {
      ::send(client, "x", 1, MSG_NOSIGNAL);
      ++handled;
    });
  });
  for (int i = 0; i < 2; ++i) {
    const auto now = std::chrono::steady_clock::now();
    auto c = connect_unix(path("s.sock"), now + std::chrono::seconds(2), now);
    ASSERT_TRUE(c.connected()) << c.message;
    pollfd p{c.fd.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 2000), 1);
    char byte = 0;
    EXPECT_EQ(::recv(c.fd.get(), &byte, 1, 0), 1);
  }
  stop = true;
  loop.join();  // returns within one 20 ms look at `stop`
  EXPECT_EQ(handled.load(), 2);
}

TEST_F(PlatformUnixListen, APathTooLongIsNamedInTheError) {
  const std::string long_path = "/tmp/" + std::string(200, 'x');
  const auto result = listen_unix(long_path);
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("socket path must be 1 to 107 bytes"), std::string::npos) << result.error;
  std::string error;
  EXPECT_LT(connect_unix_datagram(long_path, error).get(), 0);
  EXPECT_NE(error.find("socket path"), std::string::npos) << error;
}

}  // namespace
}  // namespace keyreq
