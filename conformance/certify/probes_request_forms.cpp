// Request forms: every spelling SPEC §2 lets the resolver send, not only the
// dataset's own. Ids of every length 3 to 8 (zero-padded variants of known
// ids: `id 0001` is a valid request for an agent that may not exist, and a
// provider that looks ids up as integers answers it with agent 001 — C1),
// boundary ids and addresses, and the other spellings of known addresses
// (IPv4-mapped IPv6 for an IPv4 agent — another address: C2; upper-case,
// expanded or compressed IPv6 — the same address).
#include <arpa/inet.h>

#include <cctype>
#include <cstdio>

#include "conformance/certify/probe.hpp"

namespace keyreq::certify {
namespace {

bool valid_request(std::string_view kind, const std::string& value) {
  return std::holds_alternative<Request>(make_request(kind, value));
}

// The id's number written with `width` digits ("" when it needs more).
std::string padded(const std::string& id, std::size_t width) {
  const std::size_t first = std::min(id.find_first_not_of('0'), id.size() - 1);
  const std::string digits = id.substr(first);
  if (digits.size() > width) return {};
  return std::string(width - digits.size(), '0') + digits;
}

// Other spellings of the same IPv6 address: upper case, every group written
// out, groups without leading zeros and no "::", inet_ntop's compressed form.
std::vector<std::string> ipv6_respellings(const std::string& ip) {
  in6_addr addr{};
  if (::inet_pton(AF_INET6, ip.c_str(), &addr) != 1) return {};
  std::vector<std::string> out;
  std::string upper = ip;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  out.push_back(upper);
  char full[64], plain[64], compressed[INET6_ADDRSTRLEN];
  const auto g = [&](int i) { return (addr.s6_addr[2 * i] << 8) | addr.s6_addr[2 * i + 1]; };
  std::snprintf(full, sizeof full, "%04x:%04x:%04x:%04x:%04x:%04x:%04x:%04x", g(0), g(1), g(2), g(3), g(4), g(5), g(6),
                g(7));
  std::snprintf(plain, sizeof plain, "%x:%x:%x:%x:%x:%x:%x:%x", g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7));
  out.emplace_back(full);
  out.emplace_back(plain);
  if (::inet_ntop(AF_INET6, &addr, compressed, sizeof compressed)) out.emplace_back(compressed);
  return out;
}

// IPv6 addresses that carry an IPv4 address: other addresses than it (C2).
std::vector<std::string> ipv4_in_ipv6(const std::string& ip) {
  in_addr addr{};
  if (::inet_pton(AF_INET, ip.c_str(), &addr) != 1) return {};
  const auto* b = reinterpret_cast<const unsigned char*>(&addr.s_addr);
  char hex[64];
  std::snprintf(hex, sizeof hex, "::ffff:%x:%x", (b[0] << 8) | b[1], (b[2] << 8) | b[3]);
  return {"::ffff:" + ip, hex, "0:0:0:0:0:ffff:" + ip};
}

struct Form {
  Request request;
  std::string why;  // for the title
};

class FormCollector {
 public:
  explicit FormCollector(const DatasetView& data) : data_(data) {
    for (const auto& a : data.agents) seen_.insert("id:" + a.id);
    // smoke.unknown-id and smoke.unknown-ip ask these already
    seen_.insert("id:" + data.unknown_id);
    seen_.insert("ip:" + data.unknown_ip);
  }

  // Adds the request unless invalid, a dataset spelling (probed elsewhere) or already there.
  void add(RequestKind kind, const std::string& value, std::string why) {
    const Request r{kind, value};
    if (!valid_request(r.kind_word(), value) || !seen_.insert(r.wire()).second) return;
    if (kind == RequestKind::ip && data_.with_ip(value)) return;
    forms_.push_back({r, std::move(why)});
  }
  std::vector<Form> take() { return std::move(forms_); }

 private:
  const DatasetView& data_;
  std::set<std::string> seen_;
  std::vector<Form> forms_;
};

std::vector<Form> request_forms(const DatasetView& data) {
  FormCollector forms(data);
  std::vector<const fixtures::DatasetAgent*> by_id{&data.known};
  if (!data.sample.empty() && data.sample.back() != 0) by_id.push_back(&data.agents[data.sample.back()]);
  for (const auto* a : by_id) {
    for (std::size_t width = 3; width <= 8; ++width) {
      const std::string v = padded(a->id, width);
      if (!v.empty()) forms.add(RequestKind::id, v, std::to_string(width) + "-digit spelling of agent " + a->id);
    }
  }
  for (const char* v : {"000", "999", "00000000", "99999999"}) forms.add(RequestKind::id, v, "boundary id");
  if (data.known_ip) {
    for (const auto& v : ipv4_in_ipv6(data.known_ip->ip)) {
      forms.add(RequestKind::ip, v, "IPv6 address carrying agent " + data.known_ip->id + "'s IPv4 address");
    }
  }
  for (const auto& a : data.agents) {  // the first IPv6 agent, if any
    if (a.ip.find(':') == std::string::npos || !data.ip_lookup_ok(a)) continue;
    for (const auto& v : ipv6_respellings(a.ip)) {
      if (v != a.ip) forms.add(RequestKind::ip, v, "another spelling of agent " + a.id + "'s address " + a.ip);
    }
    break;
  }
  for (const char* v : {"0.0.0.0", "255.255.255.255", "::", "::1"}) forms.add(RequestKind::ip, v, "boundary address");
  return forms.take();
}

// What the answer to a form must be: the record of the agent with exactly
// that id; for the same IPv6 address spelled otherwise, its record or a
// decline; otherwise a decline.
Expectation expectation_for(const DatasetView& data, const Request& r) {
  if (r.kind == RequestKind::id) {
    const auto* agent = data.with_id(r.value);
    return agent ? expect_record(*agent) : expect_decline();
  }
  in6_addr want{}, have{};
  if (::inet_pton(AF_INET6, r.value.c_str(), &want) == 1) {
    for (const auto& a : data.agents) {
      if (data.ip_lookup_ok(a) && ::inet_pton(AF_INET6, a.ip.c_str(), &have) == 1 &&
          std::equal(std::begin(want.s6_addr), std::end(want.s6_addr), std::begin(have.s6_addr))) {
        Expectation e = expect_record(a);
        e.kind = Expectation::Kind::record_or_decline;
        return e;
      }
    }
  }
  return expect_decline();
}

}  // namespace

ProbeGroup request_form_probes(ProbeContext& ctx) {
  ProbeGroup g{"request-forms", {}, true};
  for (auto& form : request_forms(ctx.data)) {
    const Expectation expect = expectation_for(ctx.data, form.request);
    const char* wanted = expect.kind == Expectation::Kind::known_agent ? "its dataset record"
                         : expect.kind == Expectation::Kind::record_or_decline
                             ? "that agent's exact record, or a decline"
                             : "a decline";
    g.probes.push_back(lookup_probe(
        ctx, form.request, expect, "form." + std::string(form.request.kind_word()) + "." + form.request.value, "form",
        std::string(form.request.kind_word()) + " " + form.request.value + " (" + form.why + ") gets " + wanted));
  }
  return g;
}

}  // namespace keyreq::certify
