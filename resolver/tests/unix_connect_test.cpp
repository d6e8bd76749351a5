// connect_unix: the one Unix stream connect of the socket client and certify.
#include "resolver/platform/unix_connect.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <vector>

#include "testkit/files.hpp"
#include "testkit/processes.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;
using keyreq::testkit::TempDir;
using Clock = std::chrono::steady_clock;

// A socket that listens with a backlog of 0 and never accepts.
UniqueFd listen_without_accepting(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd.get(), 0) != 0) {
    ADD_FAILURE() << "cannot listen on " << path << ": " << std::strerror(errno);
  }
  return fd;
}

TEST(UnixConnect, AFullBacklogIsRetriedUntilTheDeadlineAndNeverTakenAsConnected) {
  TempDir dir;
  const UniqueFd server = listen_without_accepting(dir / "s");
  // Fill the queue: Linux admits backlog + 1 pending connections.
  std::vector<UnixConnectResult> queued;
  for (int i = 0; i < 4; ++i) queued.push_back(connect_unix(dir / "s", Clock::now() + 20ms, Clock::now()));
  ASSERT_TRUE(queued.front().connected());
  ASSERT_FALSE(queued.back().connected()) << "the backlog never filled";

  const auto start = Clock::now();
  const UnixConnectResult r = connect_unix(dir / "s", start + 200ms, start);
  const auto elapsed = Clock::now() - start;
  EXPECT_FALSE(r.connected());
  EXPECT_EQ(r.error, ETIMEDOUT);
  EXPECT_NE(r.message.find("listen backlog full"), std::string::npos) << r.message;
  EXPECT_GE(elapsed, 190ms);  // it kept trying (the provider is alive, only busy)
  EXPECT_LT(elapsed, 1s);
}

TEST(UnixConnect, AMissingSocketIsRetriedOnlyUntilItsOwnLimit) {
  TempDir dir;
  const auto start = Clock::now();
  const UnixConnectResult r = connect_unix(dir / "none", start + 5s, start + 100ms);
  const auto elapsed = Clock::now() - start;
  EXPECT_FALSE(r.connected());
  EXPECT_EQ(r.error, ENOENT);
  EXPECT_NE(r.message.find(dir / "none"), std::string::npos) << r.message;
  EXPECT_GE(elapsed, 50ms);
  EXPECT_LT(elapsed, 1s);
}

TEST(UnixConnect, APathTooLongIsNamed) {
  const UnixConnectResult r = connect_unix("/tmp/" + std::string(120, 'x'), Clock::now() + 1s, Clock::now());
  EXPECT_FALSE(r.connected());
  EXPECT_EQ(r.error, ENAMETOOLONG);
  EXPECT_NE(r.message.find("longer than 107 bytes"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace keyreq
