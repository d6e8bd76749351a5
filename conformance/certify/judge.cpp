#include "conformance/certify/judge.hpp"

#include <nlohmann/json.hpp>

#include "conformance/certify/quoting.hpp"
#include "resolver/core/response_parser.hpp"
#include "resolver/platform/escape.hpp"
#include "resolver/platform/number_format.hpp"

namespace keyreq::certify {
namespace {

using Kind = Expectation::Kind;

std::string ms(std::chrono::nanoseconds d) {
  return format::fixed(std::chrono::duration<double, std::milli>(d).count(), 0) + " ms";
}

std::string q(std::string_view s) { return "\"" + escape_bytes(s, 128) + "\""; }

// True when the UTF-8 text holds a C0 or C1 control character or DEL.
bool has_control(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
    // U+0080..U+009F are encoded C2 80 .. C2 9F
    if (c == 0xc2 && i + 1 < s.size()) {
      const auto d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x80 && d <= 0x9f) return true;
    }
  }
  return false;
}

Finding must(std::string rule, std::string message) { return {std::move(rule), Level::must, std::move(message)}; }
Finding should(std::string rule, std::string message) { return {std::move(rule), Level::should, std::move(message)}; }

// Findings of the transport itself; true when there is no answer to look at.
bool transport_findings(const Exchange& ex, std::vector<Finding>& out, std::chrono::milliseconds timeout) {
  const bool exec = ex.transport == Transport::exec;
  if (!ex.started) {
    std::string hint;
    if (ex.start_error.find("Exec format error") != std::string::npos) {
      hint = " (a script without a shebang line needs its interpreter in the command)";
    } else if (ex.start_error.find("Permission denied") != std::string::npos) {
      hint = " (not executable: chmod +x, or name its interpreter in the command)";
    }
    out.push_back(must(exec ? "START" : "CONNECT", ex.start_error + hint));
    return true;
  }
  if (ex.timed_out) {
    std::string m = "no complete answer within the " + std::to_string(timeout.count()) + " ms timeout";
    if (!ex.output.empty()) m += " (" + std::to_string(ex.output.size()) + " bytes of an answer: " + q(ex.output) + ")";
    if (ex.stdout_held_open) m += "; the provider exited but a process it started kept stdout open";
    if (ex.ignored_sigterm) m += "; it ignored SIGTERM and had to be killed with SIGKILL";
    out.push_back(must("TIMEOUT", m));
    return true;
  }
  if (ex.too_large) {
    out.push_back(must("SIZE", std::string(exec ? "stdout" : "the reply") +
                                   " is larger than the resolver's 64 KiB cap (at least " +
                                   std::to_string(ex.output_total) + " bytes)"));
    return true;
  }
  if (exec && ex.signal != 0) {
    out.push_back(must("SIGNAL", "the provider died: " + ex.outcome() + " (stdout had " +
                                     std::to_string(ex.output_total) + " bytes)"));
    return true;
  }
  if (!exec && !ex.io_error.empty()) {
    out.push_back(must("IO", ex.io_error));
    return true;
  }
  if (!exec && ex.reset && ex.output.empty()) {
    out.push_back(must("IO", "the provider reset the connection without answering"));
    return true;
  }
  return false;
}

void compare_record(const AgentRecord& got, const fixtures::DatasetAgent& want, std::vector<Finding>& out) {
  auto field = [&](const char* name, const std::string& g, const std::string& w) {
    if (g != w) out.push_back(must("DATA", std::string("data.") + name + " is " + q(g) + ", the dataset has " + q(w)));
  };
  field("id", got.id, want.id);
  field("name", got.name, want.name);
  field("ip", got.ip, want.ip);
  field("key", got.key, want.key);
}

}  // namespace

Request as_request(std::string_view kind_word, std::string_view value) {
  return Request{kind_word == "ip" ? RequestKind::ip : RequestKind::id, std::string(value)};
}

std::vector<Finding> should_findings(std::string_view output) {
  std::vector<Finding> out;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(output);
  } catch (const std::exception&) {
    return out;  // the MUST rules have already said what is wrong
  }
  if (!doc.is_object() || !doc.contains("error") || !doc["error"].is_number_integer()) return out;
  const bool declined = doc["error"] != 0;
  if (declined) {
    if (!doc.contains("message")) {
      out.push_back(should("E3", "a decline without a \"message\": say why (not found, bad request, database down)"));
    } else if (!doc["message"].is_string()) {
      out.push_back(should("E3", "\"message\" is not a string but " + std::string(doc["message"].type_name())));
    } else {
      const auto& message = doc["message"].get_ref<const std::string&>();
      if (message.size() > 1024) {
        out.push_back(should("E3", "\"message\" is " + std::to_string(message.size()) + " bytes, more than 1024"));
      }
      if (has_control(message)) {
        out.push_back(should("E3", "\"message\" holds control characters: " + q(message)));
      }
    }
    if (doc.contains("data") && doc["data"].is_object()) {
      out.push_back(should("E4", "a decline (error " + doc["error"].dump() + ") carries a \"data\" object"));
    }
  }
  std::string extra;
  for (const auto& [key, value] : doc.items()) {
    if (key == "error" || key == "data" || (declined && key == "message")) continue;
    extra += (extra.empty() ? "" : ", ") + q(key);
  }
  if (!extra.empty()) {
    out.push_back(
        should("S6", "top-level keys besides error, data" + std::string(declined ? ", message" : "") + ": " + extra));
  }
  return out;
}

