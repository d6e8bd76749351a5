#include "bench/workload.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <unordered_set>

namespace keyreq::bench {

std::string Mix::describe() const {
  std::ostringstream s;
  s << "id=" << by_id << ",ip=" << by_ip << ",unknown=" << unknown << ",invalid=" << invalid;
  if (zipf > 0) s << ",zipf=" << zipf;
  return s.str();
}

bool parse_mix(const std::string& text, Mix& mix, std::string& error) {
  Mix m{0, 0, 0, 0, 0};
  std::istringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    const auto eq = part.find('=');
    if (eq == std::string::npos) {
      error = "expected NAME=WEIGHT, got \"" + part + "\"";
      return false;
    }
    const std::string name = part.substr(0, eq);
    double v = 0;
    try {
      std::size_t used = 0;
      v = std::stod(part.substr(eq + 1), &used);
      if (used != part.size() - eq - 1 || v < 0 || !std::isfinite(v)) throw std::invalid_argument("bad");
    } catch (const std::exception&) {
      error = "bad weight in \"" + part + "\"";
      return false;
    }
    if (name == "id")
      m.by_id = v;
    else if (name == "ip")
      m.by_ip = v;
    else if (name == "unknown")
      m.unknown = v;
    else if (name == "invalid")
      m.invalid = v;
    else if (name == "zipf")
      m.zipf = v;
    else {
      error = "unknown mix entry \"" + name + "\" (id, ip, unknown, invalid, zipf)";
      return false;
    }
  }
  if (m.by_id + m.by_ip + m.unknown + m.invalid <= 0) {
    error = "the mix has no weight";
    return false;
  }
  mix = m;
  return true;
}

namespace {
// `count` ids of the dataset's form (3 to 8 digits) that no agent has.
std::vector<std::string> unknown_ids(const std::vector<fixtures::DatasetAgent>& agents, std::size_t count) {
  std::unordered_set<std::string> taken;
  for (const auto& a : agents) taken.insert(a.id);
  std::vector<std::string> out;
  for (std::size_t i = agents.size(); out.size() < count && i < fixtures::kMaxDatasetAgents; ++i) {
    std::string id = fixtures::dataset_agent(i).id;
    if (!taken.count(id)) out.push_back(std::move(id));
  }
  return out;
}
}  // namespace

Workload make_workload(std::vector<fixtures::DatasetAgent> agents_in, const Mix& mix, std::size_t length,
                       std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Workload w;
  w.agents = std::move(agents_in);
  const std::size_t agents = w.agents.size();
  w.items.reserve(length);
  const std::vector<std::string> unknown = unknown_ids(w.agents, 1000);

  // Key popularity: CDF over agent indexes (rank k gets weight 1/k^s).
  std::vector<double> cdf;
  if (mix.zipf > 0) {
    cdf.resize(agents);
    double total = 0;
    for (std::size_t k = 0; k < agents; ++k) cdf[k] = (total += 1.0 / std::pow(static_cast<double>(k + 1), mix.zipf));
    for (auto& c : cdf) c /= total;
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<std::size_t> uniform(0, agents - 1);
  auto pick_agent = [&]() -> std::size_t {
    if (cdf.empty()) return uniform(rng);
    const auto it = std::lower_bound(cdf.begin(), cdf.end(), unit(rng));
    return std::min<std::size_t>(static_cast<std::size_t>(it - cdf.begin()), agents - 1);
  };
  static const char* const kInvalid[] = {"id:12",       "ip:300.1.1.1", "invalid:request",
                                         "id:001 ; rm", "ip:",          "id:123456789"};
  const double total = mix.by_id + mix.by_ip + mix.unknown + mix.invalid;
  for (std::size_t n = 0; n < length; ++n) {
    const double r = unit(rng) * total;
    WorkItem item;
    if (r < mix.by_id + mix.by_ip) {
      item.agent = pick_agent();
      item.kind = r < mix.by_id ? "id" : "ip";
      item.value = r < mix.by_id ? w.agents[item.agent].id : w.agents[item.agent].ip;
    } else if (r < mix.by_id + mix.by_ip + mix.unknown && !unknown.empty()) {
      item.kind = "id";
      item.value = unknown[uniform(rng) % unknown.size()];  // valid form, not in the dataset
      item.expect = Expect::decline;
    } else {
      const std::string bad = kInvalid[rng() % (sizeof kInvalid / sizeof *kInvalid)];
      const auto colon = bad.find(':');
      item.kind = bad.substr(0, colon);
      item.value = bad.substr(colon + 1);
      item.expect = Expect::invalid;
    }
    item.raw = item.kind + ":" + item.value;
    w.items.push_back(std::move(item));
  }
  return w;
}

Workload make_workload(std::size_t agents, const Mix& mix, std::size_t length, std::uint64_t seed) {
  std::vector<fixtures::DatasetAgent> records;
  records.reserve(agents);
  for (std::size_t i = 0; i < agents; ++i) records.push_back(fixtures::dataset_agent(i));
  return make_workload(std::move(records), mix, length, seed);
}

}  // namespace keyreq::bench
