#include "bench/format.hpp"

#include <cmath>

#include <fmt/format.h>

namespace keyreq::bench::format {

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return kNone;
  return fmt::format("{:.{}f}", v, decimals);
}

std::string micros(double us) {
  if (!std::isfinite(us)) return kNone;
  if (us >= 10000) return fmt::format("{:.1f} ms", us / 1000);
  if (us >= 100) return fmt::format("{:.0f} µs", us);
  if (us >= 1 || us == 0) return fmt::format("{:.1f} µs", us);
  return fmt::format("{:.0f} ns", us * 1000);
}

std::string nanos(double ns) {
  if (!std::isfinite(ns)) return kNone;
  return ns >= 10000 ? fmt::format("{:.1f} µs", ns / 1000) : fmt::format("{:.1f} ns", ns);
}

std::string rate(double v) {
  if (!std::isfinite(v)) return kNone;
  if (v >= 10000) return fmt::format("{:.1f}k", v / 1000);
  if (v >= 100) return fmt::format("{:.0f}", v);
  return fmt::format("{:.1f}", v);
}

std::string percent(double fraction, int decimals) {
  if (!std::isfinite(fraction)) return kNone;
  return fmt::format("{:.{}f}%", 100 * fraction, decimals);
}

std::string signed_percent(double fraction) {
  if (!std::isfinite(fraction)) return kNone;
  return fmt::format("{:+.1f}%", 100 * fraction);
}

std::string plus_minus(double fraction) {
  if (!std::isfinite(fraction)) return kNone;
  return fmt::format("±{:.0f}%", 100 * fraction);
}

}  // namespace keyreq::bench::format
