#include "resolver/daemon/exec_fallback.hpp"

#include "resolver/daemon/log.hpp"

namespace keyreq {

std::optional<std::string_view> exec_fallback_reason(const ProviderResult& socket_result) {
  if (const auto* output = std::get_if<ProviderOutput>(&socket_result)) {
    if (output->stdout_bytes.empty()) return "empty_answer";
    return std::nullopt;
  }
  switch (std::get<ProviderFailure>(socket_result).failure) {
    case ProviderFailureClass::cannot_start: return "connect_failed";
    case ProviderFailureClass::io_error: return "transport_error";
    default: return std::nullopt;
  }
}

ProviderResult apply_exec_fallback(ProviderResult socket_result, const Request& request, ProviderClient* fallback) {
  if (fallback == nullptr) return socket_result;
  const auto reason = exec_fallback_reason(socket_result);
  if (!reason) return socket_result;
  const auto* failure = std::get_if<ProviderFailure>(&socket_result);
  log::info("provider_exec_fallback", {log::kv("request", request.wire()), log::kv("reason", *reason),
                                       log::kv("detail", failure != nullptr ? failure->detail : "no byte received"),
                                       log::kv("exec", fallback->describe())});
  return fallback->call(request);
}

}  // namespace keyreq
