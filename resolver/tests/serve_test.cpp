// keyreq serve end to end: the real binary, real providers, a real datagram
// socket. Each test bounds its own waits; none takes more than a few seconds.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>

#include "resolver/daemon/datagram_input.hpp"
#include "resolver/keystore/keystore.hpp"
#include "testkit/testkit.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;
using namespace keyreq::testkit;

// {exit code, stdout and stderr} of a command run to completion.
std::pair<int, std::string> run_merged(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  CommandOptions options;
  options.merge_stderr = true;
  options.timeout = timeout;
  const CommandResult r = run_command(argv, options);
  return {r.exit_code, r.out};
}

class Serve : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = make_dataset(dir_, 2000);
    input_ = dir_ / "queue/sockets/krequest";
    keys_ = dir_ / "etc/client.keys";
    metrics_ = dir_ / "metrics.prom";
    log_ = dir_ / "serve.log";
  }
  void TearDown() override {
    if (serve_.pid() > 0 && !serve_.wait(0ms)) {
      serve_.signal(SIGTERM);
      serve_.wait(20s);
    }
    if (::testing::Test::HasFailure()) std::cerr << "--- serve log ---\n" << read_file(log_) << "---\n";
  }

  std::string config_file(const std::string& inner) {
    const std::string path = dir_ / "ossec.conf";
    std::ofstream(path) << "<ossec_config>\n  <auth>\n    <key_request>\n"
                        << inner << "\n    </key_request>\n  </auth>\n</ossec_config>\n";
    return path;
  }
  std::string reference_exec() const { return bin("keyreq-provider") + " --db " + db_; }
  std::string reference_daemon() const {
    return bin("keyreq-provider") + " --db " + db_ + " --socket " + (dir_ / "provider.sock") + " --threads 2";
  }

  // Starts `keyreq serve --config` on a block; true once it is serving.
  bool start(const std::string& inner, const std::string& log_level = "debug") {
    std::filesystem::remove(log_);
    std::filesystem::remove(metrics_);
    const std::vector<std::string> argv{
        bin("keyreq"),        "serve",          "--config", config_file(inner), "--home",
        dir_.path().string(), "--metrics-file", metrics_,   "--log-level",      log_level};
    serve_.start(argv, log_);
    return wait_until([&] { return log().find("event=serve_started") != std::string::npos || serve_.wait(0ms); },
                      15s) &&
           !serve_.wait(0ms);
  }
  std::string log() const { return read_file(log_); }
  bool wait_log(const std::string& needle, std::size_t n = 1, std::chrono::milliseconds timeout = 10s) {
    return wait_until([&] { return count(log(), needle) >= n; }, timeout);
  }
  long long metric_now(const std::string& sample) const { return metric(read_file(metrics_), sample); }
  bool wait_metric(const std::string& sample, long long value, std::chrono::milliseconds timeout = 10s) {
    return wait_until([&] { return metric_now(sample) == value; }, timeout);
  }
  void send(std::string_view bytes) { ASSERT_EQ(send_datagram(input_, bytes), ""); }
  // SIGTERM, exit 0, final metrics written.
  void stop() {
    serve_.signal(SIGTERM);
    EXPECT_EQ(serve_.exit_code(20s), 0);
    EXPECT_NE(log().find("event=serve_stopped"), std::string::npos);
  }
  std::unique_ptr<KeyStore> reopen_keys() const {
    auto opened = KeyStore::open(keys_);
    if (auto* e = std::get_if<KeyStoreError>(&opened)) {
      ADD_FAILURE() << e->message();
      return nullptr;
    }
    return std::get<std::unique_ptr<KeyStore>>(std::move(opened));
  }

  TempDir dir_;
  std::string db_, input_, keys_, metrics_, log_;
  BackgroundProcess serve_;
};

