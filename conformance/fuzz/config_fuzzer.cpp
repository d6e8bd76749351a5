// libFuzzer: `keyreq serve` configuration, parse_key_request_config over the
// input as an ossec.conf-style XML file, then the whole-block checks. Only
// crashes and sanitizer reports are findings.
#include <cstdint>
#include <string_view>

#include "resolver/daemon/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto parsed = keyreq::parse_key_request_config(xml, "fuzz.conf");
  if (auto* config = std::get_if<keyreq::KeyRequestConfig>(&parsed)) {
    (void)keyreq::check_complete(*config);
  } else {
    (void)std::get<keyreq::ConfigError>(parsed).message();
  }
  return 0;
}
