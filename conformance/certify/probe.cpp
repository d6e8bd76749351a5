#include "conformance/certify/probe.hpp"

#include <nlohmann/json.hpp>

#include "resolver/core/field_rules.hpp"
#include "resolver/platform/escape.hpp"

namespace keyreq::certify {
namespace {

// Indexes of up to k agents spread over the dataset: first, last, evenly between.
std::vector<std::size_t> spread(std::size_t n, std::size_t k) {
  std::set<std::size_t> picked;
  if (n == 0 || k == 0) return {};
  if (n <= k) {
    for (std::size_t i = 0; i < n; ++i) picked.insert(i);
  } else {
    for (std::size_t j = 0; j < k; ++j) picked.insert(j * (n - 1) / (k - 1));
  }
  return {picked.begin(), picked.end()};
}

}  // namespace

DatasetView::DatasetView(const std::vector<fixtures::DatasetAgent>& all, std::size_t sample_size)
    : agents(all), known(all.front()), sample(spread(all.size(), sample_size)) {
  for (std::size_t i = 0; i < all.size(); ++i) {
    ++ip_count_[all[i].ip];
    id_index_.emplace(all[i].id, i);
  }
  for (const auto& a : all) {
    if (ip_lookup_ok(a)) {
      known_ip = a;
      break;
    }
  }
  for (long v = 99999999; v > 99999000; --v) {
    if (!id_index_.count(std::to_string(v))) {
      unknown_id = std::to_string(v);
      break;
    }
  }
  for (const char* candidate : {"192.0.2.1", "198.51.100.1", "203.0.113.1"}) {
    bool covered = false;
    for (const auto& a : all) covered = covered || rules::network_contains(a.ip, candidate);
    if (!covered) {
      unknown_ip = candidate;
      break;
    }
  }
}

bool DatasetView::ip_lookup_ok(const fixtures::DatasetAgent& a) const {
  const auto it = ip_count_.find(a.ip);
  return rules::is_ip_address(a.ip) && it != ip_count_.end() && it->second == 1;
}

const fixtures::DatasetAgent* DatasetView::with_id(const std::string& id) const {
  const auto it = id_index_.find(id);
  return it == id_index_.end() ? nullptr : &agents[it->second];
}

const fixtures::DatasetAgent* DatasetView::with_ip(const std::string& ip) const {
  for (const auto& a : agents)
    if (a.ip == ip && ip_lookup_ok(a)) return &a;
  return nullptr;
}

Expectation expect_record(const fixtures::DatasetAgent& a) {
  Expectation e;
  e.kind = Expectation::Kind::known_agent;
  e.agent = a;
  return e;
}

Expectation expect_decline() {
  Expectation e;
  e.kind = Expectation::Kind::unknown_agent;
  return e;
}

ProbeSpec lookup_probe(ProbeContext& ctx, Request request, Expectation expect, std::string id, std::string group,
                       std::string title) {
  ProviderUnderTest& target = ctx.target;
  const auto timeout = ctx.timeout();
  return ProbeSpec{std::move(id), std::move(group), std::move(title),
                   [&target, timeout, request, expect](ProbeResult& r) {
                     const Exchange ex = target.request(request);
                     target.note_well_formed(ex);
                     if (ex.transport == Transport::socket) target.note_split_reply(ex);
                     auto findings = judge(ex, request, expect, timeout);
                     target.note_serial(request, findings);
                     add_exchange(r, ex, std::move(findings));
                   }};
}

void add_exchange(ProbeResult& r, const Exchange& ex, std::vector<Finding> findings) {
  if (ex.skipped) return;
  r.evidence.push_back(ex);
  for (auto& f : findings) r.findings.push_back(std::move(f));
}

bool answers_success(const Exchange& ex) {
  if (!ex.started || ex.timed_out || ex.too_large) return false;
  try {
    const auto doc = nlohmann::json::parse(ex.output);
    return doc.is_object() && doc.contains("error") && doc["error"].is_number_integer() && doc["error"] == 0;
  } catch (const std::exception&) {
    return false;
  }
}

std::string quoted(std::string_view s) { return "\"" + escape_bytes(s, 128) + "\""; }

}  // namespace keyreq::certify