TEST_F(Serve, RegistersIdAndIpRequestsThroughTheExecProvider) {
  ASSERT_TRUE(start("<exec_path>" + reference_exec() + "</exec_path><threads>2</threads>"));
  struct stat st;
  ASSERT_EQ(::stat(input_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  send("id:001");
  send("ip:10.0.0.2\n");
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 2));
  // One batch (one write + fdatasync) for both, or one each.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto batches = metric_now("keyreq_keystore_batches_total");
        return batches == 1 || batches == 2;
      },
      10s));
  stop();
  auto keys = reopen_keys();
  ASSERT_TRUE(keys);
  ASSERT_TRUE(keys->find_by_id("001"));
  EXPECT_EQ(keys->find_by_id("001")->agent.name, "agent-001");
  ASSERT_TRUE(keys->find_by_id("002"));
  EXPECT_EQ(keys->find_by_id("002")->agent.ip, "10.0.0.2");
  EXPECT_EQ(metric_now("keyreq_requests_received_total"), 2);
  EXPECT_NE(log().find("event=registered request=ip:10.0.0.2 id=002"), std::string::npos);
  EXPECT_EQ(log().find(keys->find_by_id("001")->agent.key), std::string::npos) << "keys never reach the log";
  EXPECT_FALSE(std::filesystem::exists(input_));  // removed on the way out
}

TEST_F(Serve, ProviderErrorsAreDeclinesWithTheirMessage) {
  const std::string script = write_script(dir_, "declines.sh",
                                          "case \"$2\" in\n"
                                          "  004) echo '{\"error\":4,\"message\":\"agent 004 is banned\"}' ;;\n"
                                          "  *) echo '{\"error\":5,\"message\":\"quota exceeded\"}' ;;\n"
                                          "esac");
  ASSERT_TRUE(start("<exec_path>" + script + "</exec_path>"));
  send("id:004");
  send("id:005");
  ASSERT_TRUE(wait_log("event=declined", 2));
  EXPECT_NE(log().find("event=declined request=id:004 code=4 message=\"agent 004 is banned\""), std::string::npos);
  EXPECT_NE(log().find("event=declined request=id:005 code=5 message=\"quota exceeded\""), std::string::npos);
  ASSERT_TRUE(wait_metric("keyreq_declined_total", 2));
  stop();
  EXPECT_EQ(reopen_keys()->active_count(), 0u);
}

TEST_F(Serve, DuplicateIdIsRefusedWithoutForceInsertAndReplacedWithIt) {
  std::filesystem::create_directories(dir_ / "etc");
  std::ofstream(keys_) << "001 someone-else 10.9.9.9 0123456789abcdef\n";
  ASSERT_TRUE(start("<exec_path>" + reference_exec() + "</exec_path>"));
  send("id:001");
  ASSERT_TRUE(wait_metric("keyreq_conflicts_total", 1));
  stop();
  EXPECT_NE(log().find("event=conflict request=id:001"), std::string::npos);
  EXPECT_EQ(reopen_keys()->find_by_id("001")->agent.name, "someone-else");

  ASSERT_TRUE(start("<exec_path>" + reference_exec() + "</exec_path><force_insert>yes</force_insert>"));
  send("id:001");
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 1));
  stop();
  auto keys = reopen_keys();
  ASSERT_TRUE(keys->find_by_id("001"));
  EXPECT_EQ(keys->find_by_id("001")->agent.name, "agent-001");
  EXPECT_EQ(keys->active_count(), 1u);
}

TEST_F(Serve, MissingAndNonExecutableScriptsAreCannotStart) {
  const std::string not_executable = write_script(dir_, "plain.sh", "echo '{}'", false);
  for (const std::string& exec : {dir_ / "no-such-provider", not_executable}) {
    ASSERT_TRUE(start("<exec_path>" + exec + "</exec_path>"));
    send("id:001");
    ASSERT_TRUE(wait_metric("keyreq_provider_failures_total{class=\"cannot_start\"}", 1)) << exec;
    EXPECT_TRUE(wait_log("event=provider_failure request=id:001 class=cannot_start"));
    stop();
  }
}

TEST_F(Serve, FullQueueDropsAndCounts) {
  const std::string slow = write_script(
      dir_, "slow.sh", "echo \"$2\" >> " + (dir_ / "calls") + "\nsleep 1\necho '{\"error\":1,\"message\":\"no\"}'");
  ASSERT_TRUE(start("<exec_path>" + slow + "</exec_path><threads>1</threads><queue_size>1</queue_size>"));
  send("id:001");  // taken by the worker
  send("id:002");  // the one waiting request
  send("id:003");  // dropped
  ASSERT_TRUE(wait_metric("keyreq_requests_dropped_total{reason=\"queue_full\"}", 1));
  EXPECT_TRUE(wait_log("event=dropped request=id:003 reason=queue_full"));
  ASSERT_TRUE(wait_metric("keyreq_declined_total", 2));
  stop();
  EXPECT_EQ(read_file(dir_ / "calls"), "001\n002\n");
}

