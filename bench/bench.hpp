#pragma once
// `keyreq bench`: the whole run — fixtures, floors, resolver over exec and
// socket, sweeps, open loop, microbenchmarks, targets — into one Report,
// then report.json, report.md, index.html and .hgrm files (docs/bench.md).
#include <chrono>
#include <string>
#include <vector>

#include "bench/model.hpp"
#include "bench/workload.hpp"

namespace keyreq::bench {

struct Profile {
  std::string name;
  int repetitions = 3;
  std::chrono::milliseconds warmup{100};
  std::chrono::milliseconds duration{400};
  std::uint64_t min_requests = 5;
  std::vector<int> sweep{1, 2, 4, 8};
  std::vector<double> open_fractions{0.5, 0.9};
  // Script providers (python, php, perl) start an interpreter per exec call
  // (tens of ms): a shorter sweep keeps the profile inside its time budget.
  int script_repetitions = 2;
  std::chrono::milliseconds script_duration{500};
  std::vector<int> script_sweep{1, 4};
  std::vector<double> script_open_fractions{0.5};
  bool keys100k_variant = true;          // exec with 100k agents loaded in client.keys
  std::size_t keystore_agents = 100'000;  // durable registration and memory figures
  std::chrono::milliseconds keystore_duration{1000};
  std::uint64_t null_requests = 200'000;  // resolver over the null provider (memory flatness)
  std::chrono::milliseconds null_duration{500};
  int micro_repetitions = 5;
  double micro_min_time = 0.05;  // seconds per repetition
  std::vector<std::string> default_providers{"reference"};
};

// quick (what `make bench` runs, < 2 min), ci (< 1 min), full; nullptr if unknown.
const Profile* find_profile(const std::string& name);

struct BenchOptions {
  std::string profile = "quick";
  std::vector<std::string> providers;  // empty: the profile's default; "all": every provider present
  std::string out = "reports/latest";
  std::size_t agents = 10'000;
  Mix mix;
  bool validate_only = false;
  bool direct = false;  // drive Resolver instances directly instead of the dispatcher
  int inject_delay_us = 0;
  std::string workdir;  // parent of the private work directory
  bool keep_workdir = false;
  bool micro = true;
  // Overrides of the profile (0 / empty: keep the profile's value).
  int repetitions = 0;
  int duration_ms = 0;
  std::vector<int> sweep;
  std::string command_line;
  int progress = -1;  // -1: when stderr is a terminal
};

// Runs everything and writes the reports. Exit code: 0 done (targets may
// FAIL: they are reported, the gate judges), 2 usage, 3 could not measure.
int run_bench(const BenchOptions& options);

}  // namespace keyreq::bench
