#include "resolver/transport/socket_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "testkit/temp_dir.hpp"
#include "testkit/unix_sockets.hpp"
#include "testkit/unix_test_server.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;
using keyreq::testkit::TempDir;
using keyreq::testkit::UnixTestServer;
using Clock = std::chrono::steady_clock;

const Request kId001{RequestKind::id, "001"};
const std::string kAnswer = R"({"error":0,"data":{"id":"001","name":"a","ip":"any","key":"k"}})";

CallLimits limits(std::chrono::milliseconds timeout) {
  CallLimits l;
  l.timeout = timeout;
  return l;
}

TEST(JsonDocumentComplete, BracketsOutsideStrings) {
  EXPECT_TRUE(json_document_complete(R"( {"a":"}"})"));
  EXPECT_FALSE(json_document_complete(R"({"a":"}")"));
  EXPECT_FALSE(json_document_complete(R"({"a":"\"}")"));
  EXPECT_TRUE(json_document_complete(R"({"a":[{}]})"));
  EXPECT_FALSE(json_document_complete("123"));  // scalars end at EOF only
  EXPECT_FALSE(json_document_complete(""));
}

TEST(SocketClient, SendsTheRequestWithoutTerminatorAndReadsWithoutWaitingForEof) {
  TempDir dir;
  std::string received;
  std::mutex m;
  UnixTestServer server(dir / "s", [&](int fd) {
    auto got = testkit::read_some(fd, 6);
    {
      std::lock_guard lock(m);
      received = got;
    }
    testkit::write_all(fd, kAnswer);
    std::this_thread::sleep_for(1500ms);  // keep the connection open: the client must not wait for EOF
  });
  SocketClient client(dir / "s", limits(5s));
  const auto start = Clock::now();
  auto r = client.call(kId001);
  ASSERT_TRUE(std::holds_alternative<ProviderOutput>(r));
  EXPECT_EQ(std::get<ProviderOutput>(r).stdout_bytes, kAnswer);
  EXPECT_LT(Clock::now() - start, 1s);
  std::lock_guard lock(m);
  EXPECT_EQ(received, "id:001");
}

TEST(SocketClient, ReassemblesAReplyArrivingInPieces) {
  TempDir dir;
  UnixTestServer server(dir / "s", [&](int fd) {
    testkit::read_some(fd, 6);
    for (std::size_t i = 0; i < kAnswer.size(); i += 7) {
      testkit::write_all(fd, kAnswer.substr(i, 7));
      std::this_thread::sleep_for(5ms);
    }
  });
  SocketClient client(dir / "s", limits(5s));
  auto r = client.call(kId001);
  ASSERT_TRUE(std::holds_alternative<ProviderOutput>(r));
  EXPECT_EQ(std::get<ProviderOutput>(r).stdout_bytes, kAnswer);
}

TEST(SocketClient, EofEndsAReplyThatIsNotAnObject) {
  TempDir dir;
  UnixTestServer server(dir / "s", [&](int fd) {
    testkit::read_some(fd, 6);
    testkit::write_all(fd, "garbage");
  });
  SocketClient client(dir / "s", limits(5s));
  auto r = client.call(kId001);
  ASSERT_TRUE(std::holds_alternative<ProviderOutput>(r));
  EXPECT_EQ(std::get<ProviderOutput>(r).stdout_bytes, "garbage");
}

TEST(SocketClient, DeadlineCapAndNobodyListening) {
  TempDir dir;
  {
    UnixTestServer silent(dir / "silent",
                          [&](int fd) { testkit::read_some(fd, 100, std::chrono::milliseconds(2000)); });
    SocketClient client(dir / "silent", limits(300ms));
    const auto start = Clock::now();
    auto r = client.call(kId001);
    ASSERT_TRUE(std::holds_alternative<ProviderFailure>(r));
    EXPECT_EQ(std::get<ProviderFailure>(r).failure, ProviderFailureClass::timeout);
    EXPECT_LT(Clock::now() - start, 1s);
  }
  {
    UnixTestServer big(dir / "big", [&](int fd) {
      testkit::read_some(fd, 6);
      testkit::write_all(fd, "[" + std::string(70000, ' '));
    });
    SocketClient client(dir / "big", limits(5s));
    auto r = client.call(kId001);
    ASSERT_TRUE(std::holds_alternative<ProviderFailure>(r));
    EXPECT_EQ(std::get<ProviderFailure>(r).failure, ProviderFailureClass::output_too_large);
  }
  SocketClient nobody(dir / "nobody", limits(5s), 200ms);
  const auto start = Clock::now();
  auto r = nobody.call(kId001);
  ASSERT_TRUE(std::holds_alternative<ProviderFailure>(r));
  EXPECT_EQ(std::get<ProviderFailure>(r).failure, ProviderFailureClass::cannot_start);
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 100ms);  // it retried
  EXPECT_LT(elapsed, 600ms);  // within its bounded budget, not the 5 s deadline
}

TEST(SocketClient, ConnectRetryCatchesAProviderThatComesUpLate) {
  TempDir dir;
  std::unique_ptr<UnixTestServer> server;
  std::thread starter([&] {
    std::this_thread::sleep_for(150ms);
    server = std::make_unique<UnixTestServer>(dir / "late", [&](int fd) {
      testkit::read_some(fd, 6);
      testkit::write_all(fd, kAnswer);
    });
  });
  SocketClient client(dir / "late", limits(5s), 2s);
  auto r = client.call(kId001);
  starter.join();
  EXPECT_TRUE(std::holds_alternative<ProviderOutput>(r));
}

// Issue 11 #1: a provider whose listen backlog is full makes a non-blocking
// Unix connect fail with EAGAIN; that socket is not connected, and the client
// used to send on it ("Transport endpoint is not connected"). Every call must
// wait its turn within the deadline instead.
TEST(SocketClient, FullListenBacklogIsWaitedForNotTakenAsConnected) {
  TempDir dir;
  UnixTestServer server(
      dir / "s",
      [&](int fd) {
        testkit::read_some(fd, 6);
        std::this_thread::sleep_for(5ms);
        testkit::write_all(fd, kAnswer);
      },
      /*backlog=*/1);
  SocketClient client(dir / "s", limits(10s));
  constexpr int kThreads = 32;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto r = client.call(kId001);
      if (auto* f = std::get_if<ProviderFailure>(&r))
        failures[t] = std::string(to_string(f->failure)) + ": " + f->detail;
      else if (std::get<ProviderOutput>(r).stdout_bytes != kAnswer)
        failures[t] = "wrong answer";
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
  EXPECT_EQ(server.connections(), kThreads);
}

TEST(SocketClient, HealthCheckSendsNothing) {
  TempDir dir;
  std::atomic<int> bytes_seen{-1};
  UnixTestServer server(dir / "s", [&](int fd) {
    bytes_seen = static_cast<int>(testkit::read_some(fd, 1, std::chrono::milliseconds(1000)).size());
  });
  SocketClient client(dir / "s", limits(5s));
  EXPECT_TRUE(client.health_check());
  for (int i = 0; i < 100 && bytes_seen < 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(bytes_seen.load(), 0);
  EXPECT_FALSE(SocketClient(dir / "none", limits(1s)).health_check());
}

TEST(SocketClient, SocketPathTooLong) {
  SocketClient client("/tmp/" + std::string(120, 'x'), limits(1s));
  auto r = client.call(kId001);
  ASSERT_TRUE(std::holds_alternative<ProviderFailure>(r));
  EXPECT_EQ(std::get<ProviderFailure>(r).failure, ProviderFailureClass::cannot_start);
}

}  // namespace
}  // namespace keyreq
