#pragma once
// The run (internal to keyreq_bench): fixtures up, every series measured
// with floors and resolver interleaved inside each repetition, the herd,
// global phases (null provider, memory, keystore, microbenchmarks), then
// figures, targets and "what this means" into one Report.
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>

#include "bench/bench.hpp"
#include "bench/fixture.hpp"
#include "bench/loadgen.hpp"
#include "bench/timed_calls.hpp"
#include "bench/user_provider.hpp"
#include "resolver/core/provider_client.hpp"
#include "resolver/keystore/keystore.hpp"

namespace keyreq::bench {

// Bad input found only once running (the user's daemon never came up): exit 2.
struct BenchUsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class BenchRun {
 public:
  BenchRun(const BenchOptions& o, const Profile& p) : o_(o), p_(p) {}
  // Throws BenchUsageError (usage) or std::exception (could not measure).
  Report run();

 private:
  enum class CpuFrom { none, children, group };
  // How one provider's series are sized.
  struct Sizing {
    int repetitions = 1;
    std::chrono::milliseconds duration{};
    std::vector<int> sweep;
    std::vector<double> open_fractions;
    std::uint64_t min_requests = 0;
    std::chrono::milliseconds budget{0};
    bool validate_variant = false;  // resolver without registration at c1 and the top of the sweep
    bool keys100k_variant = false;
    int slices = 1;  // a repetition's side-by-side series alternate in this many slices
  };
  // One transport of one provider.
  struct Leg {
    std::string transport;
    ProviderClient* client;
    CpuFrom cpu;
    pid_t group;
    TimedCallFactory floor;
    TimedCallFactory calibration;  // the user's provider: the same repetition's calibration floor
    TimedCallFactory startup;      // the user's exec provider: its interpreter alone
  };

  // Every input checked before anything runs (throws BenchUsageError).
  std::optional<UserProvider> check_inputs() const;
  void record_settings(const std::optional<UserProvider>& user);
  // Built-in providers (the profile's default unless the user's provider is benched), then the user's.
  std::vector<ProviderSpec> select_providers(const std::optional<UserProvider>& user,
                                             const std::filesystem::path& source_root);
  Sizing sizing_for(const ProviderSpec& p) const;
  // A closed-loop run of `sizing` at `concurrency` (warm-up, duration, minimum and budget).
  LoadSpec closed_spec(const Sizing& sizing, int concurrency) const;
  std::size_t series(const SeriesKey& key);  // index of the series (created when new)
  Repetition measure(std::size_t series, const TimedCallFactory& factory, LoadSpec spec, CpuFrom cpu, pid_t group = 0);
  using LoadRunner = std::function<LoadResult(const LoadSpec&)>;
  // A closed or open loop of `factory`'s calls over the current workload.
  LoadRunner load_runner(TimedCallFactory factory) const;
  Repetition measure_with(std::size_t series, const LoadRunner& run, LoadSpec spec, CpuFrom cpu, pid_t group);
  // One measured window (a repetition, or a slice of one) and the CPU spent in it.
  struct Window {
    LoadResult result;
    double cpu_self_s = 0;
    double cpu_provider_s = 0;
  };
  Window run_window(const LoadRunner& run, LoadSpec spec, CpuFrom cpu, pid_t group);
  // The repetition of `series` that `w` measured (the windows of its slices summed).
  Repetition record(std::size_t series, const Window& w);
  // The resolver path: through the dispatcher (default) or Resolver instances
  // driven directly by the load generator's threads (--direct). A closed
  // loop's runner keeps its dispatcher (and `keys`, null: validate only)
  // across the slices it runs.
  LoadRunner closed_resolver_runner(ProviderClient& client, std::unique_ptr<KeyStore> keys, int concurrency);
  // An open loop (spec.rate > 0) through the resolver path.
  Repetition measure_open_resolver(std::size_t series, ProviderClient& client, KeyStore* keys, const LoadSpec& spec,
                                   CpuFrom cpu, pid_t group);
  // One series of a repetition's side-by-side group.
  struct Step {
    std::size_t series;
    LoadRunner run;
    CpuFrom cpu;
    pid_t group;
  };
  // The series one target line divides, measured side by side at concurrency c.
  std::vector<Step> side_by_side_steps(const ProviderSpec& p, const Sizing& sizing, const Leg& leg, int c);
  // Each step's repetition, in `slices` slices that alternate between the
  // steps (the order reversing every slice), so that a burst of other
  // tenants' work on a shared machine lands on both sides of a ratio.
  void measure_side_by_side(const std::vector<Step>& steps, const LoadSpec& spec, int slices);
  void run_provider(const ProviderSpec& p);
  void run_repetition(const ProviderSpec& p, const Sizing& sizing, const std::vector<Leg>& legs, int rep);
  void run_open_loop(const ProviderSpec& p, const Sizing& sizing, const std::vector<Leg>& legs);
  // daemon_group: the socket daemon bench started (its CPU is measured), or 0.
  void run_herds(const ProviderSpec& p, bool socket_up, pid_t daemon_group);
  void run_null_and_memory();
  void measure_serve_memory();
  void run_keystore();
  void run_micro();
  void note(const std::string& text);
  void progress(const std::string& text) const {
    if (o_.on_progress) o_.on_progress(text);
  }
  std::unique_ptr<KeyStore> fresh_keys(const std::string& tag, const std::filesystem::path* seed = nullptr);

  const BenchOptions& o_;
  const Profile& p_;
  Report report_;
  std::unique_ptr<WorkDir> workdir_;
  std::string db_;
  Workload builtin_workload_;
  Workload user_workload_;
  const Workload* workload_ = nullptr;  // the current provider's
  std::uint64_t cursor_ = 0;            // where the next run starts in the request stream
  std::map<SeriesKey, std::size_t> index_;
  std::size_t keys_serial_ = 0;
  std::filesystem::path keys100k_;
  CallLimits limits_;
  std::string user_exec_line_;
};

}  // namespace keyreq::bench