TEST_F(Serve, IdenticalRequestInFlightIsDeduplicated) {
  const std::string slow = write_script(
      dir_, "slow.sh", "echo \"$2\" >> " + (dir_ / "calls") + "\nsleep 1\necho '{\"error\":1,\"message\":\"no\"}'");
  ASSERT_TRUE(start("<exec_path>" + slow + "</exec_path><threads>2</threads>"));
  send("id:001");
  send("id:001");
  send("id:001\n");  // the same request once its newline is stripped
  ASSERT_TRUE(wait_metric("keyreq_requests_deduplicated_total", 2));
  ASSERT_TRUE(wait_metric("keyreq_declined_total", 1));
  stop();
  EXPECT_EQ(read_file(dir_ / "calls"), "001\n");
}

TEST_F(Serve, ProviderSlowerThanTheTimeoutIsCutOff) {
  const std::string slow = write_script(dir_, "sleeps.sh", "sleep 30");
  ASSERT_TRUE(start("<exec_path>" + slow + "</exec_path><timeout>1</timeout>"));
  const auto sent = std::chrono::steady_clock::now();
  send("id:001");
  ASSERT_TRUE(wait_log("event=provider_failure request=id:001 class=timeout", 1, 8s));
  EXPECT_LT(std::chrono::steady_clock::now() - sent, 4s);
  EXPECT_EQ(metric_now("keyreq_provider_failures_total{class=\"timeout\"}") >= 0, true);
  stop();
  EXPECT_EQ(metric_now("keyreq_provider_failures_total{class=\"timeout\"}"), 1);
}

TEST_F(Serve, InvalidRequestsAreLoggedEscapedAndCounted) {
  const std::string never = write_script(dir_, "never.sh", "echo called >> " + (dir_ / "calls"));
  ASSERT_TRUE(start("<exec_path>" + never + "</exec_path>"));
  send("invalid:request");
  send("id:001\nlevel=error event=forged");
  send(std::string(2000, 'x'));
  ASSERT_TRUE(wait_metric("keyreq_requests_invalid_total", 3));
  stop();
  const std::string l = log();
  EXPECT_NE(l.find("event=invalid_request bytes=invalid:request"), std::string::npos);
  EXPECT_NE(l.find("bytes=\"id:001\\nlevel=error event=forged\""), std::string::npos);
  EXPECT_EQ(count(l, "\nlevel=error event=forged"), 0u);  // no forged line
  EXPECT_NE(l.find("size=2000 reason=\"datagram too long\""), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "calls"));
  EXPECT_EQ(metric_now("keyreq_requests_received_total"), 3);
}

TEST_F(Serve, EveryInvalidConfigurationValueExits2NamingTheTag) {
  const std::string base = "<exec_path>/bin/true</exec_path>";
  const std::pair<std::string, std::string> cases[] = {
      {base + "<timeout>0</timeout>", "<key_request><timeout>"},
      {base + "<threads>0</threads>", "<key_request><threads>"},
      {base + "<threads>33</threads>", "<key_request><threads>"},
      {base + "<queue_size>0</queue_size>", "<key_request><queue_size>"},
      {base + "<queue_size>220001</queue_size>", "<key_request><queue_size>"},
      {base + "<enabled>maybe</enabled>", "<key_request><enabled>"},
      {"<exec_path></exec_path>", "<key_request><exec_path>"},
      {base + "<socket>/tmp/" + std::string(103, 's') + "</socket>", "<key_request><socket>"},
      {"<threads>2</threads>", "neither <exec_path> nor <socket>"},
  };
  for (const auto& [inner, tag] : cases) {
    auto [code, out] =
        run_merged({bin("keyreq"), "serve", "--config", config_file(inner), "--home", dir_.path().string()});
    EXPECT_EQ(code, 2) << inner << "\n" << out;
    EXPECT_NE(out.find(tag), std::string::npos) << inner << "\n" << out;
    std::filesystem::remove(dir_ / "config.log");
  }
  // Flags are checked the same way.
  auto [code, out] =
      run_merged({bin("keyreq"), "serve", "--exec", "/bin/true", "--threads", "33", "--home", dir_.path().string()});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("--threads: \"33\" is not allowed; expected an integer from 1 to 32"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(input_));  // nothing was started
}

