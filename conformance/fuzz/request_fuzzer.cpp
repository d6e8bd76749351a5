// libFuzzer: request datagrams through keyreq::parse_request and the oracle's
// reading of SPEC §2; they must agree on validity and on the request.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "conformance/oracle.hpp"
#include "conformance/tests/known_resolver_bugs.hpp"
#include "resolver/core/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyreq;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const ParsedRequest parsed = parse_request(bytes);
  const auto expected = conformance::parse_request_bytes(bytes);
  const Request* got = std::get_if<Request>(&parsed);
  const bool same = (got == nullptr && !expected) ||
                    (got != nullptr && expected && got->kind_word() == expected->kind && got->value == expected->value);
  if (!same && !conformance::testing::known_request_bug(bytes, got != nullptr, expected.has_value())) {
    std::fprintf(stderr, "parse_request and the oracle disagree on \"%s\": resolver %s, oracle %s\n",
                 conformance::escape_for_display(bytes).c_str(),
                 got != nullptr ? got->wire().c_str() : std::get<InvalidRequest>(parsed).reason.c_str(),
                 expected ? expected->wire().c_str() : "invalid");
    std::abort();
  }
  return 0;
}
