#include "bench/timed_calls.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "dataset/dataset.hpp"
#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/json_document_end.hpp"
#include "resolver/platform/posix_spawn_launcher.hpp"
#include "resolver/resolve/resolver.hpp"

namespace keyreq::bench {

namespace {

const AgentRecord* answered_agent(const Outcome& o) {
  if (const auto* r = std::get_if<outcome::Registered>(&o)) return &r->agent;
  if (const auto* a = std::get_if<outcome::Accepted>(&o)) return &a->agent;
  if (const auto* a = std::get_if<outcome::AlreadyRegistered>(&o)) return &a->agent;
  return nullptr;
}

// Expected outcome of a resolved request (the dispatcher rejects invalid ones
// before). An answer must carry exactly the dataset's record; `error` says
// what differed.
bool expected(const Workload& workload, const WorkItem& item, const Outcome& o, std::string& error) {
  switch (item.expect) {
    case Expect::answer: {
      const AgentRecord* got = answered_agent(o);
      if (got == nullptr) return false;
      const auto& want = workload.expected(item);
      if (got->id == want.id && got->name == want.name && got->ip == want.ip && got->key == want.key) return true;
      error = "wrong agent for " + item.raw + ": got id " + got->id + " name " + got->name + " ip " + got->ip +
              (got->key == want.key ? "" : " (key differs)") + ", dataset has id " + want.id + " name " + want.name +
              " ip " + want.ip;
      return false;
    }
    case Expect::decline: return std::holds_alternative<outcome::Declined>(o);
    case Expect::invalid: return std::holds_alternative<outcome::InvalidRequest>(o);
  }
  return false;
}

class ResolverProbe final : public TimedCall {
 public:
  ResolverProbe(ProviderClient& provider, KeyStore* keys, const Workload& workload)
      : resolver_(provider, keys), workload_(workload) {}
  Result call(const WorkItem& item, std::string& error) override {
    const Outcome o = resolver_.resolve(item.raw);
    std::string_view name = outcome_name(o);
    const bool ok = expected(workload_, item, o, error);
    if (!ok && error.empty())
      error = outcome_json(o, item.raw);
    else if (!ok)
      name = "wrong_agent";
    return {ok, name};
  }

 private:
  Resolver resolver_;
  const Workload& workload_;
};

class ExecFloorProbe final : public TimedCall {
 public:
  explicit ExecFloorProbe(std::vector<std::string> command) : command_(std::move(command)) {
    argv_storage_ = command_;
    argv_storage_.emplace_back();
    argv_storage_.emplace_back();
  }
  Result call(const WorkItem& item, std::string& error) override {
    argv_storage_[argv_storage_.size() - 2] = item.kind;
    argv_storage_[argv_storage_.size() - 1] = item.value;
    std::vector<char*> argv;
    argv.reserve(argv_storage_.size() + 1);
    for (auto& a : argv_storage_) argv.push_back(a.data());
    argv.push_back(nullptr);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      error = "pipe: " + errno_text(errno);
      return {false, "spawn_failed"};
    }
    // The kit's lowest-level call with nothing added: no process group, no
    // PDEATHSIG (the child is waited for below), like a bare posix_spawn.
    pid_t pid = -1;
    const int rc = spawn_process(argv[0], argv.data(), SpawnStdio{dev_null_fd(O_RDONLY), fds[1], dev_null_fd(O_WRONLY)},
                                 SpawnOptions{.new_process_group = false, .parent_death_signal = 0}, pid);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      error = "spawn: " + errno_text(rc);
      return {false, "spawn_failed"};
    }
    std::size_t got = 0;
    char buf[16384];
    while (true) {
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n > 0) {
        got += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got == 0) {
      error = "exit status " + std::to_string(status) + ", " + std::to_string(got) + " bytes";
      return {false, "bad_exit"};
    }
    return {true, "answered"};
  }

 private:
  std::vector<std::string> command_;
  std::vector<std::string> argv_storage_;
};

class SocketFloorProbe final : public TimedCall {
 public:
  explicit SocketFloorProbe(const std::string& path) {
    std::memset(&addr_, 0, sizeof addr_);
    addr_.sun_family = AF_UNIX;
    std::strncpy(addr_.sun_path, path.c_str(), sizeof addr_.sun_path - 1);
  }
  Result call(const WorkItem& item, std::string& error) override {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = "socket: " + errno_text(errno);
      return {false, "io_error"};
    }
    Result r{true, "answered"};
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_) != 0) {
      error = "connect: " + errno_text(errno);
      r = {false, "connect_failed"};
    } else if (::send(fd, item.raw.data(), item.raw.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(item.raw.size())) {
      error = "send: " + errno_text(errno);
      r = {false, "io_error"};
    } else {
      // Read until EOF or until one JSON document is complete (the socket client's scanner).
      char buf[8192];
      std::size_t got = 0;
      JsonDocumentEnd scanner;
      while (!scanner.complete()) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
        scanner.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      }
      if (got == 0) {
        error = "empty reply";
        r = {false, "empty_reply"};
      }
    }
    ::close(fd);
    return r;
  }

 private:
  sockaddr_un addr_;
};