// Issue 11: an input socket path over 107 bytes is refused with the
// configuration, before client.keys is opened or a provider started.
TEST_F(Serve, InputSocketPathTooLongExits2BeforeAnythingIsOpened) {
  const std::string home = dir_ / std::string(100, 'h');  // + /queue/sockets/krequest: over 107 bytes
  auto [code, out] = run_merged({bin("keyreq"), "serve", "--exec", "/bin/true", "--home", home});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("--home"), std::string::npos) << out;
  EXPECT_NE(out.find("a socket path of 1 to 107 bytes"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(home + "/etc/client.keys")) << "keys were opened first";
  std::tie(code, out) = run_merged({bin("keyreq"), "serve", "--exec", "/bin/true", "--home", dir_.path().string(),
                                    "--input", dir_ / std::string(110, 'i')});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("--input"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(keys_));
}

// <auth><disabled>yes</disabled>: served anyway, with a warning in the log.
TEST_F(Serve, DisabledAuthIsServedWithAWarning) {
  const std::string path = dir_ / "auth-disabled.conf";
  std::ofstream(path) << "<ossec_config><auth><disabled>yes</disabled><key_request><exec_path>" << reference_exec()
                      << "</exec_path></key_request></auth></ossec_config>\n";
  serve_.start({bin("keyreq"), "serve", "--config", path, "--home", dir_.path().string(), "--metrics-file", metrics_},
               log_);
  ASSERT_TRUE(wait_log("event=serve_started"));
  EXPECT_NE(log().find("event=config_warning"), std::string::npos) << log();
  EXPECT_NE(log().find("<auth><disabled>yes</disabled>"), std::string::npos) << log();
  stop();
}

TEST_F(Serve, LaunchedProviderKilledIsRestartedAndRequestsSucceed) {
  const std::string socket = dir_ / "provider.sock";
  ASSERT_TRUE(start("<exec_path>" + reference_daemon() + "</exec_path><socket>" + socket +
                    "</socket><threads>2</threads><timeout>10</timeout>"));
  ASSERT_NE(log().find("event=provider_ready"), std::string::npos);
  send("id:001");
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 1));
  const pid_t first = static_cast<pid_t>(last_field(log(), "provider_started", "pid"));
  ASSERT_GT(first, 0);

  ASSERT_EQ(::kill(first, SIGKILL), 0);
  send("id:002");  // arrives while the provider is dead or restarting: waits for it
  ASSERT_TRUE(wait_log("event=provider_ready", 2));
  send("id:003");
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 3));
  const std::string l = log();
  EXPECT_NE(l.find("event=provider_exited pid=" + std::to_string(first) + " status=\"killed by signal 9"),
            std::string::npos);
  EXPECT_NE(l.find("event=provider_restart_scheduled attempt=1 after=\"killed by signal 9"), std::string::npos);
  const pid_t second = static_cast<pid_t>(last_field(l, "provider_started", "pid"));
  EXPECT_NE(second, first);
  ASSERT_TRUE(wait_metric("keyreq_provider_restarts_total", 1));
  EXPECT_EQ(metric_now("keyreq_provider_failures_total{class=\"cannot_start\"}"), 0);

  stop();
  EXPECT_FALSE(process_alive(second));
  EXPECT_TRUE(processes_in_group(second).empty());
  EXPECT_NE(log().find("event=provider_stopped pid=" + std::to_string(second) + " status=\"exit status 0\""),
            std::string::npos);
  auto keys = reopen_keys();
  for (const char* id : {"001", "002", "003"}) EXPECT_TRUE(keys->find_by_id(id)) << id;
}

