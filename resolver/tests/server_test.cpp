// Server in-process (docs/serve.md): the start-up order (lock, input, keys),
// the shutdown order, and a stop hastened by cancel_waiting(). End-to-end
// behaviour of the binary (signals, exit codes) is in serve_test.
#include "resolver/daemon/server.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "resolver/daemon/datagram_input.hpp"
#include "resolver/keystore/keys_file_lock.hpp"
#include "resolver/keystore/keystore.hpp"
#include "testkit/testkit.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;
using namespace keyreq::testkit;

class ServerTest : public ::testing::Test {
 protected:
  // An exec provider answering every id; sleeps `delay` seconds first.
  ServerOptions options(const std::string& delay = "0", int threads = 1) {
    const std::string script =
        write_script(dir_, "provider.sh",
                     "sleep " + delay +
                         "\nprintf '{\"error\":0,\"data\":{\"id\":\"%s\",\"name\":\"agent-%s\",\"ip\":\"any\","
                         "\"key\":\"0123456789abcdef0123456789abcdef\"}}' \"$2\" \"$2\"");
    ServerOptions o;
    o.config.enabled = true;
    o.config.exec_path = script;
    o.config.threads = threads;
    o.config.timeout_seconds = 10;
    o.input_path = dir_ / "krequest";
    o.keys_path = dir_ / "client.keys";
    o.metrics_file = dir_ / "metrics.prom";
    return o;
  }
  std::unique_ptr<Server> create(ServerOptions o) {
    auto created = Server::create(std::move(o));
    if (auto* e = std::get_if<std::string>(&created)) {
      ADD_FAILURE() << *e;
      return nullptr;
    }
    return std::get<std::unique_ptr<Server>>(std::move(created));
  }
  TempDir dir_;
};

TEST_F(ServerTest, ServesThenStopsClosingInputAndKeysInOrder) {
  auto server = create(options());
  ASSERT_TRUE(server);
  ASSERT_TRUE(server->start());
  ASSERT_EQ(send_datagram(server->input_path(), "id:001"), "");
  ASSERT_TRUE(wait_until([&] { return server->metrics().registered_count() == 1; }, 10s));
  server->stop("test");
  EXPECT_TRUE(server->stopped());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "krequest"));
  // client.keys closed: its lock is free and the entry is there.
  auto keys = KeyStore::open(dir_ / "client.keys");
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(keys)) << std::get<KeyStoreError>(keys).message();
  EXPECT_TRUE(std::get<std::unique_ptr<KeyStore>>(keys)->find_by_id("001"));
  EXPECT_EQ(metric(read_file(dir_ / "metrics.prom"), "keyreq_registered_total"), 1);
}

TEST_F(ServerTest, SecondServerOnTheSameKeysIsRefusedBeforeBindingItsInput) {
  auto first = create(options());
  ASSERT_TRUE(first);
  ServerOptions second = options();
  second.input_path = dir_ / "other";
  auto refused = Server::create(second);
  ASSERT_TRUE(std::holds_alternative<std::string>(refused));
  EXPECT_NE(std::get<std::string>(refused).find("in use by pid " + std::to_string(::getpid())), std::string::npos)
      << std::get<std::string>(refused);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "other"));
}

TEST_F(ServerTest, CancelWaitingDuringTheDrainCancelsWhatWaitsAtOnce) {
  auto server = create(options("2"));
  ASSERT_TRUE(server);
  ASSERT_TRUE(server->start());
  for (const char* id : {"id:001", "id:002", "id:003", "id:004", "id:005"}) {
    ASSERT_EQ(send_datagram(server->input_path(), id), "");
  }
  ASSERT_TRUE(wait_until([&] { return server->metrics().received_count() == 5; }, 5s));
  const auto started = std::chrono::steady_clock::now();
  std::thread stopper([&] { server->stop("test"); });
  std::this_thread::sleep_for(100ms);
  server->cancel_waiting();
  stopper.join();
  // Without the cancel, the four waiting requests drain one by one (≈ 10 s).
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  const std::string m = read_file(dir_ / "metrics.prom");
  EXPECT_EQ(metric(m, "keyreq_requests_dropped_total{reason=\"cancelled_at_shutdown\"}"), 4);
  EXPECT_EQ(metric(m, "keyreq_registered_total"), 1);
}

// Issue 13: reading threads resolve requests themselves while another one
// reads (datagram_input.hpp). A request stuck in the provider on one of them
// must not stop the others being read and resolved: id:001 sleeps 3 s, the
// next ones are registered meanwhile (threads = 2: two at once).
TEST_F(ServerTest, ASlowRequestOnAReadingThreadDoesNotStopTheReading) {
  ServerOptions o = options("0", 2);
  o.config.exec_path = write_script(dir_, "slow-for-001.sh",
                                    "[ \"$2\" = 001 ] && sleep 3\n"
                                    "printf '{\"error\":0,\"data\":{\"id\":\"%s\",\"name\":\"agent-%s\",\"ip\":\"any\","
                                    "\"key\":\"0123456789abcdef0123456789abcdef\"}}' \"$2\" \"$2\"");
  auto server = create(o);
  ASSERT_TRUE(server);
  ASSERT_TRUE(server->start());
  ASSERT_EQ(send_datagram(server->input_path(), "id:001"), "");
  ASSERT_TRUE(wait_until([&] { return server->metrics().received_count() == 1; }, 5s));
  const auto sent = std::chrono::steady_clock::now();
  for (const char* id : {"id:002", "id:003", "id:004"}) ASSERT_EQ(send_datagram(server->input_path(), id), "");
  EXPECT_TRUE(wait_until([&] { return server->metrics().registered_count() == 3; }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - sent, 2500ms) << "the slow request held the others up";
  EXPECT_TRUE(wait_until([&] { return server->metrics().registered_count() == 4; }, 10s));
  server->stop("test");
}

}  // namespace
}  // namespace keyreq
