#pragma once
// The one result model every report format reads (hyperfine-style: the
// benchmark fills it, exporters in report_*.cpp turn it into JSON, Markdown,
// HTML and .hgrm files; `keyreq gate` reads it back from report.json).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/histogram.hpp"

namespace keyreq::bench {

// 2: typed numbers, null for what was not measured, the build type recorded
// (bench/report.schema.json describes it). The gate refuses older reports.
inline constexpr int kReportSchemaVersion = 2;

// Whether `samples` values can support a percentile (0..100): at least one
// value must lie beyond it, so p90 needs 10 samples, p99 100, p99.9 1000.
// The one rule: percentiles_of() leaves a percentile that fails it empty.
bool percentile_supported(double percentile, std::uint64_t samples);

// Microseconds. `count` is the n behind every percentile; a tail percentile
// the sample cannot support is empty, not a guess (no p99.9 from 42
// samples): null in report.json, "–" in the tables.
struct Percentiles {
  std::uint64_t count = 0;
  double mean_us = 0, p50_us = 0, max_us = 0;
  std::optional<double> p90_us, p99_us, p999_us;
};
Percentiles percentiles_of(const Histogram& h);

// What identifies a series; its id ("reference/socket/resolver/c4",
// "reference/exec/resolver/open50", "reference/exec/resolver/c1/keys100k")
// is made from it, never parsed back.
struct SeriesKey {
  std::string provider;         // reference, python, php, perl, null, calibration, or the user's --name
  std::string transport;        // exec, socket, none
  std::string path;             // floor, resolver, startup (interpreter alone), loadgen, fdatasync (the disk alone)
  std::string mode = "closed";  // closed, open
  int concurrency = 1;
  double rate_fraction = 0;  // open loop: fraction of the measured closed-loop maximum
  std::string variant;       // "" or e.g. "validate", "keys100k"
  std::string id() const;
  auto operator<=>(const SeriesKey&) const = default;

