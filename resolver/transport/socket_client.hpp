#pragma once
// The socket transport (SPEC §3): one Unix stream connection per request,
// request written without terminator, reply read until the JSON document is
// complete or EOF, all within the deadline.
#include <chrono>
#include <string>

#include "resolver/core/provider_client.hpp"
#include "resolver/platform/json_document_end.hpp"  // json_document_complete, for the socket's readers

namespace keyreq {

class SocketClient final : public ProviderClient {
 public:
  // Connection attempts refused or finding no socket are retried with a short
  // backoff for at most connect_retry (and never past the request's deadline);
  // a full listen backlog is waited for up to the deadline (connect_unix).
  SocketClient(std::string path, CallLimits limits,
               std::chrono::milliseconds connect_retry = std::chrono::milliseconds{500});

  ProviderResult call(const Request& request) override;
  std::string describe() const override;

  // Health check (SPEC §3): connect and close at once, sending nothing.
  bool health_check() const;

 private:
  std::string path_;
  CallLimits limits_;
  std::chrono::milliseconds connect_retry_;
};

}  // namespace keyreq
