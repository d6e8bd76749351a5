#pragma once
// The request stream: a deterministic sequence drawn from the dataset with a
// configurable mix (by id, by ip, unknown ids, invalid requests) and key
// popularity (uniform or Zipf). Floors and resolver runs replay the same stream.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dataset/dataset.hpp"

namespace keyreq::bench {

enum class Expect { answer, decline, invalid };

struct WorkItem {
  std::string raw;   // "id:001": the socket bytes, the datagram
  std::string kind;  // "id" / "ip": exec argv words
  std::string value;
  Expect expect = Expect::answer;
  // Expect::answer: index in Workload::agents of the record the answer must
  // carry (a fast provider answering the wrong agent must not look good).
  std::size_t agent = 0;
};

struct Mix {
  double by_id = 80, by_ip = 15, unknown = 5, invalid = 0;  // weights
  double zipf = 0;                                          // 0: uniform over the dataset; s > 0: Zipf exponent s
  std::string describe() const;
};
// "id=80,ip=15,unknown=5,invalid=0" (any subset; missing weights are 0) → Mix.
bool parse_mix(const std::string& text, Mix& mix, std::string& error);

struct Workload {
  std::vector<fixtures::DatasetAgent> agents;  // the dataset the requests are drawn from
  std::vector<WorkItem> items;
  const WorkItem& at(std::uint64_t i) const { return items[i % items.size()]; }
  // The record an answer to `item` must carry (only for Expect::answer).
  const fixtures::DatasetAgent& expected(const WorkItem& item) const { return agents[item.agent]; }
};

// Requests over `agents` (not empty). Unknown ids are ids of the valid form
// that no agent of the dataset has.
Workload make_workload(std::vector<fixtures::DatasetAgent> agents, const Mix& mix, std::size_t length,
                       std::uint64_t seed);
// The built-in deterministic dataset: agents 0 … n-1 (fixtures::dataset_agent).
Workload make_workload(std::size_t agents, const Mix& mix, std::size_t length, std::uint64_t seed);

}  // namespace keyreq::bench
