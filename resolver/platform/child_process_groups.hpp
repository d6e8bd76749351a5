#pragma once
// The process groups a keyreq process started: every provider the spawn
// launcher starts leads its own group, so a child of ours that leads a group
// is a provider and everything it started is in that group. Found in /proc
// from the live (or not yet reaped) children, so a group id can never be a
// stale one reused by an unrelated process.
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <vector>

namespace keyreq {

// Process groups led by a child of this process.
std::vector<pid_t> child_process_groups();

// Sends `sig` to each of those groups; returns how many there were.
std::size_t signal_child_process_groups(int sig);

// Stops a child that leads its own process group: SIGTERM to the group, up to
// `grace` for the leader to exit, then SIGKILL to whatever of the group is
// left; always reaps the leader.
void stop_process_group(pid_t leader, std::chrono::milliseconds grace);

// For one-shot commands (keyreq resolve): blocks SIGINT, SIGTERM and SIGHUP
// in the calling thread (call before any thread starts) and starts a thread
// that, on one of them, kills every child process group (SIGKILL) and then
// dies of that same signal, as it would have without this.
void kill_child_groups_when_interrupted();

}  // namespace keyreq
