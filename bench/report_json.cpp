// report.json: the versioned result model, written and read back (the gate).
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "bench/report.hpp"
#include "bench/stats.hpp"

namespace keyreq::bench {

using nlohmann::json;

namespace {

// A measured number, or null when it was not measured (NaN in the model).
json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double number_from(const json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? NAN : it->get<double>();
}
json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
std::string text_from(const json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? std::string() : it->get<std::string>();
}

// Percentiles of `count` samples: null for any the sample cannot support
// (percentile_supported), all null for an empty sample.
json to_json(const Percentiles& p) {
  auto at = [&](double percentile, double v) {
    return percentile_supported(percentile, p.count) ? json(v) : json(nullptr);
  };
  const bool any = p.count > 0;
  return {{"count", p.count},         {"mean_us", any ? json(p.mean_us) : json(nullptr)},
          {"p50_us", at(50, p.p50_us)}, {"p90_us", at(90, p.p90_us)},
          {"p99_us", at(99, p.p99_us)}, {"p999_us", at(99.9, p.p999_us)},
          {"max_us", any ? json(p.max_us) : json(nullptr)}};
}

Percentiles percentiles_from(const json& j) {
  Percentiles p;
  p.count = j.value("count", std::uint64_t{0});
  p.mean_us = number_from(j, "mean_us");
  p.p50_us = number_from(j, "p50_us");
  p.p90_us = number_from(j, "p90_us");
  p.p99_us = number_from(j, "p99_us");
  p.p999_us = number_from(j, "p999_us");
  p.max_us = number_from(j, "max_us");
  return p;
}

json spread_json(const std::vector<double>& v) {
  if (v.empty()) return {{"median", nullptr}, {"min", nullptr}, {"max", nullptr}, {"rel_mad", nullptr}, {"n", 0}};
  const Spread s = spread_of(v);
  return {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"rel_mad", s.rel_mad}, {"n", s.n}};
}

// Machine facts and settings are kept as text in the model (as the probes
// print them); a value that is a whole number or a decimal is written as a
// JSON number, anything else ("7.54 6.87 6.67", "24684092 kB") as a string.
json typed(const std::map<std::string, std::string>& m) {
  json o = json::object();
  for (const auto& [k, v] : m) {
    double d = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    const bool number = !v.empty() && ec == std::errc() && end == v.data() + v.size() && std::isfinite(d);
    const bool whole = number && d == std::trunc(d) && std::fabs(d) < 9e15;
    o[k] = whole ? json(static_cast<std::int64_t>(d)) : number ? json(d) : json(v);
  }
  return o;
}

std::map<std::string, std::string> untyped(const json& j) {
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : j.items()) m[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return m;
}

}  // namespace

std::string report_json(const Report& r) {
  json j;
  j["schema"] = "keyreq-bench";
  j["schema_version"] = r.schema_version;
  j["created"] = r.created;
  j["command_line"] = r.command_line;
  j["profile"] = r.profile;
  j["elapsed_s"] = r.elapsed_s;
  j["machine"] = typed(r.machine);
  j["versions"] = r.versions;  // "3.11" is a version, not a number
  j["settings"] = typed(r.settings);
  j["build"] = {{"type", r.build_type}};
  j["git"] = {{"commit", text_or_null(r.git_commit)}, {"dirty", r.git_dirty}};
  j["providers"] = r.providers;
  j["notes"] = r.notes;
  json series = json::array();
  for (const auto& s : r.series) {
    const bool open = s.mode == "open";
    json reps = json::array();
    std::vector<double> thr, p50, p99, cpu_self, cpu_prov;
    for (const auto& rep : s.reps) {
      reps.push_back({{"requests", rep.requests},
                      {"errors", rep.errors},
                      {"wall_s", rep.wall_s},
                      {"throughput", rep.throughput},
                      {"latency", to_json(rep.latency)},
                      {"service", to_json(rep.service)},
                      {"cpu_self_us", rep.cpu_self_us},
                      {"cpu_provider_us", rep.cpu_provider_us},
                      {"outcomes", rep.outcomes},
                      {"first_error", text_or_null(rep.first_error)}});
      thr.push_back(rep.throughput);
      p50.push_back(rep.latency.p50_us);
      p99.push_back(rep.latency.p99_us);
      cpu_self.push_back(rep.cpu_self_us);
      cpu_prov.push_back(rep.cpu_provider_us);
    }
    series.push_back({{"id", s.id},
                      {"provider", s.provider},
                      {"transport", s.transport},
                      {"path", s.path},
                      {"mode", s.mode},
                      {"concurrency", s.concurrency},
                      // closed loop: no rate asked for
                      {"rate_fraction", open ? json(s.rate_fraction) : json(nullptr)},
                      {"target_rate", open ? json(s.target_rate) : json(nullptr)},
                      {"variant", text_or_null(s.variant)},
                      {"hgrm", text_or_null(s.hgrm_file)},
                      {"all_repetitions", to_json(merged_percentiles(s))},
                      {"summary",
                       {{"throughput", spread_json(thr)},
                        {"p50_us", spread_json(p50)},
                        {"p99_us", spread_json(p99)},
                        {"cpu_self_us", spread_json(cpu_self)},
                        {"cpu_provider_us", spread_json(cpu_prov)}}},
                      {"repetitions", reps}});
  }
  j["series"] = series;
  json figures = json::array();
  for (const auto& f : r.figures) {
    figures.push_back({{"id", f.id},
                       {"description", f.description},
                       {"better", f.better},
                       {"gated", f.gated},
                       {"tolerance", f.tolerance},
                       {"values", f.values},
                       {"summary", spread_json(f.values)}});
  }
  j["figures"] = figures;
  json micro = json::array();
  for (const auto& m : r.micro) {
    micro.push_back({{"name", m.name},
                     {"ns", m.ns},
                     {"cpu_ns", m.cpu_ns},
                     {"summary", spread_json(m.ns)},
                     {"cpu_summary", spread_json(m.cpu_ns)}});
  }
  j["micro"] = micro;
  json measurements = json::object();
  for (const auto& [k, v] : r.measurements) measurements[k] = number_or_null(v);
  j["measurements"] = measurements;
  json targets = json::array();
  for (const auto& t : r.targets) {
    targets.push_back({{"name", t.name},
                       {"requirement", t.requirement},
                       {"measured", t.measured},
                       {"value", t.measured_ok ? number_or_null(t.value) : json(nullptr)},
                       {"measured_ok", t.measured_ok},
                       {"verdict", !t.measured_ok ? "N/A" : t.pass ? "PASS" : "FAIL"}});
  }
  j["targets"] = targets;
  return j.dump(2) + "\n";
}

