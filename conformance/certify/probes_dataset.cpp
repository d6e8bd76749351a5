// Dataset records: a sample spread over the dataset, by id and by address,
// each answered with exactly its record (DATA).
#include "conformance/certify/probe.hpp"

namespace keyreq::certify {

ProbeGroup dataset_probes(ProbeContext& ctx) {
  const DatasetView& data = ctx.data;
  ProbeGroup g{"dataset", {}, true};
  for (std::size_t i : data.sample) {
    const auto& a = data.agents[i];
    if (i != 0) {  // the first agent is smoke.known-id
      g.probes.push_back(lookup_probe(ctx, Request{RequestKind::id, a.id}, expect_record(a), "dataset.id." + a.id,
                                      "dataset",
                                      "id " + a.id + " (agent " + std::to_string(i + 1) + " of " +
                                          std::to_string(data.agents.size()) + ") gets exactly its dataset record"));
    }
    if (data.ip_lookup_ok(a) && (!data.known_ip || a.ip != data.known_ip->ip)) {
      g.probes.push_back(lookup_probe(ctx, Request{RequestKind::ip, a.ip}, expect_record(a), "dataset.ip." + a.ip,
                                      "dataset", "address " + a.ip + " gets exactly the record of agent " + a.id));
    }
  }
  return g;
}

}  // namespace keyreq::certify