TEST_F(Serve, SigtermDuringLoadLosesNoReportedRegistrationAndLeavesNoChild) {
  const std::string socket = dir_ / "provider.sock";
  ASSERT_TRUE(start("<exec_path>" + reference_daemon() + "</exec_path><socket>" + socket +
                        "</socket><threads>4</threads><queue_size>4000</queue_size><timeout>10</timeout>",
                    "info"));
  const pid_t provider = static_cast<pid_t>(last_field(log(), "provider_started", "pid"));
  ASSERT_GT(provider, 0);

  std::atomic<int> sent{0};
  std::thread sender([&] {
    for (int i = 1; i <= 2000; ++i) {
      char request[16];
      std::snprintf(request, sizeof request, "id:%03d", i);
      if (!send_datagram(input_, request).empty()) break;  // serve stopped reading
      ++sent;
    }
  });
  // Stop in the middle of the load.
  ASSERT_TRUE(wait_log("event=registered", 50, 10s));
  serve_.signal(SIGTERM);
  sender.join();
  EXPECT_EQ(serve_.exit_code(30s), 0);
  const std::string l = log();
  EXPECT_NE(l.find("event=serve_stopped"), std::string::npos);

  // Every registration serve reported is on disk.
  std::set<std::string> reported;
  const std::string registered = "event=registered request=id:";
  for (auto at = l.find(registered); at != std::string::npos; at = l.find(registered, at + 1)) {
    const auto begin = at + registered.size();
    reported.insert(l.substr(begin, l.find(' ', begin) - begin));
  }
  EXPECT_GE(reported.size(), 50u);
  auto keys = reopen_keys();
  ASSERT_TRUE(keys);
  for (const auto& id : reported) EXPECT_TRUE(keys->find_by_id(id)) << id;
  EXPECT_EQ(keys->active_count(), reported.size());

  EXPECT_FALSE(process_alive(provider));
  EXPECT_TRUE(processes_in_group(provider).empty());
  EXPECT_FALSE(std::filesystem::exists(socket));
  std::cerr << "sent " << sent.load() << ", registered " << reported.size() << " before exit\n";
}

// Issue 11 #1: a socket provider with a listen backlog of 5 answering one
// connection at a time (5 ms each) under 32 worker threads: a full backlog
// used to end requests as io_error "send: Transport endpoint is not connected".
TEST_F(Serve, AllRequestsRegisterThroughAProviderWithASmallBacklog) {
  const std::string socket = dir_ / "provider.sock";
  const std::string provider =
      "/usr/bin/python3 " + source_path("fixtures/faulty/faulty_socket.py") + " --mode small_backlog";
  ASSERT_TRUE(start("<exec_path>" + provider + " --socket " + socket + "</exec_path><socket>" + socket +
                        "</socket><threads>32</threads><queue_size>1000</queue_size><timeout>20</timeout>",
                    "info"));
  constexpr int kRequests = 300;
  for (int i = 1; i <= kRequests; ++i) {
    char request[16];
    std::snprintf(request, sizeof request, "id:%03d", i);
    send(request);
  }
  // Every request ends registered or failed; wait for all of them.
  wait_until(
      [&] { return metric_now("keyreq_registered_total") + count(log(), "event=provider_failure") >= kRequests; }, 60s);
  EXPECT_EQ(metric_now("keyreq_registered_total"), kRequests);
  EXPECT_EQ(count(log(), "event=provider_failure"), 0u);
  const auto first_failure = log().find("event=provider_failure");
  if (first_failure != std::string::npos) ADD_FAILURE() << log().substr(first_failure, 200);
  stop();
  auto keys = reopen_keys();
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->active_count(), static_cast<std::size_t>(kRequests));
}

// Issue 11 #6: a socket provider that accepts and answers nothing sends the
// request to exec_path when exec_fallback is on (upstream 4.4+), with one log
// line saying why.
TEST_F(Serve, ExecFallbackOnAnEmptySocketAnswer) {
  const std::string socket = dir_ / "provider.sock";
  BackgroundProcess provider({"/usr/bin/python3", source_path("fixtures/faulty/faulty_socket.py"), "--mode",
                              "close_without_answer", "--socket", socket},
                             dir_ / "provider.log");
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(socket); }, 10s)) << read_file(dir_ / "provider.log");
  ASSERT_TRUE(start("<exec_path>" + reference_exec() + "</exec_path><socket>" + socket +
                    "</socket><exec_fallback>yes</exec_fallback>"));
  send("id:001");
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 1));
  EXPECT_NE(log().find("event=provider_exec_fallback request=id:001 reason=empty_answer"), std::string::npos);
  stop();
  provider.signal(SIGTERM);
  EXPECT_EQ(provider.exit_code(5s), 0);
}

// Issue 11 item 2: one writer per client.keys.
TEST_F(Serve, ResolveOnTheKeysServeHoldsExits2NamingServeAndLeavesTheFileAlone) {
  ASSERT_TRUE(start("<exec_path>" + reference_exec() + "</exec_path>"));
  send("id:001");
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 1));
  const std::string before = read_file(keys_);
  auto [code, out] = run_merged({bin("keyreq"), "resolve", "--exec", reference_exec(), "--keys", keys_, "id", "001"});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("in use by pid " + std::to_string(serve_.pid())), std::string::npos) << out;
  EXPECT_EQ(read_file(keys_), before);
  stop();
  EXPECT_EQ(reopen_keys()->active_count(), 1u);  // restarts cleanly: no duplicate id
}

