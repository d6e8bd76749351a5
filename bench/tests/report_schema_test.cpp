// report.json matches its published schema (bench/report.schema.json),
// checked with a JSON Schema validator (python3-jsonschema): once for the
// writer on a populated model (every null and typed case), once for a real
// `keyreq bench` run.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "bench/report.hpp"

#include "testkit/files.hpp"
#include "testkit/paths.hpp"
#include "testkit/processes.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq::bench {
namespace {

namespace fs = std::filesystem;
using keyreq::testkit::run_shell;

int validate(const fs::path& report) {
  return run_shell(std::string(KEYREQ_PYTHON3) + " " + testkit::source_path("bench/tests/validate_report_schema.py") +
                   " " + testkit::source_path("bench/report.schema.json") + " " + report.string());
}

using testkit::TempDir;

Report populated() {
  Report r;
  r.created = "2026-01-01T00:00:00Z";
  r.profile = "ci";
  r.command_line = "keyreq bench --profile ci";
  r.machine = {{"cores", "2"}, {"load_at_start", "0.5 0.4 0.3"}};
  r.settings = {{"repetitions", "5"}, {"mix", "id=80,ip=15,unknown=5,invalid=0"}};
  r.versions = {{"nlohmann_json", "3.11"}};
  r.providers = {"reference"};
  for (const std::string mode : {"closed", "open"}) {
    Series s;
    s.id = "reference/exec/resolver/" + std::string(mode == "open" ? "open50" : "c1");
    s.provider = "reference";
    s.transport = "exec";
    s.path = "resolver";
    s.mode = mode;
    s.rate_fraction = 0.5;
    s.target_rate = 800;
    for (int i = 0; i < 3; ++i) {
      Histogram h;
      for (int k = 0; k < 150; ++k) h.record(1000 + k);
      Repetition rep;
      rep.requests = 150;
      rep.throughput = 800;
      rep.latency = rep.service = percentiles_of(h);
      rep.outcomes["answered"] = 150;
      s.reps.push_back(rep);
      s.histogram.merge(h);
    }
    s.reps[1].errors = 1;
    s.reps[1].first_error = "declined a known agent";
    r.series.push_back(s);
  }
  Series empty;  // a series that got no answer at all: counts 0, percentiles null
  empty.id = "reference/socket/floor/c1";
  empty.provider = "reference";
  empty.transport = "socket";
  empty.path = "floor";
  empty.mode = "closed";
  empty.reps.push_back(Repetition{});
  r.series.push_back(empty);
  r.figures.push_back(Figure{"reference/exec/latency_ratio_c1_validate", "ratio", "lower", true, 0.3, {1.1, 1.2}});
  r.micro.push_back(Micro{"parse_validate/simdjson", {300, 310}, {200, 210}, 0});
  r.measurements["keystore.registrations_per_s_t1"] = 500;
  r.measurements["memory.not_measured"] = NAN;
  r.targets.push_back(PerformanceTarget{"measured", "ratio <= 1.10", "1.05", 1.05, true, true});
  r.targets.push_back(PerformanceTarget{"not measured", "ratio <= 1.10", "N/A", 0, false, false});
  HerdRun herd;  // exec: what fit the budget, extrapolated
  herd.provider = "reference";
  herd.transport = "exec";
  herd.requested = 10000;
  herd.sent = herd.durable = 150;
  herd.seconds = 0.3;
  herd.registrations_per_s = 500;
  herd.repetition_rates = {480, 500, 530};
  herd.repetition_floors = {900, 1000, 1100};
  herd.extrapolated = true;
  herd.seconds_for_requested = 20;
  herd.to_durable = r.series[0].reps[0].latency;
  herd.serve_cpu_us = 89;
  herd.provider_cpu_us = 540;  // floor_* not measured (exec): null
  herd.requester_cpu_us = 6;
  r.herd.push_back(herd);
  HerdRun failed;  // could not run: zeros and an error
  failed.provider = "reference";
  failed.transport = "socket";
  failed.error = "keyreq serve did not start";
  r.herd.push_back(failed);
  r.interpretation.push_back({"exec costs 1.1 ms per call", {"reference/exec/floor/c1"}});
  return r;
}

TEST(ReportSchema, TheWriterMatchesTheSchemaOnAPopulatedModel) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const fs::path file = dir.path() / "report.json";
  std::ofstream(file) << report_json(populated());
  EXPECT_EQ(validate(file), 0) << "report.json written from a populated model does not match the schema";
}

TEST(ReportSchema, TheValidatorRejectsAReportThatBreaksTheSchema) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string text = report_json(populated());
  const std::string typed = "\"repetitions\": 5";
  ASSERT_NE(text.find(typed), std::string::npos);
  text.replace(text.find(typed), typed.size(), "\"repetitions\": [5]");  // neither a number nor a string
  const fs::path file = dir.path() / "report.json";
  std::ofstream(file) << text;
  EXPECT_EQ(validate(file), 1);
}

TEST(ReportSchema, ARealBenchReportMatchesTheSchema) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string keyreq = keyreq::testkit::bin("keyreq");
  ASSERT_EQ(run_shell(keyreq + " bench --profile smoke --providers reference --no-micro --no-progress --workdir " +
                      dir.path().string() + " --out " + (dir.path() / "out").string() + " >" +
                      (dir.path() / "bench.log").string() + " 2>&1"),
            0)
      << "keyreq bench failed; log: " << (dir.path() / "bench.log");
  EXPECT_EQ(validate(dir.path() / "out" / "report.json"), 0);
}

}  // namespace
}  // namespace keyreq::bench
