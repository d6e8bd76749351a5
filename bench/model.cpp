#include "bench/model.hpp"

#include <algorithm>
#include <cmath>

#ifndef KEYREQ_BUILD_TYPE
#define KEYREQ_BUILD_TYPE "unknown"
#endif

namespace keyreq::bench {

Percentiles percentiles_of(const Histogram& h) {
  Percentiles p;
  p.count = h.count();
  if (p.count == 0) return p;
  auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  p.mean_us = h.mean() / 1000.0;
  p.p50_us = us(h.value_at(50));
  if (percentile_supported(90, p.count)) p.p90_us = us(h.value_at(90));
  if (percentile_supported(99, p.count)) p.p99_us = us(h.value_at(99));
  if (percentile_supported(99.9, p.count)) p.p999_us = us(h.value_at(99.9));
  p.max_us = us(h.max());
  return p;
}

bool percentile_supported(double percentile, std::uint64_t samples) {
  if (samples == 0) return false;
  // n * (1 - p) >= 1, with slack for 99.9 not being exact in binary.
  return static_cast<double>(samples) * (1.0 - percentile / 100.0) >= 1.0 - 1e-9;
}

Percentiles merged_percentiles(const Series& s) {
  return s.histogram.count() > 0 ? percentiles_of(s.histogram) : s.all_repetitions;
}

Series::Series(const SeriesKey& key)
    : id(key.id()),
      provider(key.provider),
      transport(key.transport),
      path(key.path),
      mode(key.mode),
      concurrency(key.concurrency),
      rate_fraction(key.rate_fraction),
      variant(key.variant) {}

std::vector<double> Series::throughputs() const {
  std::vector<double> values;
  values.reserve(reps.size());
  for (const auto& rep : reps) values.push_back(rep.throughput);
  return values;
}

std::string this_build_type() { return KEYREQ_BUILD_TYPE; }

std::string SeriesKey::id() const {
  std::string id = provider + "/" + transport + "/" + path + "/";
  id += mode == "open" ? "open" + std::to_string(static_cast<int>(std::lround(rate_fraction * 100)))
                       : "c" + std::to_string(concurrency);
  if (!variant.empty()) id += "/" + variant;
  return id;
}

const Series* Report::find_series(const SeriesKey& key) const {
  for (const auto& s : series)
    if (s.key() == key) return &s;
  return nullptr;
}

const Series* Report::find_series(const std::string& id) const {
  for (const auto& s : series)
    if (s.id == id) return &s;
  return nullptr;
}

const Figure* Report::find_figure(const std::string& id) const {
  for (const auto& f : figures)
    if (f.id == id) return &f;
  return nullptr;
}

bool Report::registers() const {
  const auto it = settings.find("registration");
  return it == settings.end() || it->second != "validate only";
}

std::vector<double> ratios_to_floors(const std::vector<double>& rates, const std::vector<double>& floors,
                                     double common_floor) {
  const bool paired = floors.size() == rates.size();
  std::vector<double> ratios;
  for (std::size_t i = 0; i < rates.size(); ++i) {
    const double floor = paired ? floors[i] : common_floor;
    ratios.push_back(floor > 0 ? rates[i] / floor : 0);
  }
  return ratios;
}

std::vector<double> herd_floor_ratios(const HerdRun& h) {
  return ratios_to_floors(h.repetition_rates.empty() ? std::vector<double>{h.registrations_per_s} : h.repetition_rates,
                          h.repetition_floors, h.floor_peak_throughput);
}

double herd_cpu_bound(const HerdRun& h) {
  const double herd = h.serve_cpu_us + h.provider_cpu_us + std::max(0.0, h.requester_cpu_us);
  if (h.serve_cpu_us <= 0 || h.provider_cpu_us <= 0 || h.floor_client_cpu_us <= 0 || h.floor_provider_cpu_us <= 0)
    return 0;
  return (h.floor_client_cpu_us + h.floor_provider_cpu_us) / herd;
}

}  // namespace keyreq::bench
