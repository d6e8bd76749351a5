#pragma once
// Ctrl-C, SIGTERM or SIGHUP during `keyreq certify`: the providers it
// started run in their own process groups (so a timeout can kill all they
// started), which also keeps the terminal's SIGINT from reaching them. This
// guard stops every one of those groups before certify ends with the signal
// (exit status 128 + N, as an interrupted command should).
//
// Construct it before any thread starts: the stop signals are blocked in
// every thread and taken by one watcher thread with sigtimedwait.
#include <signal.h>

#include <atomic>
#include <thread>

namespace keyreq::certify {

class StopProvidersOnSignal {
 public:
  StopProvidersOnSignal();
  ~StopProvidersOnSignal();
  StopProvidersOnSignal(const StopProvidersOnSignal&) = delete;
  StopProvidersOnSignal& operator=(const StopProvidersOnSignal&) = delete;

 private:
  void watch();

  sigset_t signals_{};
  sigset_t previous_mask_{};
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

}  // namespace keyreq::certify