std::vector<Finding> judge(const Exchange& ex, const Request& request, const Expectation& expect,
                           std::chrono::milliseconds timeout) {
  std::vector<Finding> out;
  if (transport_findings(ex, out, timeout)) return out;
  const bool exec = ex.transport == Transport::exec;
  const bool malformed = expect.kind == Kind::malformed;

  thread_local ResponseParser parser;
  const ResponseVerdict verdict = parser.parse(ex.output, request);
  bool success = false;
  bool check_should = true;

  if (const auto* violation = std::get_if<RuleViolation>(&verdict)) {
    const std::string& rule = violation->rule;
    if (rule == "D1" || rule == "D2" || rule == "E1") {
      std::string m = violation->detail;
      if (ex.output.empty()) m = exec ? "nothing on stdout" : "the connection closed without a byte";
      out.push_back(must(rule, m));
      check_should = false;
    } else {
      success = true;  // error 0: every later rule is about a success answer
      if (!malformed) out.push_back(must(rule, violation->detail));
    }
  } else if (const auto* decline = std::get_if<ProviderDecline>(&verdict)) {
    if (expect.kind == Kind::known_agent) {
      out.push_back(must("DATA", "declined dataset agent " + q(request.value) + " (error " +
                                     std::to_string(decline->code) + ", message " + q(decline->message) + ")"));
    }
  } else {
    success = true;
    const auto& record = std::get<AgentRecord>(verdict);
    if (expect.kind == Kind::known_agent || expect.kind == Kind::record_or_decline) {
      compare_record(record, expect.agent, out);
    }
    if (expect.kind == Kind::unknown_agent) {
      out.push_back(must("DATA", "answered agent " + q(record.id) + " (" + q(record.name) + ") for " +
                                     q(request.wire()) +
                                     ", which is not in the dataset: unknown agents must be declined"));
    }
  }
  if (success && expect.kind == Kind::unknown_agent && std::holds_alternative<RuleViolation>(verdict)) {
    out.push_back(must("DATA", "a success answer for " + q(request.wire()) + ", which is not in the dataset"));
  }
  if (success && malformed) {
    std::string answer = "a success answer (error 0)";
    if (const auto* record = std::get_if<AgentRecord>(&verdict)) {
      answer += " with agent " + q(record->id) + " " + q(record->name);
    } else {
      try {  // the record as sent, even though it breaks a rule
        const auto doc = nlohmann::json::parse(ex.output);
        const auto& data = doc.at("data");
        auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
        answer += " with agent " + q(text(data.at("id"))) + " " + q(text(data.at("name")));
      } catch (const std::exception&) {
      }
      answer += " (it also breaks " + std::get<RuleViolation>(verdict).rule + ")";
    }
    if (expect.sql_payload) {
      out.push_back(must("SQLI", "possible SQL injection: the payload " + q(request.value) + " got " + answer +
                                     "; bind the value as a parameter and validate it before any query"));
    } else {
      out.push_back(must("REQUEST", "accepted malformed input: " + q(request.value) + " got " + answer +
                                        "; a request that is not id:<3-8 digits> or ip:<address> must be declined"));
    }
  }

  if (exec && ex.exit_code != 0) {
    if (expect.kind == Kind::known_agent || success) {
      out.push_back(must("EXIT", "exit status " + std::to_string(ex.exit_code) +
                                     ": the resolver discards the answer of a provider that exits non-zero"));
    } else {
      out.push_back(should("EXIT", "exit status " + std::to_string(ex.exit_code) +
                                       " with a decline: answer, then exit 0 (the resolver logs a provider "
                                       "failure instead of the decline)"));
    }
  }
  if (check_should) {
    for (auto& f : should_findings(ex.output)) out.push_back(std::move(f));
  }
  if (ex.elapsed * 2 >= timeout) {
    out.push_back(should(
        "SLOW", "took " + ms(ex.elapsed) + ", at least half the " + std::to_string(timeout.count()) + " ms timeout"));
  }
  return out;
}

}  // namespace keyreq::certify
