#include "bench/model.hpp"

#include <cmath>

namespace keyreq::bench {

Percentiles percentiles_of(const Histogram& h) {
  Percentiles p;
  p.count = h.count();
  if (p.count == 0) return p;
  auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  p.mean_us = h.mean() / 1000.0;
  p.p50_us = us(h.value_at(50));
  if (p.count >= kMinSamplesP90) p.p90_us = us(h.value_at(90));
  if (p.count >= kMinSamplesP99) p.p99_us = us(h.value_at(99));
  if (p.count >= kMinSamplesP999) p.p999_us = us(h.value_at(99.9));
  p.max_us = us(h.max());
  return p;
}

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

}  // namespace keyreq::bench
