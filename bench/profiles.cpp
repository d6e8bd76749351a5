// The profiles of `keyreq bench` (docs/bench.md, "Profiles").
#include "bench/bench.hpp"

namespace keyreq::bench {

using namespace std::chrono_literals;

namespace {
const std::vector<Profile>& profiles() {
  static const std::vector<Profile> all = [] {
    std::vector<Profile> v;
    Profile quick;
    quick.name = "quick";
    // Five, like ci: with three, the exec line's median flipped between
    // runs (repetitions read 0.80 to 1.52 of the floor on a busy minute).
    quick.repetitions = 5;
    quick.default_providers = {"all"};
    quick.herd_reference = 10'000;
    quick.herd_budget = 15s;  // exec: what fits, the rest extrapolated
    v.push_back(quick);

    Profile ci;
    ci.name = "ci";
    ci.repetitions = 5;  // the U test needs repetitions
    ci.warmup = 60ms;
    ci.duration = 250ms;
    ci.sweep = {1, 4};
    ci.slices = 2;  // 125 ms each
    ci.open_fractions = {0.5};
    ci.script_repetitions = 2;
    ci.script_duration = 300ms;
    ci.script_sweep = {1};
    ci.script_open_fractions = {};
    ci.keystore_duration = 500ms;
    ci.null_requests = 100'000;
    ci.null_duration = 300ms;
    ci.micro_repetitions = 5;
    ci.micro_min_time = 0.03;
    ci.user_min_samples = 30;
    ci.user_series_budget = 2000ms;
    ci.herd_user = 200;
    ci.herd_budget = 10s;
    v.push_back(ci);

    Profile full;
    full.name = "full";
    full.repetitions = 7;
    full.warmup = 300ms;
    full.duration = 2000ms;
    full.min_requests = 20;
    full.open_fractions = {0.25, 0.5, 0.75, 0.9};
    full.script_repetitions = 3;
    full.script_duration = 2000ms;
    full.script_sweep = {1, 2, 4, 8};
    full.script_open_fractions = {0.5, 0.9};
    full.keystore_duration = 3000ms;
    full.null_requests = 1'000'000;
    full.null_duration = 2000ms;
    full.micro_repetitions = 9;
    full.micro_min_time = 0.2;
    full.default_providers = {"all"};
    full.user_min_samples = 200;
    full.user_series_budget = 10000ms;
    full.herd_reference = 50'000;
    full.herd_user = 10'000;
    v.push_back(full);

    // Seconds, for the gate's own end-to-end tests; not a measurement to read.
    Profile smoke;
    smoke.name = "smoke";
    smoke.repetitions = 5;
    smoke.warmup = 30ms;
    smoke.duration = 120ms;
    smoke.sweep = {1, 4};
    smoke.slices = 2;  // so that the tests run the slicing too
    smoke.open_fractions = {};
    smoke.script_sweep = {1, 4};
    smoke.script_open_fractions = {};
    smoke.keys100k_variant = false;
    smoke.keystore_agents = 1000;
    smoke.keystore_duration = 100ms;
    smoke.null_requests = 20'000;
    smoke.null_duration = 100ms;
    smoke.micro_repetitions = 0;
    smoke.user_min_samples = 8;
    smoke.user_series_budget = 600ms;
    smoke.herd_user = 0;
    smoke.herd_budget = 10s;
    v.push_back(smoke);
    return v;
  }();
  return all;
}
}  // namespace

const Profile* find_profile(const std::string& name) {
  for (const auto& p : profiles())
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<std::string> profile_names() {
  std::vector<std::string> names;
  for (const auto& p : profiles()) names.push_back(p.name);
  return names;
}

}  // namespace keyreq::bench
