#include "resolver/daemon/metrics.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "resolver/platform/number_format.hpp"

namespace keyreq {

namespace {

constexpr auto relaxed = std::memory_order_relaxed;

constexpr std::array<ProviderFailureClass, 6> kFailureClasses{
    ProviderFailureClass::cannot_start, ProviderFailureClass::exit_code,        ProviderFailureClass::signal,
    ProviderFailureClass::timeout,      ProviderFailureClass::output_too_large, ProviderFailureClass::io_error};

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void counter(std::string& out, std::string_view name, std::string_view help, std::uint64_t value) {
  header(out, name, "counter", help);
  sample(out, name, {}, value);
}

std::string format_double(double v) { return format::general(v, 9); }

}  // namespace

void Metrics::received() { received_.fetch_add(1, relaxed); }

void Metrics::submitted(SubmitStatus status) {
  switch (status) {
    case SubmitStatus::accepted: break;
    case SubmitStatus::deduplicated: deduplicated_.fetch_add(1, relaxed); break;
    case SubmitStatus::queue_full: queue_full_.fetch_add(1, relaxed); break;
    case SubmitStatus::invalid: invalid_.fetch_add(1, relaxed); break;
    case SubmitStatus::stopped: stopped_.fetch_add(1, relaxed); break;
  }
}

void Metrics::finished(const Outcome& outcome, std::chrono::nanoseconds total) {
  std::visit(
      [this](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, outcome::Registered>)
          registered_.fetch_add(1, relaxed);
        else if constexpr (std::is_same_v<T, outcome::Accepted>)
          accepted_.fetch_add(1, relaxed);
        else if constexpr (std::is_same_v<T, outcome::AlreadyRegistered>)
          already_.fetch_add(1, relaxed);
        else if constexpr (std::is_same_v<T, outcome::Declined>)
          declined_.fetch_add(1, relaxed);
        else if constexpr (std::is_same_v<T, outcome::Conflict>)
          conflicts_.fetch_add(1, relaxed);
        else if constexpr (std::is_same_v<T, outcome::StoreFailed>)
          store_failures_.fetch_add(1, relaxed);
        else if constexpr (std::is_same_v<T, outcome::InvalidRequest>)
          invalid_.fetch_add(1, relaxed);
        else if constexpr (std::is_same_v<T, outcome::Refused>) {
          std::size_t i = 0;
          while (i < kRules.size() && kRules[i] != o.rule) ++i;
          refused_[i].fetch_add(1, relaxed);
        } else if constexpr (std::is_same_v<T, outcome::ProviderFailed>) {
          std::size_t i = 0;
          while (i < kFailureClasses.size() && kFailureClasses[i] != o.failure) ++i;
          if (i < provider_failures_.size()) provider_failures_[i].fetch_add(1, relaxed);
        }
      },
      outcome);
  const double seconds = std::chrono::duration<double>(total).count();
  std::size_t bucket = 0;
  while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
  latency_buckets_[bucket].fetch_add(1, relaxed);
  latency_sum_ns_.fetch_add(static_cast<std::uint64_t>(total.count() < 0 ? 0 : total.count()), relaxed);
  latency_count_.fetch_add(1, relaxed);
}

void Metrics::cancelled() { cancelled_.fetch_add(1, relaxed); }
void Metrics::provider_restarted() { restarts_.fetch_add(1, relaxed); }

std::string Metrics::render(const Gauges& gauges) const {
  std::string out;
  out.reserve(4096);
  counter(out, "keyreq_requests_received_total", "Datagrams received on the input socket.", received_.load(relaxed));
  counter(out, "keyreq_requests_invalid_total", "Requests refused before any provider call (SPEC 2).",
          invalid_.load(relaxed));
  counter(out, "keyreq_requests_deduplicated_total", "Requests dropped because the same request was in flight.",
          deduplicated_.load(relaxed));
  header(out, "keyreq_requests_dropped_total", "counter", "Requests dropped without an answer, by reason.");
  sample(out, "keyreq_requests_dropped_total", "reason=\"queue_full\"", queue_full_.load(relaxed));
  sample(out, "keyreq_requests_dropped_total", "reason=\"stopping\"", stopped_.load(relaxed));
  sample(out, "keyreq_requests_dropped_total", "reason=\"cancelled_at_shutdown\"", cancelled_.load(relaxed));
  counter(out, "keyreq_registered_total", "Agents registered in client.keys.", registered_.load(relaxed));
  counter(out, "keyreq_already_registered_total", "Answers identical to an entry already in client.keys.",
          already_.load(relaxed));
  counter(out, "keyreq_declined_total", "Provider answers with error != 0.", declined_.load(relaxed));
  header(out, "keyreq_refused_total", "counter", "Provider answers refused, by the SPEC 4 rule they broke.");
  for (std::size_t i = 0; i < kRules.size(); ++i) {
    sample(out, "keyreq_refused_total", "rule=\"" + std::string(kRules[i]) + "\"", refused_[i].load(relaxed));
  }
  sample(out, "keyreq_refused_total", "rule=\"other\"", refused_[kRules.size()].load(relaxed));
  counter(out, "keyreq_conflicts_total", "Valid answers refused by client.keys uniqueness (force_insert off).",
          conflicts_.load(relaxed));
  header(out, "keyreq_provider_failures_total", "counter", "Provider calls that gave no answer, by class.");
  for (std::size_t i = 0; i < kFailureClasses.size(); ++i) {
    sample(out, "keyreq_provider_failures_total", "class=\"" + std::string(to_string(kFailureClasses[i])) + "\"",
           provider_failures_[i].load(relaxed));
  }
  counter(out, "keyreq_store_failures_total", "Registrations client.keys could not write.",
          store_failures_.load(relaxed));
  counter(out, "keyreq_provider_restarts_total", "Restarts of the supervised socket provider.",
          restarts_.load(relaxed));

  counter(out, "keyreq_keystore_batches_total",
          "Batches appended to client.keys, one write and one fdatasync each (group commit).", gauges.keystore_batches);
  header(out, "keyreq_queue_depth", "gauge", "Requests waiting for a worker.");
  sample(out, "keyreq_queue_depth", {}, gauges.queue_depth);
  header(out, "keyreq_requests_running", "gauge", "Requests a worker is resolving.");
  sample(out, "keyreq_requests_running", {}, gauges.running);
  if (gauges.provider_socket_up) {
    header(out, "keyreq_provider_socket_up", "gauge", "1 when the provider socket accepted the last connection.");
    sample(out, "keyreq_provider_socket_up", {}, *gauges.provider_socket_up ? 1 : 0);
  }

  constexpr std::string_view hist = "keyreq_request_duration_seconds";
  header(out, hist, "histogram", "Time from receipt to outcome (queue wait, provider, validation, fsync).");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    cumulative += latency_buckets_[i].load(relaxed);
    sample(out, "keyreq_request_duration_seconds_bucket", "le=\"" + format_double(kLatencyBuckets[i]) + "\"",
           cumulative);
  }
  cumulative += latency_buckets_[kLatencyBuckets.size()].load(relaxed);
  sample(out, "keyreq_request_duration_seconds_bucket", "le=\"+Inf\"", cumulative);
  out += "keyreq_request_duration_seconds_sum " +
         format_double(static_cast<double>(latency_sum_ns_.load(relaxed)) / 1e9) + "\n";
  sample(out, "keyreq_request_duration_seconds_count", {}, latency_count_.load(relaxed));
  return out;
}

}  // namespace keyreq
