// libFuzzer: provider output through the resolver's ResponseParser and the
// rule oracle; any difference in verdict is a finding (abort), as is any
// crash or sanitizer report. Input: the output bytes, optionally preceded by
// a first line "#id:001" or "#ip:10.0.0.1" naming the request (default id:001).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "conformance/compare.hpp"
#include "conformance/oracle.hpp"
#include "conformance/tests/known_resolver_bugs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyreq::conformance;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  OracleRequest request{"id", "001"};
  if (!input.empty() && input[0] == '#') {
    const auto eol = input.find('\n');
    if (eol == std::string_view::npos) return 0;
    auto r = parse_request_bytes(input.substr(1, eol - 1));
    if (!r) return 0;
    request = *r;
    input.remove_prefix(eol + 1);
  }
  static InProcessResolver resolver;
  const Comparison c = compare(resolver, request, input);
  if (!c.agree() && testing::known_resolver_bug(input, c).empty()) {
    std::fprintf(stderr, "resolver and oracle disagree\n  request  %s\n  output   %s\n  resolver %s\n  oracle   %s\n",
                 escape_for_display(request.wire()).c_str(), escape_for_display(input).c_str(),
                 c.resolver.describe().c_str(), c.oracle.describe().c_str());
    std::abort();
  }
  return 0;
}