TEST_F(Serve, SecondServeOnTheSameKeysExits2WithoutRepairingOrServing) {
  ASSERT_TRUE(start("<exec_path>" + reference_exec() + "</exec_path>"));
  // A torn tail the second serve would cut off if it loaded the file.
  std::ofstream(keys_, std::ios::app) << "002 agent-0";
  const std::string before = read_file(keys_);
  for (const std::string& input : {input_, dir_ / "other.sock"}) {
    auto [code, out] =
        run_merged({bin("keyreq"), "serve", "--exec", reference_exec(), "--input", input, "--keys", keys_});
    EXPECT_EQ(code, 2) << out;
    EXPECT_NE(out.find("in use by pid " + std::to_string(serve_.pid())), std::string::npos) << out;
    EXPECT_EQ(read_file(keys_), before);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "other.sock"));
  }
  send("id:003");  // the first one still serves its socket
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 1));
}

// Issue 11 item 3: a FIFO blocked open() forever with SIGTERM blocked.
TEST_F(Serve, FifoAsClientKeysExits2AtOnce) {
  std::filesystem::create_directories(dir_ / "etc");
  ASSERT_EQ(::mkfifo(keys_.c_str(), 0600), 0);
  auto [code, out] =
      run_merged({bin("keyreq"), "serve", "--exec", reference_exec(), "--home", dir_.path().string()}, 5s);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("not a regular file"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(input_));
}

// Issue 11 item 8: SIGHUP and SIGUSR1 killed serve (exit 129 / 138) with no drain.
TEST_F(Serve, SighupStopsGracefullyLikeSigterm) {
  ASSERT_TRUE(start("<exec_path>" + reference_exec() + "</exec_path>"));
  send("id:001");
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 1));
  serve_.signal(SIGHUP);
  EXPECT_EQ(serve_.exit_code(20s), 0);
  EXPECT_NE(log().find("event=serve_stopping reason=SIGHUP"), std::string::npos);
  EXPECT_NE(log().find("event=serve_stopped"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(input_));
}

TEST_F(Serve, Sigusr1LogsStatusAndSigusr2IsIgnored) {
  ASSERT_TRUE(start("<exec_path>" + reference_exec() + "</exec_path>"));
  serve_.signal(SIGUSR1);
  ASSERT_TRUE(wait_log("event=serve_status"));
  serve_.signal(SIGUSR2);
  ASSERT_TRUE(wait_log("event=signal_ignored signal=SIGUSR2"));
  serve_.signal(SIGPIPE);
  send("id:001");
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 1));
  EXPECT_FALSE(serve_.wait(0ms));
  stop();
}

TEST_F(Serve, SecondSigtermDuringTheDrainCancelsWhatWaits) {
  const std::string slow = write_script(dir_, "slow.sh", "sleep 2\nexec " + reference_exec() + " \"$@\"");
  ASSERT_TRUE(start("<exec_path>" + slow + "</exec_path><threads>1</threads><timeout>20</timeout>"));
  for (const char* id : {"id:001", "id:002", "id:003", "id:004", "id:005"}) send(id);
  ASSERT_TRUE(wait_until([&] { return metric_now("keyreq_requests_running") == 1; }, 5s));
  const auto started = std::chrono::steady_clock::now();
  serve_.signal(SIGTERM);
  ASSERT_TRUE(wait_log("event=serve_stopping"));
  serve_.signal(SIGTERM);
  EXPECT_EQ(serve_.exit_code(20s), 0);
  // Draining all five one after the other takes ≥ 8 s.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  const std::string l = log();
  EXPECT_NE(l.find("event=serve_stopping_now"), std::string::npos);
  EXPECT_GE(count(l, "event=cancelled"), 3u);
}

