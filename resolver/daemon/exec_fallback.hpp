#pragma once
// The per-request exec fallback of a socket provider (SPEC §3, "as upstream
// 4.4+ does"; docs/serve.md): with `exec_fallback` on, a request whose socket
// call gave no answer goes to `exec_path` once.
#include <optional>
#include <string_view>

#include "resolver/core/provider_client.hpp"

namespace keyreq {

// Why `socket_result` goes to the exec fallback: "connect_failed" (nobody
// listening, or the socket known down), "empty_answer" (the connection
// closed without a byte, upstream's SocketEmptyExecFallback) or
// "transport_error" (reset, read or write error). nullopt otherwise: an
// answer stands, even one that declines or that the field rules refuse; a
// timeout has spent the request's deadline; an oversized reply is an answer.
std::optional<std::string_view> exec_fallback_reason(const ProviderResult& socket_result);

// With a fallback and a reason: logs one `provider_exec_fallback` line
// (request, reason, the socket's detail) and returns the exec call's result.
// Otherwise returns `socket_result` unchanged.
ProviderResult apply_exec_fallback(ProviderResult socket_result, const Request& request, ProviderClient* fallback);

}  // namespace keyreq
