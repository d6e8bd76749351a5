// The per-request exec fallback of an unsupervised socket provider (SPEC §3,
// upstream 4.4+): on a connect failure, an empty answer or a transport error,
// never on an answer (declined, or refused later by the field rules).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "resolver/daemon/exec_fallback.hpp"
#include "resolver/daemon/provider_supervisor.hpp"
#include "testkit/temp_dir.hpp"
#include "testkit/unix_sockets.hpp"
#include "testkit/unix_test_server.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;
using keyreq::testkit::TempDir;
using keyreq::testkit::UnixTestServer;

const Request kId001{RequestKind::id, "001"};
const std::string kFromExec = R"({"error":0,"data":{"id":"001","name":"from-exec","ip":"any","key":"k"}})";

// Stands in for the exec client: counts its calls.
class CountingClient final : public ProviderClient {
 public:
  ProviderResult call(const Request&) override {
    ++calls;
    return ProviderOutput{kFromExec, {}};
  }
  std::string describe() const override { return "exec:counting"; }
  std::atomic<int> calls{0};
};

CallLimits limits() {
  CallLimits l;
  l.timeout = 5s;
  return l;
}

std::string answer_of(const ProviderResult& r) {
  if (auto* f = std::get_if<ProviderFailure>(&r))
    return "failure " + std::string(to_string(f->failure)) + ": " + f->detail;
  return std::get<ProviderOutput>(r).stdout_bytes;
}

struct Case {
  const char* name;
  UnixTestServer::Handler handler;
  bool falls_back;
};

TEST(ExecFallback, OnConnectFailureEmptyAnswerAndTransportErrorNeverOnAnAnswer) {
  const std::vector<Case> cases{
      {"empty answer", [](int fd) { testkit::read_some(fd, 6); }, true},
      {"connection reset",
       [](int) { std::this_thread::sleep_for(50ms); },  // closes with the request unread: the client sees a reset
       true},
      {"declined",
       [](int fd) {
         testkit::read_some(fd, 6);
         testkit::write_all(fd, R"({"error":1,"message":"no such agent"})");
       },
       false},
      {"garbage (refused by the rules later)",
       [](int fd) {
         testkit::read_some(fd, 6);
         testkit::write_all(fd, "not json");
       },
       false},
  };
  for (const Case& c : cases) {
    TempDir dir;
    UnixTestServer server(dir / "s", c.handler);
    CountingClient exec;
    SocketProviderOptions o{dir / "s", limits()};
    o.fallback = &exec;
    SocketProvider provider(o);
    const std::string answer = answer_of(provider.call(kId001));
    EXPECT_EQ(exec.calls.load(), c.falls_back ? 1 : 0) << c.name << ": " << answer;
    if (c.falls_back) {
      EXPECT_EQ(answer, kFromExec) << c.name;
    }
  }
}

TEST(ExecFallback, ReasonOfEachResult) {
  auto failure = [](ProviderFailureClass c) { return ProviderResult{ProviderFailure{c, "d", {}}}; };
  EXPECT_EQ(exec_fallback_reason(failure(ProviderFailureClass::cannot_start)), "connect_failed");
  EXPECT_EQ(exec_fallback_reason(failure(ProviderFailureClass::io_error)), "transport_error");
  EXPECT_EQ(exec_fallback_reason(ProviderOutput{"", {}}), "empty_answer");
  EXPECT_FALSE(exec_fallback_reason(failure(ProviderFailureClass::timeout)));
  EXPECT_FALSE(exec_fallback_reason(failure(ProviderFailureClass::output_too_large)));
  EXPECT_FALSE(exec_fallback_reason(ProviderOutput{" ", {}}));  // an answer, refused by D1
  EXPECT_FALSE(exec_fallback_reason(ProviderOutput{R"({"error":1,"message":"no"})", {}}));
}

TEST(ExecFallback, SocketDownGoesToExecAndWithoutAFallbackTheResultStands) {
  TempDir dir;
  CountingClient exec;
  SocketProviderOptions o{dir / "none", limits()};
  o.fallback = &exec;
  SocketProvider provider(o);
  EXPECT_EQ(answer_of(provider.call(kId001)), kFromExec);
  EXPECT_EQ(answer_of(provider.call(kId001)), kFromExec);  // now known down
  EXPECT_EQ(exec.calls.load(), 2);

  UnixTestServer server(dir / "s", [](int fd) { testkit::read_some(fd, 6); });
  SocketProvider alone(SocketProviderOptions{dir / "s", limits()});
  EXPECT_EQ(answer_of(alone.call(kId001)), "");  // the empty answer goes on to the rules (D1)
}

}  // namespace
}  // namespace keyreq
