#pragma once
// The signals of keyreq serve (docs/serve.md, "Signals"):
//   SIGTERM, SIGINT, SIGHUP  graceful stop (drain, close, stop the provider);
//                            a second one during the drain cancels the
//                            requests still waiting at once
//   SIGUSR1                  one `serve_status` log line, metrics rewritten
//   SIGUSR2                  logged and ignored
//   SIGPIPE                  ignored (a peer closing a socket is an I/O error)
// SIGHUP stops rather than reloads: the log is stderr (nothing of ours to
// re-open: whoever redirected it owns the file), and the configuration is
// not re-read while requests run; a hangup is taken as "the session that ran
// serve is gone", which ends it cleanly like SIGTERM.
#include "resolver/daemon/server.hpp"

namespace keyreq {

// Blocks those signals in the calling thread. Call before any thread starts,
// so every thread inherits the mask; the spawn launcher gives children an
// empty mask and default dispositions.
void block_serve_signals();

// Starts `server` and serves until a stop signal, then stops it; rewrites the
// metrics every second meanwhile. Returns the exit code (0).
int serve_until_signalled(Server& server);

}  // namespace keyreq
