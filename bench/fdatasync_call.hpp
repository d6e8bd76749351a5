#pragma once
// The disk's share of a durable registration: one client.keys-sized line
// appended to a file and fdatasync'ed, timed like a floor. Measured next to
// the resolver's durable one-at-a-time run, in the same directory as its
// client.keys, so `latency_ratio_c1_durable` divides by what the file system
// costs at that moment (issue 13; docs/bench.md).
#include <filesystem>
#include <memory>

#include "bench/loadgen.hpp"

namespace keyreq::bench {

// Each probe (one per load-generator worker) appends to its own new file
// `<dir>/fdatasync-<n>.keys`; the file is removed when the probe goes.
std::unique_ptr<TimedCall> make_fdatasync_call(const std::filesystem::path& dir);

}  // namespace keyreq::bench