Completion finished_to_completion(const Workload& workload, const WorkItem& item, const Finished& f) {
  Completion c{false, "cancelled", 0, {}};
  c.service_ns = static_cast<std::uint64_t>(
      std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(f.timing.service()).count()));
  if (f.cancelled()) {
    c.error = "cancelled by stop()";
    return c;
  }
  c.ok = expected(workload, item, *f.outcome, c.error);
  c.outcome = outcome_name(*f.outcome);
  if (!c.ok && c.error.empty())
    c.error = outcome_json(*f.outcome, item.raw);
  else if (!c.ok)
    c.outcome = "wrong_agent";
  return c;
}

// Submission refused: expected only for an invalid request; a duplicate in
// flight is dropped by design (SPEC §2) and counted, not an error.
Completion refused(const WorkItem& item, SubmitStatus status) {
  Completion c{false, to_string(status), 0, {}};
  c.ok = (status == SubmitStatus::invalid && item.expect == Expect::invalid) || status == SubmitStatus::deduplicated;
  if (!c.ok) c.error = "submit: " + std::string(to_string(status));
  return c;
}

class DispatcherProbe final : public TimedCall {
 public:
  DispatcherProbe(Dispatcher& d, ProviderClient& provider, KeyStore* keys, const Workload& workload)
      : d_(d), own_(provider, keys), workload_(workload) {}
  Result call(const WorkItem& item, std::string& error) override {
    done_.store(0, std::memory_order_relaxed);
    // This thread only waits for the answer: resolve here when a worker is idle.
    const SubmitStatus status = d_.submit_or_run(
        std::string_view(item.raw),
        [this, &item](const Finished& f) {
          last_ = finished_to_completion(workload_, item, f);
          done_.store(1, std::memory_order_release);
          done_.notify_one();
        },
        own_, RunHere::when_worker_idle);
    if (status != SubmitStatus::accepted) {
      const Completion c = refused(item, status);
      error = c.error;
      return {c.ok, c.outcome};
    }
    done_.wait(0, std::memory_order_acquire);
    if (!last_.ok) error = last_.error;
    return {last_.ok, last_.outcome};
  }

 private:
  Dispatcher& d_;
  Resolver own_;  // this load-generator thread's, for submit_or_run
  const Workload& workload_;
  std::atomic<int> done_{0};
  Completion last_{};
};

class NullProbe final : public TimedCall {
 public:
  Result call(const WorkItem& item, std::string&) override {
    sink_ += item.raw.size();  // touch the request as a real probe would
    return {true, "none"};
  }

 private:
  std::size_t sink_ = 0;
};

}  // namespace

std::unique_ptr<TimedCall> make_dispatcher_call(Dispatcher& dispatcher, ProviderClient& provider, KeyStore* keys,
                                                const Workload& workload) {
  return std::make_unique<DispatcherProbe>(dispatcher, provider, keys, workload);
}

AsyncSubmit dispatcher_submit(Dispatcher& dispatcher, const Workload& workload) {
  return [&dispatcher, &workload](const WorkItem& item, DoneFn done) {
    const SubmitStatus status = dispatcher.submit(
        std::string_view(item.raw),
        [&workload, &item, done](const Finished& f) { done(finished_to_completion(workload, item, f)); });
    if (status == SubmitStatus::accepted) return true;
    done(refused(item, status));
    return false;
  };
}

std::unique_ptr<TimedCall> make_null_call() { return std::make_unique<NullProbe>(); }

std::unique_ptr<TimedCall> make_resolver_call(ProviderClient& provider, KeyStore* keys, const Workload& workload) {
  return std::make_unique<ResolverProbe>(provider, keys, workload);
}

std::unique_ptr<TimedCall> make_exec_floor_call(const std::vector<std::string>& command) {
  return std::make_unique<ExecFloorProbe>(command);
}

std::unique_ptr<TimedCall> make_socket_floor_call(const std::string& socket_path) {
  return std::make_unique<SocketFloorProbe>(socket_path);
}

NullProvider::NullProvider(std::size_t agents) {
  answers_.reserve(agents);
  for (std::size_t i = 0; i < agents; ++i) {
    const auto a = fixtures::dataset_agent(i);
    std::string answer = "{\"error\":0,\"data\":{\"id\":\"" + a.id + "\",\"name\":\"" + a.name + "\",\"ip\":\"" + a.ip +
                         "\",\"key\":\"" + a.key + "\"}}";
    answers_.emplace("id:" + a.id, answer);
    answers_.emplace("ip:" + a.ip, std::move(answer));
  }
}

ProviderResult NullProvider::call(const Request& request) {
  const auto it = answers_.find(request.wire());
  if (it == answers_.end()) return ProviderOutput{"{\"error\":1,\"message\":\"not found\"}", {}};
  return ProviderOutput{it->second, {}};
}

ProviderResult DelayedProvider::call(const Request& request) {
  std::this_thread::sleep_for(delay_);
  return inner_.call(request);
}

}  // namespace keyreq::bench