  static SeriesKey closed(std::string provider, std::string transport, std::string path, int concurrency = 1,
                          std::string variant = "") {
    return {std::move(provider), std::move(transport), std::move(path), "closed", concurrency, 0, std::move(variant)};
  }
  static SeriesKey open(std::string provider, std::string transport, std::string path, int concurrency,
                        double rate_fraction) {
    return {std::move(provider), std::move(transport), std::move(path), "open", concurrency, rate_fraction, ""};
  }
};

// One timed run of one series.
struct Repetition {
  std::uint64_t requests = 0;  // completed inside the measured window
  std::uint64_t errors = 0;    // outcome other than the one the request should get
  double wall_s = 0;
  double throughput = 0;       // requests per second
  Percentiles latency;         // open loop: from the intended send time (coordinated omission corrected)
  Percentiles service;         // from the actual send time (equal to latency in closed loop)
  double cpu_self_us = 0;      // per request: this process (load generator + resolver / floor client)
  double cpu_provider_us = 0;  // per request: provider processes (exec children, or the daemon's group)
  std::map<std::string, std::uint64_t> outcomes;
  std::string first_error;
};

struct Series {
  std::string id;         // "reference/socket/resolver/c4", "reference/exec/resolver/open50"
  std::string provider;   // reference, python, php, perl, null
  std::string transport;  // exec, socket, none
  std::string path;       // floor, resolver
  std::string mode;       // closed, open
  int concurrency = 1;
  double rate_fraction = 0;  // open loop: fraction of the measured closed-loop maximum
  double target_rate = 0;    // open loop: requests per second asked for (median over repetitions)
  std::string variant;       // "" or e.g. "keys100k" (100k agents loaded in client.keys)
  std::vector<Repetition> reps;
  Histogram histogram;          // every repetition merged (latency); not in report.json
  Percentiles all_repetitions;  // read back from report.json (where the histogram is not)
  std::string hgrm_file;
  Series() = default;
  // No repetitions yet; named and placed by `key` (the inverse of key()).
  explicit Series(const SeriesKey& key);
  SeriesKey key() const { return {provider, transport, path, mode, concurrency, rate_fraction, variant}; }
  // A point of the plain closed-loop concurrency sweep of provider/transport/path
  // (no variant such as keys100k).
  bool in_closed_sweep(const std::string& of_provider, const std::string& of_transport,
                       const std::string& of_path) const {
    return provider == of_provider && transport == of_transport && path == of_path && mode == "closed" &&
           variant.empty();
  }
  std::vector<double> throughputs() const;  // requests/s, one per repetition
};

// The herd: N distinct agents ask at once through the real `keyreq serve`
// (datagram input, dispatcher, client.keys with fdatasync).
struct HerdRun {
  std::string provider, transport;
  std::uint64_t requested = 0;  // N asked for
  std::uint64_t sent = 0;       // datagrams fired (exec: what fits the budget)
  std::uint64_t durable = 0;    // `registered` lines seen (after the batch's fdatasync)
  std::uint64_t failed = 0;     // any other outcome, or dropped
  std::uint64_t dropped = 0;    // queue full / stopping
  double seconds = 0;           // first datagram sent → last durable line seen
  double registrations_per_s = 0;
  // registrations/s of every repetition in the order run; the other fields
  // are the repetition with the median rate (empty in reports before them).
  std::vector<double> repetition_rates;
  bool extrapolated = false;  // exec: `sent` < `requested`; time for N extrapolated at the measured rate
  double seconds_for_requested = 0;
  Percentiles to_durable;  // datagram sent → durable line seen by bench (serve's log, read as written)
  Percentiles queue_wait;  // serve's own figure: receipt → a worker took it (log queue_ms)
  Percentiles in_serve;    // serve's own figure: receipt → durable outcome (log total_ms)
  // The floor throughput this run's ratio divides by: with floors measured
  // beside the repetitions, the one beside the median repetition; otherwise
  // the best floor throughput of the run (same provider and transport).
  double floor_peak_throughput = 0;
  // The floor measured beside each repetition, in the order of
  // repetition_rates (empty when the run's best floor is used for all).
  std::vector<double> repetition_floors;
  // CPU time per durable agent, µs (0: not measured): keyreq serve (all its
  // threads, its own CPU-time clock) and the provider (the socket daemon's
  // process group when bench started it; over exec, the children serve
  // reaped, in 10 ms ticks). Where the herd's time goes when both cores are
  // busy (docs/bench.md).
  double serve_cpu_us = 0;
  double provider_cpu_us = 0;
  // bench's requester (the herd's counterpart of the floor's client): the
  // thread sending the datagrams and the one reading serve's log. It runs on
  // the same cores.
  double requester_cpu_us = 0;
  // The same per request for the floor beside this repetition: bench's
  // client (what serve does instead, and more) and the provider.
  double floor_client_cpu_us = 0;
  double floor_provider_cpu_us = 0;
  std::string error;  // could not run
};

// rates[i] / floors[i] (0 where that floor is not positive); with `floors`
// not one per rate, every rate over `common_floor` instead.
std::vector<double> ratios_to_floors(const std::vector<double>& rates, const std::vector<double>& floors,
                                     double common_floor);
// registrations/s over the floor, one per repetition: each against the floor
// measured beside it when there is one, else against floor_peak_throughput.
std::vector<double> herd_floor_ratios(const HerdRun& h);
// The ratio to the floor the CPU allows when both sides keep every core busy
// (the floor is CPU-bound on a small machine): (floor client + provider) /
// (serve + provider + requester) CPU per request. 0 when one of them was not
// measured (the requester counts as 0 in reports from before it was).
double herd_cpu_bound(const HerdRun& h);

// One line of "what this means": a sentence made of measured numbers, with
// the series / figures it was computed from.
struct Interpretation {
  std::string text;
  std::vector<std::string> sources;
};

// Percentiles over every repetition merged: from the histogram when there is
// one, else what report.json recorded.
Percentiles merged_percentiles(const Series& s);

// A figure measured once per repetition, judged by the gate.
struct Figure {
  std::string id;           // "reference/exec/latency_ratio_c1"
  std::string description;  // what it is, for humans
  std::string better;       // "lower" or "higher"
  bool gated = false;       // judged by `keyreq gate`
  double tolerance = 0;     // gate: relative change allowed in the bad direction
  std::vector<double> values;
};

// One Google Benchmark microbenchmark: per-repetition real times.
struct Micro {
  std::string name;
  std::vector<double> ns;      // one per repetition, real (wall) nanoseconds per iteration
  std::vector<double> cpu_ns;  // one per repetition, CPU nanoseconds per iteration (robust to a busy machine)
  double items_per_second = 0;
};

struct PerformanceTarget {
  std::string name;         // DESIGN.md wording, short
  std::string requirement;  // "ratio <= 1.10"
  std::string measured;     // "1.04 (resolver p50 812 µs / floor p50 781 µs)"
  double value = 0;         // the number compared with the threshold
  bool measured_ok = true;  // false: could not be measured in this run (reported, not PASS)
  bool pass = false;
};

// CMAKE_BUILD_TYPE this keyreq was built with ("Release", "Debug", ...).
std::string this_build_type();

struct Report {
  int schema_version = kReportSchemaVersion;
  std::string created;  // ISO 8601 UTC
  std::string command_line;
  std::string profile;
  std::map<std::string, std::string> machine;
  std::map<std::string, std::string> versions;
  std::map<std::string, std::string> settings;
  std::string git_commit;
  bool git_dirty = false;
  std::string build_type = this_build_type();  // CMAKE_BUILD_TYPE of the keyreq that measured
  std::vector<std::string> providers;
  std::vector<std::string> notes;
  std::vector<Series> series;
  std::vector<Figure> figures;
  std::vector<Micro> micro;
  std::map<std::string, double> measurements;  // single figures (memory, keystore rates, ...)
  std::vector<PerformanceTarget> targets;
  std::vector<HerdRun> herd;
  std::vector<Interpretation> interpretation;
  double elapsed_s = 0;

  const Series* find_series(const std::string& id) const;
  const Series* find_series(const SeriesKey& key) const;
  const Figure* find_figure(const std::string& id) const;
  // Whether the resolver series registered into client.keys (not --validate-only).
  bool registers() const;
  // The variant of the resolver series measured without registration:
  // "validate", or "" in a --validate-only run, where every series is.
  std::string unregistered_variant() const { return registers() ? "validate" : ""; }
};

}  // namespace keyreq::bench
