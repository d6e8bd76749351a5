#include "resolver/core/provider_client.hpp"

namespace keyreq {

std::string_view to_string(ProviderFailureClass c) {
  switch (c) {
    case ProviderFailureClass::cannot_start: return "cannot_start";
    case ProviderFailureClass::exit_code: return "exit_code";
    case ProviderFailureClass::signal: return "signal";
    case ProviderFailureClass::timeout: return "timeout";
    case ProviderFailureClass::output_too_large: return "output_too_large";
    case ProviderFailureClass::io_error: return "io_error";
  }
  return "unknown";
}

}  // namespace keyreq
