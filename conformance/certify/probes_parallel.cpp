// Parallel consistency: answers under N concurrent callers (and, over
// socket, N connections open at once) must break the same rules as the
// serial answer to the same request; wrong-the-same-way is reported once,
// where the serial probe shows it.
#include <latch>
#include <thread>

#include "conformance/certify/probe.hpp"

namespace keyreq::certify {
namespace {

using Clock = std::chrono::steady_clock;

// Counts the answers whose MUST rules differ from the serial answer's, and
// keeps the first difference and a few exchanges as evidence.
class SerialComparison {
 public:
  SerialComparison(const ProviderUnderTest& target, ProbeResult& r) : target_(target), r_(r) {}

  void add(const Request& request, const Exchange& ex, const std::vector<Finding>& findings) {
    ++made_;
    const std::string now = must_rules(findings);
    const std::string serial = target_.serial_rules(request).value_or("");
    if (now == serial) {
      if (!now.empty()) ++wrong_serially_;
      return;
    }
    ++wrong_;
    if (first_.empty()) {
      first_ = quoted(request.wire()) + " broke [" + now + "] (serially: [" + serial + "])";
      for (const auto& f : findings) {
        if (f.level == Level::must && serial.find(f.rule) == std::string::npos) {
          first_ += ": " + f.message;
          break;
        }
      }
    }
    if (r_.evidence.size() < 3) r_.evidence.push_back(ex);
  }

  std::size_t made() const { return made_; }
  std::size_t wrong() const { return wrong_; }
  std::size_t wrong_serially() const { return wrong_serially_; }
  const std::string& first() const { return first_; }

 private:
  const ProviderUnderTest& target_;
  ProbeResult& r_;
  std::size_t made_ = 0, wrong_ = 0, wrong_serially_ = 0;
  std::string first_;
};

struct Call {
  Request request;
  Expectation expect;
  Exchange ex;
  std::vector<Finding> findings;
};

// n callers x rounds calls over the sampled agents, by id and by address.
std::vector<Call> planned_calls(const DatasetView& data, unsigned n, unsigned rounds) {
  const std::vector<std::size_t> pool = data.sample.empty() ? std::vector<std::size_t>{0} : data.sample;
  std::vector<Call> calls(n * rounds);
  for (unsigned t = 0; t < n; ++t) {
    for (unsigned k = 0; k < rounds; ++k) {
      const auto& a = data.agents[pool[(t * rounds + k) % pool.size()]];
      const bool by_ip = (t + k) % 2 == 1 && data.ip_lookup_ok(a);
      Call& c = calls[t * rounds + k];
      c.request = by_ip ? Request{RequestKind::ip, a.ip} : Request{RequestKind::id, a.id};
      c.expect = expect_record(a);
    }
  }
  return calls;
}

void run_consistent(ProbeContext& ctx, ProbeResult& r) {
  const unsigned n = ctx.parallel();
  constexpr unsigned kRounds = 3;
  std::vector<Call> calls = planned_calls(ctx.data, n, kRounds);
  std::latch go(n);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      go.arrive_and_wait();
      for (unsigned k = 0; k < kRounds; ++k) {
        Call& c = calls[t * kRounds + k];
        if (ctx.target.stopped()) {
          c.ex.skipped = true;
          continue;
        }
        c.ex = ctx.target.request(c.request);
        ctx.target.note_well_formed(c.ex);
        c.findings = judge(c.ex, c.request, c.expect, ctx.timeout());
      }
    });
  }
  for (auto& t : threads) t.join();
  SerialComparison compare(ctx.target, r);
  for (const auto& c : calls)
    if (!c.ex.skipped) compare.add(c.request, c.ex, c.findings);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  r.notes.push_back(std::to_string(compare.made()) + " calls, " + std::to_string(n) + " at a time, in " +
                    std::to_string(ms) + " ms");
  if (compare.wrong_serially() > 0) {
    r.notes.push_back(std::to_string(compare.wrong_serially()) +
                      " answers were wrong the same way as the serial ones (reported there)");
  }
  if (compare.wrong() > 0) {
    r.findings.push_back({"PARALLEL", Level::must,
                          std::to_string(compare.wrong()) + " of " + std::to_string(compare.made()) +
                              " answers under " + std::to_string(n) +
                              " concurrent calls differ from the serial answers; first: " + compare.first()});
  }
}

void run_concurrent_connections(ProbeContext& ctx, ProbeResult& r) {
  const unsigned n = std::max(2u, ctx.parallel());
  const DatasetView& data = ctx.data;
  std::vector<const fixtures::DatasetAgent*> asked;
  std::vector<std::string> wires;
  for (unsigned i = 0; i < n; ++i) {
    const auto& a = data.agents[data.sample[i % data.sample.size()]];
    asked.push_back(&a);
    wires.push_back("id:" + a.id);
  }
  const auto runs = concurrent_exchanges(ctx.options.socket_path, wires, ctx.timeout());
  SerialComparison compare(ctx.target, r);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    SocketScript script;
    script.pieces = {wires[i]};
    const Exchange ex = exchange_of(runs[i], script);
    const Request request{RequestKind::id, asked[i]->id};
    compare.add(request, ex, judge(ex, request, expect_record(*asked[i]), ctx.timeout()));
  }
  if (compare.wrong() > 0) {
    r.findings.push_back({"CONCURRENT", Level::must,
                          std::to_string(compare.wrong()) + " of " + std::to_string(n) +
                              " requests on connections open at once were answered differently from serial "
                              "requests; first: " +
                              compare.first()});
  }
}

}  // namespace

ProbeGroup parallel_probes(ProbeContext& ctx) {
  ProbeGroup g{"parallel", {}, false};
  g.probes.push_back(
      {"parallel.consistent", "parallel",
       std::to_string(ctx.parallel()) + " concurrent callers, 3 calls each, get the same records as serial calls",
       [&ctx](ProbeResult& r) { run_consistent(ctx, r); }});
  if (!ctx.exec()) {
    g.probes.push_back({"socket.concurrent-connections", "socket",
                        std::to_string(std::max(2u, ctx.parallel())) +
                            " connections open at once, each request written before any reply is read, all answered",
                        [&ctx](ProbeResult& r) { run_concurrent_connections(ctx, r); }});
  }
  return g;
}

}  // namespace keyreq::certify
