#pragma once
// The response parser's SIMD kernels (docs/rules.md gives what they check).
// response_parser.cpp is compiled once per kernel: with the Haswell flags
// (AVX2, BMI1/2, PCLMUL, LZCNT) and without (simdjson's portable fallback
// kernel); ResponseParser picks the best one this CPU runs at construction,
// so one binary is fast on a recent CPU and still runs on an old one.
#include <memory>
#include <string_view>

#include "resolver/core/response_parser.hpp"

namespace keyreq {

// Not thread-safe: one per thread (it owns simdjson buffers).
class ParseKernel {
 public:
  virtual ~ParseKernel() = default;
  virtual ResponseVerdict parse(std::string_view output, const Request& request) = 0;
};

// Each kernel; the Haswell one only when this CPU runs it (nullptr otherwise).
std::unique_ptr<ParseKernel> make_haswell_parse_kernel();
std::unique_ptr<ParseKernel> make_fallback_parse_kernel();

// The best kernel this CPU runs, and its simdjson name ("haswell", "fallback").
std::unique_ptr<ParseKernel> make_best_parse_kernel();
const char* best_parse_kernel_name();

}  // namespace keyreq
