#pragma once
// The one number formatter: every writer (bench's Markdown, HTML, gate
// verdict and targets; certify's reports and certificate) decides here how a
// latency, a rate or a change reads. A value that is not finite (NaN: not
// measured, or read back as null) reads "–".
#include <string>

namespace keyreq::format {

inline constexpr const char* kNone = "–";

// Fixed decimals, as printf's "%.*f": fixed(1.2345, 2) == "1.23".
std::string fixed(double value, int decimals = 2);
// Significant digits, as printf's "%.*g" (machine-read numbers: metrics,
// command lines): general(0.000123456, 3) == "0.000123". Not finite: "nan",
// "inf", "-inf", as printf.
std::string general(double value, int significant = 6);
// A duration given in microseconds, in the unit that keeps 2-3 significant
// digits: "640 ns", "12.5 µs", "812 µs", "41.3 ms".
std::string micros(double us);
// A duration given in nanoseconds (microbenchmarks): "12.3 ns", "45.6 µs".
std::string nanos(double ns);
// Events per second without a unit: "812", "12.5", "41.3k".
std::string rate(double per_second);
// A fraction as a percentage: percent(0.123) == "12%", percent(0.123, 1) == "12.3%".
std::string percent(double fraction, int decimals = 0);
// A relative change with its sign: signed_percent(-0.031) == "-3.1%".
std::string signed_percent(double fraction);
// Relative spread shown beside a median: "±4%".
std::string plus_minus(double fraction);

}  // namespace keyreq::format