std::optional<Report> parse_report_json(const std::string& text, std::string& error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  if (j.value("schema", "") != "keyreq-bench") {
    error = "not a keyreq bench report (no \"schema\": \"keyreq-bench\")";
    return std::nullopt;
  }
  Report r;
  try {
    r.schema_version = j.at("schema_version").get<int>();
    if (r.schema_version != kReportSchemaVersion) {
      error = "report schema version " + std::to_string(r.schema_version) + " was written by " +
              (r.schema_version > kReportSchemaVersion ? "a newer" : "an older") + " keyreq; this one reads version " +
              std::to_string(kReportSchemaVersion) + " only: run `keyreq bench` with this keyreq to make the report again";
      return std::nullopt;
    }
    r.created = j.value("created", "");
    r.command_line = j.value("command_line", "");
    r.profile = j.value("profile", "");
    r.elapsed_s = number_from(j, "elapsed_s");
    if (j.contains("machine")) r.machine = untyped(j["machine"]);
    if (j.contains("versions")) r.versions = untyped(j["versions"]);
    if (j.contains("settings")) r.settings = untyped(j["settings"]);
    r.build_type = j.at("build").at("type").get<std::string>();
    if (j.contains("git")) {
      r.git_commit = text_from(j["git"], "commit");
      r.git_dirty = j["git"].value("dirty", false);
    }
    if (j.contains("providers")) r.providers = j["providers"].get<std::vector<std::string>>();
    if (j.contains("notes")) r.notes = j["notes"].get<std::vector<std::string>>();
    for (const auto& s : j.value("series", json::array())) {
      Series x;
      x.id = s.at("id").get<std::string>();
      x.provider = s.value("provider", "");
      x.transport = s.value("transport", "");
      x.path = s.value("path", "");
      x.mode = s.value("mode", "");
      x.concurrency = s.value("concurrency", 1);
      x.rate_fraction = s.value("rate_fraction", json()).is_null() ? 0.0 : s["rate_fraction"].get<double>();
      x.target_rate = s.value("target_rate", json()).is_null() ? 0.0 : s["target_rate"].get<double>();
      x.variant = text_from(s, "variant");
      x.hgrm_file = text_from(s, "hgrm");
      x.all_repetitions = percentiles_from(s.value("all_repetitions", json::object()));
      for (const auto& rep : s.value("repetitions", json::array())) {
        Repetition y;
        y.requests = rep.value("requests", std::uint64_t{0});
        y.errors = rep.value("errors", std::uint64_t{0});
        y.wall_s = number_from(rep, "wall_s");
        y.throughput = number_from(rep, "throughput");
        y.latency = percentiles_from(rep.value("latency", json::object()));
        y.service = percentiles_from(rep.value("service", json::object()));
        y.cpu_self_us = number_from(rep, "cpu_self_us");
        y.cpu_provider_us = number_from(rep, "cpu_provider_us");
        if (rep.contains("outcomes")) y.outcomes = rep["outcomes"].get<std::map<std::string, std::uint64_t>>();
        y.first_error = text_from(rep, "first_error");
        x.reps.push_back(std::move(y));
      }
      r.series.push_back(std::move(x));
    }
    for (const auto& f : j.value("figures", json::array())) {
      Figure x;
      x.id = f.at("id").get<std::string>();
      x.description = f.value("description", "");
      x.better = f.at("better").get<std::string>();
      x.gated = f.value("gated", false);
      x.tolerance = f.value("tolerance", 0.0);
      x.values = f.at("values").get<std::vector<double>>();
      if (x.better != "lower" && x.better != "higher") throw std::runtime_error("figure " + x.id + ": bad \"better\"");
      r.figures.push_back(std::move(x));
    }
    for (const auto& m : j.value("micro", json::array())) {
      Micro x;
      x.name = m.at("name").get<std::string>();
      x.ns = m.at("ns").get<std::vector<double>>();
      if (m.contains("cpu_ns")) x.cpu_ns = m["cpu_ns"].get<std::vector<double>>();
      r.micro.push_back(std::move(x));
    }
    const json measurements = j.value("measurements", json::object());
    for (const auto& [k, v] : measurements.items()) r.measurements[k] = v.is_null() ? NAN : v.get<double>();
    for (const auto& t : j.value("targets", json::array())) {
      Target x;
      x.name = t.value("name", "");
      x.requirement = t.value("requirement", "");
      x.measured = t.value("measured", "");
      x.value = number_from(t, "value");
      x.measured_ok = t.value("measured_ok", true);
      x.pass = t.value("verdict", "") == "PASS";
      r.targets.push_back(std::move(x));
    }
  } catch (const std::exception& e) {
    error = std::string("malformed report: ") + e.what();
    return std::nullopt;
  }
  return r;
}

}  // namespace keyreq::bench
