#include "conformance/certify/root_causes.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace keyreq::certify {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A top-level key of the output that equals `name` but for case ("ERROR" for "error").
std::string differently_cased_key(const std::string& output, const std::string& name) {
  try {
    const auto doc = nlohmann::json::parse(output);
    if (!doc.is_object()) return {};
    for (const auto& [key, value] : doc.items())
      if (key != name && lower(key) == name) return key;
  } catch (const std::exception&) {
  }
  return {};
}

// The request value (after "id:" in the message) and the answered id are the
// same number in other spellings: "0001" answered with "001".
bool same_number_other_spelling(const std::string& message) {
  const auto id_at = message.find("\"id\" \"");
  const auto req_at = message.find("request id:");
  if (id_at == std::string::npos || req_at == std::string::npos) return false;
  const auto id_end = message.find('"', id_at + 6);
  const std::string answered = message.substr(id_at + 6, id_end - id_at - 6);
  std::string asked = message.substr(req_at + 11);
  asked = asked.substr(0, asked.find_first_not_of("0123456789"));
  auto strip = [](const std::string& s) {
    const auto first = s.find_first_not_of('0');
    return first == std::string::npos ? std::string("0") : s.substr(first);
  };
  return !answered.empty() && !asked.empty() && answered != asked && strip(answered) == strip(asked);
}

}  // namespace

std::string hint_for(const Finding& f, const Exchange* ex) {
  if ((f.rule == "E1" || f.rule == "D2") && ex) {
    if (auto key = differently_cased_key(ex->output, "error"); !key.empty()) {
      return "the answer has \"" + key +
             "\": field names are case-sensitive (SPEC §4), write \"error\", \"data\", "
             "\"id\", \"name\", \"ip\", \"key\", \"message\" in lower case";
    }
  }
  if (f.rule == "S1" && ex) {
    if (auto key = differently_cased_key(ex->output, "data"); !key.empty()) {
      return "the answer has \"" + key + "\": field names are case-sensitive (SPEC §4)";
    }
  }
  if (f.rule == "C1" && same_number_other_spelling(f.message)) {
    return "the provider looks ids up as numbers: ids are strings of 3 to 8 digits (SPEC §2), `id 0001` is not "
           "agent 001; compare the id as text";
  }
  if (f.rule == "D1" && ex && ex->output.empty()) {
    return "nothing came back: look at the provider's stderr and exit status in the evidence";
  }
  return {};
}

std::vector<RootCause> root_causes(const Certificate& cert, std::size_t examples_per_rule) {
  std::map<std::pair<Level, std::string>, RootCause> by_rule;
  std::vector<std::pair<Level, std::string>> order;
  for (const auto& p : cert.probes) {
    std::set<std::string> in_probe;
    for (const auto& f : p.findings) {
      const auto key = std::make_pair(f.level, f.rule);
      auto [it, added] = by_rule.try_emplace(key);
      RootCause& rc = it->second;
      if (added) {
        rc.rule = f.rule;
        rc.level = f.level;
        order.push_back(key);
      }
      ++rc.count;
      if (in_probe.insert(f.rule + (f.level == Level::must ? "!" : "?")).second) {
        ++rc.probes;
        if (rc.examples.size() < examples_per_rule) rc.examples.push_back({&p, &f});
      }
      if (rc.hint.empty()) rc.hint = hint_for(f, p.evidence.empty() ? nullptr : &p.evidence.front());
    }
  }
  std::vector<RootCause> out;
  for (const auto& key : order) out.push_back(std::move(by_rule[key]));
  std::stable_sort(out.begin(), out.end(), [](const RootCause& a, const RootCause& b) {
    if (a.level != b.level) return a.level == Level::must;
    return a.count > b.count;
  });
  return out;
}

}  // namespace keyreq::certify
