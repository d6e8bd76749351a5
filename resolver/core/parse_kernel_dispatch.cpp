// Picks the response parser's kernel at run time (parse_kernel.hpp); the
// ResponseParser members live here because they hold the chosen kernel.
#include <simdjson.h>

#include "resolver/core/parse_kernel.hpp"
#include "resolver/core/response_parser.hpp"

namespace keyreq {

std::unique_ptr<ParseKernel> make_haswell_kernel_unchecked();

namespace {

// simdjson's own runtime check of what its Haswell kernel needs.
bool cpu_runs_haswell_kernel() {
  static const bool runs = [] {
    const simdjson::implementation* haswell = simdjson::get_available_implementations()["haswell"];
    return haswell != nullptr && haswell->supported_by_runtime_system();
  }();
  return runs;
}

}  // namespace

std::unique_ptr<ParseKernel> make_haswell_parse_kernel() {
  return cpu_runs_haswell_kernel() ? make_haswell_kernel_unchecked() : nullptr;
}

std::unique_ptr<ParseKernel> make_best_parse_kernel() {
  return cpu_runs_haswell_kernel() ? make_haswell_kernel_unchecked() : make_fallback_parse_kernel();
}

const char* best_parse_kernel_name() { return cpu_runs_haswell_kernel() ? "haswell" : "fallback"; }

struct ResponseParser::Impl {
  std::unique_ptr<ParseKernel> kernel = make_best_parse_kernel();
};

ResponseParser::ResponseParser() : impl_(std::make_unique<Impl>()) {}
ResponseParser::~ResponseParser() = default;
ResponseParser::ResponseParser(ResponseParser&&) noexcept = default;
ResponseParser& ResponseParser::operator=(ResponseParser&&) noexcept = default;

ResponseVerdict ResponseParser::parse(std::string_view output, const Request& request) {
  return impl_->kernel->parse(output, request);
}

}  // namespace keyreq
