// Smoke: the first lookups, and over socket the two behaviours every later
// request depends on (answering without a half-close; surviving the
// resolver's empty health-check connection).
#include "conformance/certify/probe.hpp"

namespace keyreq::certify {
namespace {

// socket.no-half-close: when smoke.known-id timed out with no byte, the same
// request with a half-close tells a provider that reads until EOF.
ProbeSpec no_half_close(ProbeContext& ctx) {
  const Request known_id{RequestKind::id, ctx.data.known.id};
  return {"socket.no-half-close", "socket",
          "answers while the client keeps its side open (the resolver never half-closes)",
          [&ctx, known_id](ProbeResult& r) {
            if (!ctx.first_exchange) {
              r.skip_reason = "not run: smoke.known-id made no call";
              return;
            }
            const Exchange& plain = *ctx.first_exchange;
            if (!plain.started) {
              r.notes.push_back("smoke.known-id could not reach the daemon: nothing to tell");
              return;
            }
            if (!plain.timed_out || !plain.output.empty()) {
              r.notes.push_back("smoke.known-id got its reply without a half-close (" + plain.outcome() + ")");
              return;
            }
            SocketScript closing;
            closing.pieces = {known_id.wire()};
            closing.half_close = true;
            const Exchange half = ctx.target.run_socket(closing, false);
            r.evidence.push_back(plain);
            r.evidence.push_back(half);
            if (half.started && !half.timed_out && !half.output.empty()) {
              r.findings.push_back({"HALFCLOSE", Level::must,
                                    "answers only after the client half-closes (shutdown SHUT_WR): it reads until "
                                    "EOF, but the resolver writes " +
                                        quoted(known_id.wire()) +
                                        " and keeps the connection open, so every request times out"});
            } else {
              r.notes.push_back("no answer with a half-close either: the provider is just not answering");
            }
          }};
}

// socket.health-check: two empty connections, then the known id again.
ProbeSpec health_check(ProbeContext& ctx) {
  const Request known_id{RequestKind::id, ctx.data.known.id};
  return {"socket.health-check", "socket",
          "an empty connection (connect, close, nothing sent) is accepted and the daemon keeps answering",
          [&ctx, known_id](ProbeResult& r) {
            const Exchange before = ctx.target.request(known_id, false);
            SocketScript empty;
            empty.read_reply = false;
            for (int i = 0; i < 2; ++i) {
              const Exchange touch = ctx.target.run_socket(empty, false);
              if (i == 0) r.evidence.push_back(touch);
              if (!touch.started) {
                r.findings.push_back(
                    {"HEALTH", Level::must, "the empty health-check connection was refused: " + touch.start_error});
                return;
              }
            }
            const Exchange after = ctx.target.request(known_id);
            r.evidence.push_back(after);
            if (before.output.empty()) {
              r.notes.push_back("the daemon did not answer " + quoted(known_id.wire()) +
                                " before the empty connections either: nothing to compare");
            } else if (after.output.empty()) {
              r.findings.push_back({"HEALTH", Level::must,
                                    "the daemon answered " + quoted(known_id.wire()) +
                                        " before two empty connections, not after them (" + after.outcome() +
                                        "): the resolver makes one at start-up"});
            }
          }};
}

}  // namespace

ProbeGroup smoke_probes(ProbeContext& ctx) {
  const DatasetView& data = ctx.data;
  ProbeGroup g{"smoke", {}, false};
  ProbeSpec known_id =
      lookup_probe(ctx, Request{RequestKind::id, data.known.id}, expect_record(data.known), "smoke.known-id", "smoke",
                   "known id " + data.known.id + " gets exactly its dataset record");
  known_id.body = [&ctx, lookup = std::move(known_id.body)](ProbeResult& r) {
    lookup(r);
    if (!r.evidence.empty()) ctx.first_exchange = r.evidence.front();
  };
  g.probes.push_back(std::move(known_id));
  // Right after the first request: a provider waiting for a half-close
  // would make every later request time out.
  if (!ctx.exec()) g.probes.push_back(no_half_close(ctx));
  if (data.known_ip) {
    g.probes.push_back(lookup_probe(ctx, Request{RequestKind::ip, data.known_ip->ip}, expect_record(*data.known_ip),
                                    "smoke.known-ip", "smoke",
                                    "known address " + data.known_ip->ip + " gets its dataset record"));
  }
  if (!data.unknown_id.empty()) {
    g.probes.push_back(lookup_probe(ctx, Request{RequestKind::id, data.unknown_id}, expect_decline(),
                                    "smoke.unknown-id", "smoke",
                                    "id " + data.unknown_id + ", not in the dataset, is declined with a message"));
  }
  if (!data.unknown_ip.empty()) {
    g.probes.push_back(lookup_probe(ctx, Request{RequestKind::ip, data.unknown_ip}, expect_decline(),
                                    "smoke.unknown-ip", "smoke",
                                    "address " + data.unknown_ip + ", not in the dataset, is declined with a message"));
  }
  if (!ctx.exec()) g.probes.push_back(health_check(ctx));
  return g;
}

}  // namespace keyreq::certify
