#pragma once
// The herd: the day a manager loses client.keys, every agent asks at once.
// Starts the real `keyreq serve` (datagram input, dispatcher, client.keys
// with fdatasync) against a provider, fires distinct `id:` datagrams as fast
// as they can be sent, and times each one until serve reports it durable.
//
// Durability is observed through serve's log: serve writes a `registered`
// line only from the keystore's callback after the fdatasync of the batch
// holding the agent (docs/serve.md, stop sequence), and its log goes to
// stderr line by line; bench reads that pipe as it is written and stamps
// each line on arrival. So "datagram → durable" is an upper bound that
// includes the log write and the pipe read.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "bench/model.hpp"

namespace keyreq::bench {

struct HerdSpec {
  std::string provider, transport;
  std::filesystem::path keyreq;             // the keyreq binary (serve)
  std::vector<std::string> provider_flags;  // {"--exec", LINE} or {"--socket", PATH}
  std::filesystem::path dir;                // input socket, client.keys and serve's log go here
  std::vector<std::string> ids;             // N distinct agent ids the provider knows
  std::size_t fit = 0;                      // datagrams to send (exec: what fits the budget); 0: all
  unsigned threads = 8;                     // serve's workers
  std::chrono::seconds budget{60};          // give up waiting after this (what is durable then is reported)
  double floor_peak_throughput = 0;         // for the ratio (when there is no paired_floor)
  pid_t provider_group = 0;                 // the socket daemon's process group, for its CPU; 0: unknown
  // When set, run_herd_repeated measures the floor beside every repetition
  // (before it on even ones, after it on odd ones) and divides each
  // repetition by its own floor; returns that floor's repetition
  // (throughput, and CPU per request when measured).
  std::function<Repetition()> paired_floor;
};

HerdRun run_herd(const HerdSpec& spec);
// run_herd `repetitions` times (serve restarted, client.keys fresh each
// time): the repetition with the median ratio to its floor (the median rate
// without paired_floor), with every rate (and paired floor) recorded. Stops
// at the first repetition that could not run.
HerdRun run_herd_repeated(const HerdSpec& spec, int repetitions);

}  // namespace keyreq::bench
