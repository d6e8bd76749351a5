#include "conformance/certify/interruption.hpp"

#include <unistd.h>

#include <cstring>
#include <string>

#include "conformance/certify/process_runner.hpp"

namespace keyreq::certify {

StopProvidersOnSignal::StopProvidersOnSignal() {
  sigemptyset(&signals_);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals_, sig);
  ::pthread_sigmask(SIG_BLOCK, &signals_, &previous_mask_);
  watcher_ = std::thread([this] { watch(); });
}

StopProvidersOnSignal::~StopProvidersOnSignal() {
  done_ = true;
  watcher_.join();
  ::pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void StopProvidersOnSignal::watch() {
  const timespec tick{0, 100'000'000};  // how soon the destructor is noticed
  while (!done_) {
    const int sig = ::sigtimedwait(&signals_, nullptr, &tick);
    if (sig <= 0) continue;
    const std::size_t stopped = stop_running_providers();
    const std::string line = "\nkeyreq certify: interrupted (" + std::string(::strsignal(sig)) + "): stopped " +
                             std::to_string(stopped) + " running provider process group(s)\n";
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, line.data(), line.size());
    // End with the signal itself: its default action, in this thread.
    ::signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    ::raise(sig);
  }
}

}  // namespace keyreq::certify
