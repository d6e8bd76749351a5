#pragma once
// The exec transport (SPEC §3): one provider process per request, started with
// posix_spawn plugged into Boost.Process v2 as a launcher (docs/exec.md says why).
#include <string>
#include <vector>

#include "resolver/core/provider_client.hpp"

namespace keyreq {

class ExecClient final : public ProviderClient {
 public:
  // argv0 and fixed words, already split; the request's two words are appended.
  ExecClient(std::vector<std::string> command, CallLimits limits);

  ProviderResult call(const Request& request) override;
  std::string describe() const override;

  const std::vector<std::string>& command() const { return command_; }

 private:
  std::vector<std::string> command_;
  std::string resolved_program_;  // PATH lookup done once
  CallLimits limits_;
};

}  // namespace keyreq
