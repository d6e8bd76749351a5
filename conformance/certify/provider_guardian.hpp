#pragma once
// No provider outlives certify, even when certify is killed with SIGKILL.
//
// Providers run in their own process groups (a timeout kills everything a
// provider started). When certify dies without a chance to stop them (kill -9,
// OOM killer), a small guardian process does it: forked once at start, it
// holds the read end of a pipe to which certify reports each provider it
// starts and reaps; when the pipe reaches EOF — certify exited, however — it
// sends SIGKILL to the process group of every provider still listed, then
// exits. Providers also get PR_SET_PDEATHSIG from the platform kit's
// spawn_process, but that reaches only the direct child (and a provider may
// ignore SIGTERM); the guardian also ends what the provider started.
#include <sys/types.h>

#include <string>

namespace keyreq::certify {

// Forks the guardian. Call before any thread starts. Returns "" or what failed
// (certify then runs without it).
std::string start_provider_guardian();

// Report to the guardian (no-ops when it is not running). Thread-safe.
void guardian_provider_started(pid_t pid);
void guardian_provider_reaped(pid_t pid);

}  // namespace keyreq::certify
