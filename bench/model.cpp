#include "bench/model.hpp"

namespace keyreq::bench {

Percentiles percentiles_of(const Histogram& h) {
  Percentiles p;
  p.count = h.count();
  if (p.count == 0) return p;
  auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  p.mean_us = h.mean() / 1000.0;
  p.p50_us = us(h.value_at(50));
  p.p90_us = us(h.value_at(90));
  p.p99_us = us(h.value_at(99));
  p.p999_us = us(h.value_at(99.9));
  p.max_us = us(h.max());
  return p;
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