// `keyreq resolve` interrupted: the provider's whole group goes with it.
TEST_F(Serve, ResolveInterruptedStopsTheProviderGroupItStarted) {
  for (int sig : {SIGINT, SIGTERM}) {
    const std::string pid_file = dir_ / "provider.pid";
    std::filesystem::remove(pid_file);
    const std::string hang = write_script(dir_, "hang.sh", "echo $$ > " + pid_file + "\nsleep 30 &\nwait");
    BackgroundProcess resolve({bin("keyreq"), "resolve", "--exec", hang, "--keys", dir_ / "resolve.keys", "id", "001"},
                              dir_ / "resolve.log");
    ASSERT_TRUE(wait_until([&] { return !read_file(pid_file).empty(); }, 5s));
    std::this_thread::sleep_for(200ms);  // the sleep started
    const pid_t provider = static_cast<pid_t>(std::atoll(read_file(pid_file).c_str()));
    ASSERT_GT(provider, 0);
    ASSERT_FALSE(processes_in_group(provider).empty());
    resolve.signal(sig);
    ASSERT_TRUE(resolve.wait(5s));
    const int status = *resolve.wait_status();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "status " << status;
    EXPECT_TRUE(wait_until([&] { return processes_in_group(provider).empty(); }, 1s))
        << processes_in_group(provider).size() << " left in the provider's group after signal " << sig;
  }
}

// kill -9 of `parent` (serve or resolve): its provider must be gone within 1 s.
void expect_kill9_takes_provider_along(BackgroundProcess& parent, pid_t provider) {
  parent.signal(SIGKILL);
  parent.wait(5s);
  EXPECT_TRUE(wait_until([&] { return !process_alive(provider); }, 1s))
      << "provider " << provider << " outlived " << parent.pid();
}

// Issue 11 item 7: after kill -9 of serve or resolve, providers lived on with PPID 1.
TEST_F(Serve, SupervisedProviderDiesWithServeKilledByKill9) {
  const std::string socket = dir_ / "provider.sock";
  ASSERT_TRUE(start("<exec_path>" + reference_daemon() + "</exec_path><socket>" + socket + "</socket>"));
  const pid_t provider = static_cast<pid_t>(last_field(log(), "provider_started", "pid"));
  ASSERT_GT(provider, 0);
  expect_kill9_takes_provider_along(serve_, provider);
}

TEST_F(Serve, ExecProviderDiesWithResolveKilledByKill9) {
  const std::string pid_file = dir_ / "provider.pid";
  const std::string hang = write_script(dir_, "hang.sh", "echo $$ > " + pid_file + "\nexec sleep 30");
  BackgroundProcess resolve({bin("keyreq"), "resolve", "--exec", hang, "id", "001"}, dir_ / "resolve.log");
  ASSERT_TRUE(wait_until([&] { return !read_file(pid_file).empty(); }, 5s));
  const pid_t provider = static_cast<pid_t>(std::atoll(read_file(pid_file).c_str()));
  ASSERT_GT(provider, 0);
  expect_kill9_takes_provider_along(resolve, provider);
}

// Issue 11 item 7b: a socket already served at start-up (an orphan, an
// external daemon) was treated as unsupervised for good.
TEST_F(Serve, SocketServedByAnotherAtStartIsTakenOverWhenItGoesDown) {
  const std::string socket = dir_ / "provider.sock";
  BackgroundProcess external({bin("keyreq-provider"), "--db", db_, "--socket", socket}, dir_ / "external.log");
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(socket); }, 5s));
  ASSERT_TRUE(
      start("<exec_path>" + reference_daemon() + "</exec_path><socket>" + socket + "</socket><timeout>10</timeout>"));
  EXPECT_NE(log().find("event=provider_standby"), std::string::npos);
  send("id:001");
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 1));
  EXPECT_EQ(log().find("event=provider_started"), std::string::npos);  // not while the other serves

  external.signal(SIGKILL);
  external.wait(5s);
  ASSERT_TRUE(wait_log("event=provider_ready"));
  send("id:002");
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 2));
  EXPECT_NE(log().find("event=provider_socket_lost"), std::string::npos);
  const pid_t ours = static_cast<pid_t>(last_field(log(), "provider_started", "pid"));
  stop();
  EXPECT_FALSE(process_alive(ours));
}

// Issue 11 item 9: providers that daemonise themselves were killed and
// restarted in a loop (fork) or leaked one orphan per restart (setsid).
class DaemonisingProvider : public Serve, public ::testing::WithParamInterface<const char*> {};

