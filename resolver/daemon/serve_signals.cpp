#include "resolver/daemon/serve_signals.hpp"

#include <signal.h>
#include <string.h>
#include <time.h>

#include <atomic>
#include <thread>

#include "resolver/daemon/log.hpp"

namespace keyreq {

namespace {

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&set, sig);
  return set;
}

bool is_stop_signal(int sig) { return sig == SIGTERM || sig == SIGINT || sig == SIGHUP; }

const char* signal_name(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    default: return "signal";
  }
}

// Waits up to `timeout` for a handled signal; answers SIGUSR1/SIGUSR2 itself.
// Returns the stop signal taken, or 0.
int take_signal(Server& server, std::chrono::milliseconds timeout) {
  const sigset_t set = handled_signals();
  const timespec wait{static_cast<time_t>(timeout.count() / 1000),
                      static_cast<long>(timeout.count() % 1000) * 1'000'000};
  const int sig = ::sigtimedwait(&set, nullptr, &wait);
  if (sig <= 0) return 0;
  if (is_stop_signal(sig)) return sig;
  if (sig == SIGUSR1) {
    server.log_status();
    server.write_metrics();
  } else {
    log::info("signal_ignored", {log::kv("signal", signal_name(sig))});
  }
  return 0;
}

}  // namespace

void block_serve_signals() {
  const sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

int serve_until_signalled(Server& server) {
  int first = 0;
  if (!server.start([&] { return (first = take_signal(server, std::chrono::milliseconds(0))) != 0; })) return 0;
  while (first == 0) {
    server.tick();
    first = take_signal(server, std::chrono::seconds(1));
  }
  // The drain runs beside this thread, which keeps taking signals: a second
  // stop signal cancels what is still waiting.
  std::atomic<bool> done{false};
  std::thread stopper([&] {
    server.stop(signal_name(first));
    done = true;
  });
  while (!done) {
    const int again = take_signal(server, std::chrono::milliseconds(100));
    if (again != 0) {
      log::warn("signal_during_stop", {log::kv("signal", signal_name(again))});
      server.cancel_waiting();
    }
  }
  stopper.join();
  return 0;
}

}  // namespace keyreq
