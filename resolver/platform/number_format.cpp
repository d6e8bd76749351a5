#include "resolver/platform/number_format.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace keyreq::format {
namespace {

// printf-style formatting into a string (no fmt here: the static reference
// provider links this library and Debian ships no static libfmt).
__attribute__((format(printf, 1, 2))) std::string printf_string(const char* pattern, ...) {
  char buf[128];
  va_list args;
  va_start(args, pattern);
  const int n = std::vsnprintf(buf, sizeof buf, pattern, args);
  va_end(args);
  return n < 0 ? std::string() : std::string(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

// std::to_chars with a precision prints as printf does, without its locale
// and format-string work: the log formats two of these per request.
std::string to_chars_string(double v, std::chars_format format, int precision) {
  std::array<char, 512> buf;  // a double's 309 integer digits and any sane precision
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v, format, precision);
  return ec == std::errc() ? std::string(buf.data(), end) : std::string(kNone);
}

}  // namespace

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return kNone;
  return to_chars_string(v, std::chars_format::fixed, std::max(decimals, 0));
}

std::string general(double v, int significant) {
  return to_chars_string(v, std::chars_format::general, std::max(significant, 0));
}

std::string micros(double us) {
  if (!std::isfinite(us)) return kNone;
  if (us >= 10000) return printf_string("%.1f ms", us / 1000);
  if (us >= 100) return printf_string("%.0f µs", us);
  if (us >= 1 || us == 0) return printf_string("%.1f µs", us);
  return printf_string("%.0f ns", us * 1000);
}

std::string nanos(double ns) {
  if (!std::isfinite(ns)) return kNone;
  return ns >= 10000 ? printf_string("%.1f µs", ns / 1000) : printf_string("%.1f ns", ns);
}

std::string rate(double v) {
  if (!std::isfinite(v)) return kNone;
  if (v >= 10000) return printf_string("%.1fk", v / 1000);
  if (v >= 100) return printf_string("%.0f", v);
  return printf_string("%.1f", v);
}

std::string percent(double fraction, int decimals) {
  if (!std::isfinite(fraction)) return kNone;
  return printf_string("%.*f%%", decimals, 100 * fraction);
}

std::string signed_percent(double fraction) {
  if (!std::isfinite(fraction)) return kNone;
  return printf_string("%+.1f%%", 100 * fraction);
}

std::string plus_minus(double fraction) {
  if (!std::isfinite(fraction)) return kNone;
  return printf_string("±%.0f%%", 100 * fraction);
}

}  // namespace keyreq::format
