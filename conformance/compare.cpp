#include "conformance/compare.hpp"

#include "resolver/platform/escape.hpp"
#include "resolver/resolve/resolver.hpp"

namespace keyreq::conformance {

namespace {

// Answers each call with the bytes it was given last.
class ReplayProvider final : public ProviderClient {
 public:
  std::string bytes;
  ProviderResult call(const Request&) override { return ProviderOutput{bytes, {}}; }
  std::string describe() const override { return "replay"; }
};

OracleAccept from_agent(const AgentRecord& a) { return OracleAccept{a.id, a.name, a.ip, a.key}; }

}  // namespace

std::string Verdict::describe() const {
  if (label == "accept") {
    return "accept {id=\"" + escape_for_display(record.id) + "\" name=\"" + escape_for_display(record.name) +
           "\" ip=\"" + escape_for_display(record.ip) + "\" key=\"" + escape_for_display(record.key) + "\"}";
  }
  if (label == "decline") return "decline " + std::to_string(code) + " \"" + escape_for_display(message) + "\"";
  return label + (detail.empty() ? "" : " (" + escape_for_display(detail) + ")");
}

Verdict from_oracle(const OracleVerdict& v) {
  Verdict out;
  out.label = verdict_label(v);
  if (const auto* a = std::get_if<OracleAccept>(&v)) out.record = *a;
  if (const auto* d = std::get_if<OracleDecline>(&v)) {
    out.code = d->code;
    out.message = escape_bytes(d->message, 1024);  // the resolver keeps the message escaped for its log
  }
  if (const auto* r = std::get_if<OracleRefuse>(&v)) out.detail = r->detail;
  return out;
}

Verdict from_outcome(const Outcome& o) {
  Verdict out;
  if (const auto* a = std::get_if<outcome::Accepted>(&o)) {
    out.label = "accept";
    out.record = from_agent(a->agent);
  } else if (const auto* r = std::get_if<outcome::Registered>(&o)) {
    out.label = "accept";
    out.record = from_agent(r->agent);
  } else if (const auto* ar = std::get_if<outcome::AlreadyRegistered>(&o)) {
    out.label = "accept";
    out.record = from_agent(ar->agent);
  } else if (const auto* d = std::get_if<outcome::Declined>(&o)) {
    out.label = "decline";
    out.code = d->code;
    out.message = d->message;
  } else if (const auto* f = std::get_if<outcome::Refused>(&o)) {
    out.label = f->rule;
    out.detail = f->detail;
  } else if (const auto* p = std::get_if<outcome::ProviderFailed>(&o)) {
    out.label = "provider_failure:" + std::string(to_string(p->failure));
    out.detail = p->detail;
  } else if (const auto* c = std::get_if<outcome::Conflict>(&o)) {
    out.label = "conflict";
    out.detail = c->detail;
  } else {
    out.label = std::string(outcome_name(o));
  }
  return out;
}

bool same_verdict(const Verdict& a, const Verdict& b) {
  if (a.label != b.label) return false;
  if (a.label == "accept") return a.record == b.record;
  if (a.label == "decline") return a.code == b.code && a.message == b.message;
  return true;
}

struct InProcessResolver::Impl {
  ReplayProvider provider;
  Resolver resolver{provider, nullptr};
};

InProcessResolver::InProcessResolver() : impl_(std::make_unique<Impl>()) {}
InProcessResolver::~InProcessResolver() = default;

Verdict InProcessResolver::judge(const OracleRequest& request, std::string_view output) {
  impl_->provider.bytes.assign(output.data(), output.size());
  const Request r{request.kind == "id" ? RequestKind::id : RequestKind::ip, request.value};
  return from_outcome(impl_->resolver.resolve(r));
}

Comparison compare(InProcessResolver& resolver, const OracleRequest& request, std::string_view output) {
  Comparison c;
  c.resolver = resolver.judge(request, output);
  c.oracle = from_oracle(judge(output, request));
  return c;
}

}  // namespace keyreq::conformance