TEST_P(DaemonisingProvider, IsWatchedNotRestartedAndStoppedWithServe) {
  const std::string socket = dir_ / "provider.sock";
  const std::string pid_file = dir_ / "daemon.pid";
  const std::string script = write_script(dir_, "daemonise.sh",
                                          std::string(GetParam()) + " " + reference_daemon() +
                                              " </dev/null >/dev/null 2>&1 &\necho $! > " + pid_file + "\nexit 0");
  ASSERT_TRUE(start("<exec_path>" + script + "</exec_path><socket>" + socket + "</socket><timeout>10</timeout>"));
  ASSERT_TRUE(wait_log("event=provider_daemonised"));
  send("id:001");
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 1));
  std::this_thread::sleep_for(1500ms);  // a restart loop would have started it again by now
  EXPECT_EQ(count(log(), "event=provider_started"), 1u);
  const pid_t daemon = static_cast<pid_t>(std::atoll(read_file(pid_file).c_str()));
  ASSERT_GT(daemon, 0);
  EXPECT_TRUE(process_alive(daemon));
  stop();
  EXPECT_TRUE(wait_until([&] { return !process_alive(daemon); }, 1s)) << "daemonised provider " << daemon << " leaked";
  EXPECT_NE(log().find("event=provider_leftover_stopped pid=" + std::to_string(daemon)), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(ForkAndSetsid, DaemonisingProvider, ::testing::Values("", "setsid"),
                         [](const auto& info) { return std::string(*info.param ? "setsid" : "fork"); });

// Issue 11 item 10: a provider writing stderr non-stop made 471 MB of log in
// 3 s; invalid datagrams made 5 bytes of log per byte received.
TEST_F(Serve, ProviderFloodingStderrIsCappedWithASummary) {
  const std::string socket = dir_ / "provider.sock";
  const std::string noisy = write_script(
      dir_, "noisy.sh",
      "(while :; do echo 'noise noise noise noise noise noise noise noise' >&2; done) &\nexec " + reference_daemon());
  ASSERT_TRUE(start("<exec_path>" + noisy + "</exec_path><socket>" + socket + "</socket>", "info"));
  std::this_thread::sleep_for(2s);
  send("id:001");
  ASSERT_TRUE(wait_metric("keyreq_registered_total", 1));
  stop();
  const std::string l = log();
  EXPECT_LT(l.size(), 200'000u) << "log grew to " << l.size() << " bytes";
  EXPECT_NE(l.find("event=log_suppressed source=provider_output"), std::string::npos);
}

TEST_F(Serve, InvalidDatagramFloodIsCappedWithASummary) {
  ASSERT_TRUE(start("<exec_path>" + reference_exec() + "</exec_path>", "info"));
  const std::string junk(1000, '\xff');
  for (int i = 0; i < 3000; ++i) {
    if (!send_datagram(input_, junk).empty()) std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(wait_until([&] { return metric_now("keyreq_requests_invalid_total") >= 2500; }, 10s));
  stop();
  const std::string l = log();
  EXPECT_LT(l.size(), 1'000'000u) << "log grew to " << l.size() << " bytes";
  EXPECT_NE(l.find("event=log_suppressed source=invalid_request"), std::string::npos);
}

// Issue 11, smaller: provider messages were escaped twice in the log, and
// provider_failure lines had no queue_ms.
TEST_F(Serve, ProviderMessagesAreEscapedOnceAndEveryOutcomeLineHasQueueMs) {
  const std::string script = write_script(dir_, "declines.sh",
                                          "case \"$2\" in\n"
                                          "  004) printf '%s' '{\"error\":4,\"message\":\"say \\\"no\\\"\\nnow\"}' ;;\n"
                                          "  *) echo 'broken' >&2; exit 3 ;;\n"
                                          "esac");
  ASSERT_TRUE(start("<exec_path>" + script + "</exec_path>"));
  send("id:004");
  send("id:005");
  ASSERT_TRUE(wait_log("event=declined"));
  ASSERT_TRUE(wait_log("event=provider_failure"));
  const std::string l = log();
  EXPECT_NE(l.find(R"(event=declined request=id:004 code=4 message="say \"no\"\nnow")"), std::string::npos) << l;
  EXPECT_NE(l.find(R"(stderr="broken\n")"), std::string::npos) << l;
  for (const char* event : {"event=declined", "event=provider_failure"}) {
    const auto at = l.find(event);
    ASSERT_NE(at, std::string::npos);
    EXPECT_NE(l.substr(at, l.find('\n', at) - at).find(" queue_ms="), std::string::npos) << event;
  }
  stop();
}

TEST_F(Serve, DisabledBlockServesNothing) {
  auto [code, out] = run_merged(
      {bin("keyreq"), "serve", "--config", config_file("<enabled>no</enabled>"), "--home", dir_.path().string()});
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("disabled"), std::string::npos) << out;
}

}  // namespace
}  // namespace keyreq
