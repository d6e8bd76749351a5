#pragma once
// The probe catalogue. Certification is a sequence of probe groups, one file
// each (docs/certify.md, "Probes", names the file of every probe id):
//   probes_smoke.cpp          smoke.*, socket.no-half-close, socket.health-check
//   probes_dataset.cpp        dataset.id.*, dataset.ip.*
//   probes_request_forms.cpp  form.id.*, form.ip.*   (every valid request form, SPEC §2)
//   probes_adversarial.cpp    adversarial.*          (payloads.cpp holds the requests)
//   probes_parallel.cpp       parallel.consistent, socket.concurrent-connections
//   probes_transport.cpp      exec.stderr, socket.request-in-pieces, socket.reply-in-one-write,
//                             socket.still-serving
// The MUST and SHOULD rules are judged on every answer by judge.cpp; the
// timing summary is kept by target.cpp. certify() (certifier.cpp) only builds
// the groups in order, runs them and collects the results.
#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "conformance/certify/certificate.hpp"
#include "conformance/certify/certifier.hpp"
#include "conformance/certify/judge.hpp"
#include "conformance/certify/provider_under_test.hpp"
#include "dataset/dataset.hpp"
#include "resolver/core/request.hpp"

namespace keyreq::certify {

struct ProbeSpec {
  std::string id, group, title;  // group: the JUnit classname suffix ("smoke", "socket", ...)
  std::function<void(ProbeResult&)> body;
  bool always_runs = false;  // not subject to the stop after repeated failures
};

struct ProbeGroup {
  std::string name;
  std::vector<ProbeSpec> probes;
  bool pooled = false;  // independent probes: run on the --parallel workers
};

// What the dataset offers the probes.
struct DatasetView {
  explicit DatasetView(const std::vector<fixtures::DatasetAgent>& agents, std::size_t sample_size);

  const std::vector<fixtures::DatasetAgent>& agents;
  const fixtures::DatasetAgent& known;             // the first agent
  std::optional<fixtures::DatasetAgent> known_ip;  // the first agent with a plain address unique in the dataset
  std::string unknown_id;                          // an id no agent has ("" if none found)
  std::string unknown_ip;                          // a TEST-NET address no dataset network covers ("" if none)
  std::vector<std::size_t> sample;                 // indexes spread over the dataset

  // The address is plain and names this agent only: it can be looked up.
  bool ip_lookup_ok(const fixtures::DatasetAgent& a) const;
  // The agent with exactly this id (its spelling), if any.
  const fixtures::DatasetAgent* with_id(const std::string& id) const;
  // The agent whose plain address is exactly this spelling and unique, if any.
  const fixtures::DatasetAgent* with_ip(const std::string& ip) const;

 private:
  std::unordered_map<std::string, std::size_t> ip_count_;
  std::unordered_map<std::string, std::size_t> id_index_;
};

// Shared by the probes of one run; the bodies run later and may read what
// earlier probes left here.
struct ProbeContext {
  const CertifyOptions& options;
  ProviderUnderTest& target;
  const DatasetView& data;
  std::string scratch_dir;                 // shell payload canaries
  std::optional<Exchange> first_exchange;  // smoke.known-id's, for socket.no-half-close

  bool exec() const { return options.transport == Transport::exec; }
  std::chrono::milliseconds timeout() const { return options.timeout; }
  unsigned parallel() const { return std::max(1u, options.parallel); }
};

Expectation expect_record(const fixtures::DatasetAgent& a);
Expectation expect_decline();

// One well-formed request sent the resolver's way and judged; its MUST rules
// are remembered so concurrent calls can be compared with it.
ProbeSpec lookup_probe(ProbeContext& ctx, Request request, Expectation expect, std::string id, std::string group,
                       std::string title);

// Appends the exchange as evidence and its findings (nothing for a call not made).
void add_exchange(ProbeResult& r, const Exchange& ex, std::vector<Finding> findings);

// True when the exchange brought back a JSON object whose "error" is 0.
bool answers_success(const Exchange& ex);

// "\"…\"": the value escaped for a one-line message.
std::string quoted(std::string_view s);

// The groups, in the order certify() runs them.
ProbeGroup smoke_probes(ProbeContext& ctx);
ProbeGroup dataset_probes(ProbeContext& ctx);
ProbeGroup request_form_probes(ProbeContext& ctx);
ProbeGroup adversarial_probes(ProbeContext& ctx);
ProbeGroup parallel_probes(ProbeContext& ctx);
ProbeGroup transport_probes(ProbeContext& ctx);

}  // namespace keyreq::certify
