#pragma once
// Counters of `keyreq serve`, rendered in the Prometheus text exposition
// format and written atomically (temporary file + rename) so a scraper never
// reads half a file. Every counter is a relaxed atomic: workers, the input
// thread and the writer touch them without a lock.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "resolver/daemon/dispatcher.hpp"
#include "resolver/resolve/outcome.hpp"

namespace keyreq {

class Metrics {
 public:
  // Upper bounds of the latency histogram buckets, in seconds (+Inf implied).
  static constexpr std::array<double, 18> kLatencyBuckets{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  // Rule ids a refusal can carry (SPEC §4 MUST rules other than E2).
  static constexpr std::array<std::string_view, 10> kRules{"D1", "D2", "E1", "S1", "S2", "S3", "S4", "S5", "C1", "C2"};

  void received();                      // a datagram arrived (valid or not)
  void submitted(SubmitStatus status);  // what the dispatcher did with it (invalid included)
  // A request finished: its outcome and the time from receipt to outcome.
  void finished(const Outcome& outcome, std::chrono::nanoseconds total);
  void cancelled();  // dropped at shutdown before a worker took it
  void provider_restarted();

  struct Gauges {
    std::size_t queue_depth = 0;
    std::size_t running = 0;
    std::optional<bool> provider_socket_up;  // only with a socket provider
    std::uint64_t keystore_batches = 0;      // KeyStore::batches_written(): one fdatasync each
  };
  std::string render(const Gauges& gauges) const;

  // Plain reads for tests and the shutdown log line.
  std::uint64_t received_count() const { return received_.load(); }
  std::uint64_t invalid_count() const { return invalid_.load(); }
  std::uint64_t deduplicated_count() const { return deduplicated_.load(); }
  std::uint64_t dropped_count() const { return queue_full_.load(); }
  std::uint64_t registered_count() const { return registered_.load(); }
  std::uint64_t provider_restart_count() const { return restarts_.load(); }

 private:
  using Counter = std::atomic<std::uint64_t>;
  Counter received_{0}, invalid_{0}, deduplicated_{0}, queue_full_{0}, stopped_{0}, cancelled_{0};
  Counter registered_{0}, accepted_{0}, already_{0}, declined_{0}, conflicts_{0}, store_failures_{0};
  std::array<Counter, kRules.size() + 1> refused_{};  // + "other"
  std::array<Counter, 6> provider_failures_{};        // by ProviderFailureClass
  Counter restarts_{0};
  std::array<Counter, kLatencyBuckets.size() + 1> latency_buckets_{};  // + +Inf; not cumulative
  Counter latency_sum_ns_{0}, latency_count_{0};
};

}  // namespace keyreq
