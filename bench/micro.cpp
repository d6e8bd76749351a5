#include "bench/micro.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "resolver/platform/number_format.hpp"

namespace keyreq::bench {

std::string parse_microbenchmark_json(const std::string& text, std::vector<Micro>& out) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("benchmarks")) return "keyreq-microbench gave no JSON benchmark list";
  for (const auto& b : j["benchmarks"]) {
    if (b.value("run_type", "iteration") != "iteration") continue;
    const std::string name = b.value("run_name", b.value("name", ""));
    const std::string unit = b.value("time_unit", "ns");
    const double scale = unit == "ns" ? 1 : unit == "us" ? 1e3 : unit == "ms" ? 1e6 : unit == "s" ? 1e9 : 0;
    if (scale == 0) return "unknown time unit \"" + unit + "\" for " + name;
    const double ns = b.value("real_time", 0.0) * scale;
    const double cpu_ns = b.value("cpu_time", 0.0) * scale;
    auto it = std::find_if(out.begin(), out.end(), [&](const Micro& m) { return m.name == name; });
    if (it == out.end()) {
      out.push_back(Micro{name, {}, {}, 0});
      it = out.end() - 1;
    }
    it->ns.push_back(ns);
    it->cpu_ns.push_back(cpu_ns);
    if (b.contains("items_per_second")) it->items_per_second = b["items_per_second"].get<double>();
  }
  // Random interleaving shuffles the output: report them by name.
  std::sort(out.begin(), out.end(), [](const Micro& a, const Micro& b) { return a.name < b.name; });
  return out.empty() ? "keyreq-microbench reported no benchmark" : "";
}

std::string run_microbenchmarks(const std::filesystem::path& exe, int repetitions, double min_time_s,
                                std::vector<Micro>& out) {
  const std::string min_time = format::general(min_time_s);
  // Random interleaving: the repetitions of one benchmark are spread over
  // the run, so a burst of load on a shared machine does not hit one side only.
  const std::string command =
      "'" + exe.string() + "' --benchmark_format=json --benchmark_repetitions=" + std::to_string(repetitions) +
      " --benchmark_enable_random_interleaving=true --benchmark_min_time=" + min_time + " 2>/dev/null";
  std::string text;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return "cannot run " + exe.string();
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  const int status = ::pclose(p);
  if (status != 0) return exe.string() + " failed (status " + std::to_string(status) + ")";
  return parse_microbenchmark_json(text, out);
}

}  // namespace keyreq::bench
