#pragma once
// `keyreq bench`: the whole run — fixtures, floors, resolver over exec and
// socket, sweeps, open loop, microbenchmarks, targets — into one Report,
// then report.json, report.md, index.html and .hgrm files (docs/bench.md).
#include <chrono>
#include <functional>
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
  // The series one target line divides (resolver, floor, ...) alternate in
  // this many slices of duration / slices within each repetition (the
  // reference provider's; 1: one window each).
  int slices = 4;
  std::vector<double> open_fractions{0.5, 0.9};
  // Script providers (python, php, perl) start an interpreter per exec call
  // (tens of ms): a shorter sweep keeps the profile inside its time budget.
  int script_repetitions = 2;
  std::chrono::milliseconds script_duration{500};
  std::vector<int> script_sweep{1, 4};
  std::vector<double> script_open_fractions{0.5};
  bool keys100k_variant = true;           // exec with 100k agents loaded in client.keys
  std::size_t keystore_agents = 100'000;  // durable registration and memory figures
  std::chrono::milliseconds keystore_duration{1000};
  std::uint64_t null_requests = 200'000;  // resolver over the null provider (memory flatness)
  std::chrono::milliseconds null_duration{500};
  int micro_repetitions = 5;
  double micro_min_time = 0.05;  // seconds per repetition
  std::vector<std::string> default_providers{"reference"};
  // The user's provider (--exec / --socket): `repetitions` (the gate's U test
  // needs them), the script sweep, and each series sized by a minimum sample
  // count within a time budget, so a 40 ms/call provider still gets a p50.
  std::uint64_t user_min_samples = 50;
  std::chrono::milliseconds user_series_budget{3000};
  // Herd (through the real `keyreq serve`): N for the reference provider
  // (0: off) and for the user's provider; time budget of the exec herd.
  std::size_t herd_reference = 0;
  std::size_t herd_user = 1000;
  std::chrono::seconds herd_budget{60};
};

// quick (what `make bench` runs), ci, full, smoke (seconds, for tests); nullptr if unknown.
const Profile* find_profile(const std::string& name);
// The profile names, for --help and errors.
std::vector<std::string> profile_names();

// The user's own provider (`keyreq bench --exec/--socket/--socket-cmd --dataset`).
struct UserProviderOptions {
  std::string exec;        // command line, split as SPEC §3 says (no shell)
  std::string socket;      // a daemon serving this path (started by bench with socket_cmd)
  std::string socket_cmd;  // command line of the daemon to start
  std::string dataset;     // CSV id,name,ip,key or SQLite `agent` table (keyreq certify's loader)
  std::string name;        // label; default from the command
  bool given() const { return !exec.empty() || !socket.empty() || !socket_cmd.empty(); }
};

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
  UserProviderOptions user;
  long herd = -1;         // agents in the herd; -1: the profile's default, 0: off
  int herd_budget_s = 0;  // 0: the profile's
  // Where progress and notes go (the harness prints them; nullptr: nowhere).
  std::function<void(const std::string&)> on_progress;
  std::function<void(const std::string&)> on_note;
};

struct BenchResult {
  enum class Status { done, usage, failed };
  Status status = Status::done;  // done: measured (targets may FAIL: the gate judges)
  std::string error;             // usage / failed: what was wrong
  Report report;
};

// Runs everything into one Report; prints nothing (the harness prints the
// progress, notes and summary, and writes the reports).
BenchResult run_bench(const BenchOptions& options);

}  // namespace keyreq::bench
