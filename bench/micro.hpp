#pragma once
// The Google Benchmark microbenchmarks (keyreq-microbench) run as a child
// process with JSON output, merged into the report.
#include <filesystem>
#include <string>
#include <vector>

#include "bench/model.hpp"

namespace keyreq::bench {

// Runs `executable` with --benchmark_format=json and the given repetitions;
// one Micro per benchmark. Returns "" or an error message.
std::string run_microbenchmarks(const std::filesystem::path& executable, int repetitions, double min_time_s,
                                std::vector<Micro>& out);

// Parses Google Benchmark's JSON output (iteration runs only).
std::string parse_microbenchmark_json(const std::string& json, std::vector<Micro>& out);

}  // namespace keyreq::bench
