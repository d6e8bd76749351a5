// Transport: what the exec or socket transport itself must get right, and
// what upstream's resolver handles worse than keyreq's (warnings).
#include "conformance/certify/probe.hpp"

namespace keyreq::certify {
namespace {

double ms_of(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

void run_exec_stderr(const ProviderUnderTest& target, ProbeResult& r) {
  const AnswerTally seen = target.tally();
  r.notes.push_back(std::to_string(seen.stderr_calls) + " answers to well-formed requests came with output on stderr");
  std::string statuses;
  for (const auto& [code, count] : seen.exit_codes) {
    statuses += (statuses.empty() ? "" : ", ") + std::to_string(code) + " x" + std::to_string(count);
  }
  if (!statuses.empty()) r.notes.push_back("exit statuses of well-formed requests: " + statuses);
  const auto& example = seen.stderr_example;
  if (seen.stderr_calls > 0 && example) {
    r.evidence.push_back(*example);
    r.findings.push_back({"STDERR", Level::should,
                          std::to_string(seen.stderr_calls) +
                              " answers to well-formed requests came with text on stderr (e.g. " +
                              quoted(example->stderr_bytes.substr(0, 120)) +
                              "): keyreq keeps stderr apart, but upstream's resolver merges stderr into stdout, "
                              "where it corrupts the JSON"});
  }
}

void run_request_in_pieces(ProbeContext& ctx, ProbeResult& r) {
  const Request known_id{RequestKind::id, ctx.data.known.id};
  const Expectation expect = expect_record(ctx.data.known);
  SocketScript script;
  script.pieces = {"i", "d:", known_id.value};
  script.pause_between = std::chrono::milliseconds(20);
  const Exchange ex = ctx.target.run_socket(script, false);
  r.evidence.push_back(ex);
  const Exchange whole = ctx.target.request(known_id, false);
  const std::string whole_rules = must_rules(judge(whole, known_id, expect, ctx.timeout()));
  if (!whole_rules.empty()) {
    r.notes.push_back("the request written at once is already answered wrongly ([" + whole_rules +
                      "]): nothing to compare");
    return;
  }
  for (const auto& f : judge(ex, known_id, expect, ctx.timeout())) {
    if (f.level != Level::must) continue;
    r.findings.push_back({"PIECES", Level::should,
                          "the request " + quoted(known_id.wire()) +
                              " written in pieces was not answered correctly ([" + f.rule + "] " + f.message +
                              "), written at once it is: the resolver writes a request at once, but a stream socket "
                              "may deliver it in pieces; read until the request is complete"});
    break;
  }
}

void run_reply_in_one_write(ProbeContext& ctx, ProbeResult& r) {
  ProviderUnderTest& target = ctx.target;
  const Exchange ex = target.request(Request{RequestKind::id, ctx.data.known.id});
  target.note_split_reply(ex);
  r.evidence.push_back(ex);
  const AnswerTally seen = target.tally();
  r.notes.push_back(std::to_string(seen.split_replies) + " of " + std::to_string(seen.socket_replies) +
                    " replies to well-formed requests arrived in more than one piece");
  const auto& split = seen.split_example;
  if (seen.split_replies > 0 && split) {
    if (ex.reply_pieces <= 1) r.evidence.push_back(*split);
    r.findings.push_back({"SPLIT", Level::should,
                          std::to_string(seen.split_replies) + " replies arrived in several pieces (e.g. " +
                              std::to_string(split->reply_pieces) + " pieces over " +
                              std::to_string(static_cast<long>(ms_of(split->reply_span))) +
                              " ms): keyreq reads until the document is complete, but upstream's resolver does a "
                              "single recv and would truncate the answer; write each reply at once"});
  }
}

void run_still_serving(ProbeContext& ctx, ProbeResult& r) {
  const std::string error =
      socket_touch(ctx.options.socket_path, std::min(ctx.timeout(), std::chrono::milliseconds(2000)));
  if (!error.empty()) {
    r.findings.push_back({"DAEMON", Level::must,
                          "the daemon stopped accepting connections during certification (" + error +
                              "): it crashed or exited on one of the requests"});
  }
}

}  // namespace

ProbeGroup transport_probes(ProbeContext& ctx) {
  ProbeGroup g{"transport", {}, false};
  if (ctx.exec()) {
    g.probes.push_back({"exec.stderr", "exec", "stdout carries the JSON answer only; diagnostics, if any, go to stderr",
                        [&ctx](ProbeResult& r) { run_exec_stderr(ctx.target, r); }});
    return g;
  }
  g.probes.push_back({"socket.request-in-pieces", "socket",
                      "a request written in 3 pieces, 20 ms apart, is still answered correctly",
                      [&ctx](ProbeResult& r) { run_request_in_pieces(ctx, r); }});
  g.probes.push_back({"socket.reply-in-one-write", "socket",
                      "each reply arrives in one piece (upstream's resolver reads once)",
                      [&ctx](ProbeResult& r) { run_reply_in_one_write(ctx, r); }});
  // Last: a crash in any probe shows here. One connection attempt, made even
  // after the stop (it cannot hang the run).
  g.probes.push_back({"socket.still-serving", "socket", "the daemon still accepts connections at the end of the run",
                      [&ctx](ProbeResult& r) { run_still_serving(ctx, r); }, true});
  return g;
}

}  // namespace keyreq::certify
