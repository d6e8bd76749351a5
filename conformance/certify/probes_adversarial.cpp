// Adversarial requests (payloads.cpp): what a compromised requester or a
// local writer to the request socket could send; each must be declined.
#include <unistd.h>

#include "conformance/certify/payloads.hpp"
#include "conformance/certify/probe.hpp"

namespace keyreq::certify {
namespace {

void judge_payload(ProviderUnderTest& target, const Payload& payload, const fixtures::DatasetAgent* tolerated_agent,
                   std::chrono::milliseconds timeout, ProbeResult& r) {
  Exchange ex;
  if (target.exec()) {
    ex = target.run_exec(*payload.exec_args);
  } else {
    SocketScript script;
    script.pieces = {*payload.socket_bytes};
    ex = target.run_socket(script);
  }
  std::vector<Finding> findings;
  if (payload.tolerated_as && tolerated_agent && answers_success(ex)) {
    // Read as the well-formed request SPEC §2 lets it stand for: it must then be exact.
    const Request as = as_request(payload.tolerated_as->first, payload.tolerated_as->second);
    r.notes.push_back("answered as " + quoted(as.wire()) + " (one trailing newline is tolerated, SPEC §2)");
    findings = judge(ex, as, expect_record(*tolerated_agent), timeout);
  } else {
    Expectation expect;
    expect.kind = Expectation::Kind::malformed;
    expect.sql_payload = payload.sql;
    findings = judge(ex, as_request(payload.judge_kind, payload.judge_value), expect, timeout);
  }
  if (!payload.canary.empty() && ::access(payload.canary.c_str(), F_OK) == 0) {
    findings.insert(findings.begin(),
                    {"SHELL", Level::must,
                     "shell injection: the payload ran as a command (it created " + quoted(payload.canary) +
                         "); never hand the request to a shell (system, popen, backticks)"});
  }
  add_exchange(r, ex, std::move(findings));
}

}  // namespace

ProbeGroup adversarial_probes(ProbeContext& ctx) {
  const DatasetView& data = ctx.data;
  ProbeGroup g{"adversarial", {}, true};
  const std::string around_ip = data.known_ip ? data.known_ip->ip : "10.0.0.1";
  for (const auto& payload : adversarial_payloads(data.known.id, around_ip, ctx.scratch_dir)) {
    if (ctx.exec() ? !payload.exec_args : !payload.socket_bytes) continue;
    const fixtures::DatasetAgent* tolerated_agent = nullptr;
    if (payload.tolerated_as) {
      tolerated_agent = payload.tolerated_as->first == "ip" && data.known_ip ? &*data.known_ip : &data.known;
    }
    g.probes.push_back({"adversarial." + payload.kind + "." + payload.name, "adversarial",
                        payload.category + ": " + payload.title + (payload.tolerated_as ? "" : " - declined"),
                        [&target = ctx.target, payload, tolerated_agent, timeout = ctx.timeout()](ProbeResult& r) {
                          judge_payload(target, payload, tolerated_agent, timeout, r);
                        }});
  }
  return g;
}

}  // namespace keyreq::certify
