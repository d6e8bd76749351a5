#include "conformance/certify/certifier.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "conformance/certify/probe.hpp"
#include "resolver/core/field_rules.hpp"
#include "resolver/platform/escape.hpp"
#include "resolver/platform/temp_dir.hpp"

namespace keyreq::certify {
namespace {

using Clock = std::chrono::steady_clock;

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Runs the groups in order, each probe once; a pooled group on the
// --parallel workers. Results keep the catalogue order.
class ProbeScheduler {
 public:
  ProbeScheduler(const CertifyOptions& o, ProviderUnderTest& target) : o_(o), target_(target) {}

  void run(const ProbeGroup& group, std::vector<ProbeResult>& out) {
    const auto& specs = group.probes;
    std::vector<ProbeResult> results(specs.size());
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t i = next++; i < specs.size(); i = next++) results[i] = run_one(specs[i]);
    };
    const unsigned workers =
        group.pooled ? std::clamp<unsigned>(o_.parallel, 1u, std::max<std::size_t>(1, specs.size())) : 1u;
    if (workers == 1) {
      work();
    } else {
      std::vector<std::thread> threads;
      for (unsigned w = 0; w < workers; ++w) threads.emplace_back(work);
      for (auto& t : threads) t.join();
    }
    for (auto& r : results) out.push_back(std::move(r));
  }

 private:
  ProbeResult run_one(const ProbeSpec& spec) {
    ProbeResult r;
    r.id = spec.id;
    r.group = spec.group;
    r.title = spec.title;
    const auto start = Clock::now();
    if (spec.always_runs)
      spec.body(r);
    else if (target_.stopped())
      r.skip_reason = target_.stop_reason();
    else if (o_.max_failures > 0 && failed_.load() >= o_.max_failures) {
      r.skip_reason = "not run: --max-failures " + std::to_string(o_.max_failures) + " reached";
    } else
      spec.body(r);
    if (r.has_must()) ++failed_;
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (o_.progress) {
      std::lock_guard lock(progress_mutex_);
      o_.progress(r);
    }
    return r;
  }

  const CertifyOptions& o_;
  ProviderUnderTest& target_;
  std::atomic<std::size_t> failed_{0};
  std::mutex progress_mutex_;
};

}  // namespace

fixtures::DatasetRead read_dataset(const std::string& path) {
  char magic[16] = {};
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    const std::size_t n = std::fread(magic, 1, sizeof magic, f);
    std::fclose(f);
    if (n == sizeof magic && std::string_view(magic, sizeof magic) == std::string_view("SQLite format 3\0", 16)) {
      return fixtures::read_dataset_sqlite(path);
    }
  }
  return fixtures::read_dataset_csv(path);
}

std::string dataset_problem(const std::vector<fixtures::DatasetAgent>& agents) {
  if (agents.empty()) return "it holds no agent";
  std::set<std::string> ids;
  for (std::size_t i = 0; i < agents.size(); ++i) {
    const auto& a = agents[i];
    const std::string where = "agent " + std::to_string(i + 1) + " (id \"" + escape_bytes(a.id, 32) + "\")";
    if (!rules::is_agent_id(a.id)) return where + ": the id is not 3 to 8 digits (S2)";
    if (!rules::is_agent_name(a.name)) return where + ": name \"" + escape_bytes(a.name, 64) + "\" breaks S3";
    if (!rules::is_agent_ip(a.ip)) return where + ": ip \"" + escape_bytes(a.ip, 64) + "\" breaks S4";
    if (!rules::is_agent_key(a.key)) return where + ": the key breaks S5";
    if (!ids.insert(a.id).second) return where + ": the id appears twice";
  }
  return {};
}

Certificate certify(const CertifyOptions& o) {
  const auto run_start = Clock::now();
  Certificate cert;
  cert.keyreq_version = o.keyreq_version;
  cert.started_at = utc_now();
  cert.transport = o.transport;
  cert.provider = o.transport == Transport::exec ? o.command_line : o.socket_path;
  cert.dataset = o.dataset_path;
  cert.dataset_agents = o.agents.size();
  cert.timeout_seconds = std::chrono::duration<double>(o.timeout).count();
  cert.parallel = std::max(1u, o.parallel);

  ProviderUnderTest target(o);
  // A scratch directory for shell-injection canaries, removed at the end
  // (none: the canary probes say they could not run).
  std::string scratch_error;
  const std::optional<TempDir> scratch = TempDir::create("keyreq-certify", scratch_error);
  const DatasetView data(o.agents, o.sample);
  ProbeContext ctx{o, target, data, scratch ? scratch->path().string() : std::string(), std::nullopt};

  // The catalogue, in order (probe.hpp): each group registers its probes.
  std::vector<ProbeGroup> groups;
  for (auto* build :
       {smoke_probes, dataset_probes, request_form_probes, adversarial_probes, parallel_probes, transport_probes}) {
    groups.push_back(build(ctx));
  }
  std::size_t planned = 0;
  for (const auto& g : groups) planned += g.probes.size();
  if (o.planned) o.planned(planned);

  ProbeScheduler runner(o, target);
  for (const auto& g : groups) runner.run(g, cert.probes);

  cert.timing = target.timing();
  cert.seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  return cert;
}

}  // namespace keyreq::certify
