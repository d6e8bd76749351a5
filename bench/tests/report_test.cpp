#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bench/report.hpp"
#include "bench/targets.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq::bench {
namespace {

Report sample() {
  Report r;
  r.created = "2025-01-01T00:00:00Z";
  r.profile = "ci";
  r.command_line = "keyreq bench --profile ci";
  r.machine["cores"] = "2";
  r.settings["registration"] = "validate only";
  r.git_commit = "0123456789abcdef";
  r.providers = {"reference"};
  for (const std::string transport : {"exec", "socket"}) {
    for (const std::string path : {"floor", "resolver"}) {
      Series s;
      s.provider = "reference";
      s.transport = transport;
      s.path = path;
      s.mode = "closed";
      s.concurrency = 1;
      s.id = "reference/" + transport + "/" + path + "/c1";
      const double base = transport == "exec" ? 1000 : 50;
      for (int i = 0; i < 3; ++i) {
        Repetition rep;
        rep.requests = 100;
        rep.throughput = 1e6 / base;
        rep.latency.p50_us = base * (path == "floor" ? 1.0 : 1.05) + i;
        rep.latency.p99_us = rep.latency.p50_us * 2;
        rep.outcomes["accepted"] = 100;
        s.reps.push_back(rep);
        for (int k = 0; k < 100; ++k) s.histogram.record(static_cast<std::uint64_t>(rep.latency.p50_us * 1000 + k));
      }
      r.series.push_back(s);
    }
  }
  r.figures.push_back(Figure{"reference/exec/latency_ratio_c1", "exec ratio", "lower", true, 0.1, {1.05, 1.04, 1.06}});
  r.figures.push_back(
      Figure{"reference/socket/throughput_ratio_peak", "socket ratio", "higher", true, 0.2, {0.9, 0.85, 0.95}});
  r.micro.push_back(Micro{"parse_validate/simdjson", {300, 310, 305}, {200, 210, 205}, 0});
  r.micro.push_back(Micro{"parse_validate/nlohmann", {3000, 3100, 3050}, {2000, 2100, 2050}, 0});
  r.measurements["keystore.registrations_per_s_t8"] = 25000;
  r.measurements["keystore.registrations_per_s_t1"] = 500;
  r.measurements["memory.keystore_agents"] = 100000;
  evaluate_targets(r);
  return r;
}

TEST(Report, JsonRoundTripKeepsWhatTheGateReads) {
  const Report r = sample();
  std::string error;
  const auto back = parse_report_json(report_json(r), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->profile, "ci");
  EXPECT_EQ(back->git_commit, r.git_commit);
  ASSERT_EQ(back->figures.size(), 2u);
  EXPECT_EQ(back->figures[0].values, r.figures[0].values);
  EXPECT_EQ(back->figures[1].better, "higher");
  EXPECT_TRUE(back->figures[1].gated);
  ASSERT_EQ(back->series.size(), r.series.size());
  EXPECT_DOUBLE_EQ(back->series[0].reps[1].throughput, r.series[0].reps[1].throughput);
  EXPECT_EQ(back->series[0].all_repetitions.count, 300u);
  EXPECT_DOUBLE_EQ(back->series[0].all_repetitions.p50_us, percentiles_of(r.series[0].histogram).p50_us);
  EXPECT_EQ(back->micro[0].cpu_ns, r.micro[0].cpu_ns);
  ASSERT_EQ(back->targets.size(), r.targets.size());
  for (std::size_t i = 0; i < r.targets.size(); ++i) EXPECT_EQ(back->targets[i].pass, r.targets[i].pass);
}

TEST(Report, HerdCpuPerAgentRoundTripsAndNotMeasuredIsNull) {
  Report r = sample();
  HerdRun h;
  h.provider = "reference", h.transport = "socket";
  h.serve_cpu_us = 20.5, h.provider_cpu_us = 15.7, h.requester_cpu_us = 2.3;
  h.floor_client_cpu_us = 12.0;  // floor provider not measured
  r.herd.push_back(h);
  const std::string text = report_json(r);
  const auto cpu = nlohmann::json::parse(text).at("herd").at(0).at("cpu_us");
  EXPECT_TRUE(cpu.at("floor_provider").is_null());
  std::string error;
  const auto back = parse_report_json(text, error);
  ASSERT_TRUE(back) << error;
  ASSERT_EQ(back->herd.size(), 1u);
  EXPECT_DOUBLE_EQ(back->herd[0].serve_cpu_us, 20.5);
  EXPECT_DOUBLE_EQ(back->herd[0].provider_cpu_us, 15.7);
  EXPECT_DOUBLE_EQ(back->herd[0].requester_cpu_us, 2.3);
  EXPECT_DOUBLE_EQ(back->herd[0].floor_client_cpu_us, 12.0);
  EXPECT_EQ(back->herd[0].floor_provider_cpu_us, 0);
}

TEST(Report, JsonThatIsNotAReportIsRefused) {
  std::string error;
  EXPECT_FALSE(parse_report_json("[]", error));
  EXPECT_FALSE(parse_report_json("{\"schema\":\"other\"}", error));
  EXPECT_FALSE(parse_report_json("{\"schema\":\"keyreq-bench\",\"schema_version\":999}", error));
  EXPECT_NE(error.find("newer"), std::string::npos);
  EXPECT_FALSE(
      parse_report_json("{\"schema\":\"keyreq-bench\",\"schema_version\":2,\"build\":{\"type\":\"Release\"},"
                        "\"figures\":[{\"id\":\"x\","
                        "\"better\":\"sideways\",\"values\":[1]}]}",
                        error));
}

// Version 1 (strings for numbers, zeros for what was not measured) is refused
// with a message saying what to do, not misread.
TEST(Report, AnOlderSchemaVersionIsRefusedClearly) {
  std::string error;
  EXPECT_FALSE(parse_report_json("{\"schema\":\"keyreq-bench\",\"schema_version\":1,\"figures\":[]}", error));
  EXPECT_NE(error.find("report schema version 1 was written by an older keyreq"), std::string::npos) << error;
  EXPECT_NE(error.find("keyreq bench"), std::string::npos) << error;
}

TEST(Report, JsonHasTypedNumbersNullsAndTheBuildType) {
  Report r = sample();
  r.settings["repetitions"] = "3";
  r.machine["load_at_start"] = "7.54 6.87 6.67";
  r.targets.push_back(PerformanceTarget{"not measured", "ratio <= 1", "N/A", 0, false, false});
  const auto j = nlohmann::json::parse(report_json(r));
  EXPECT_EQ(j["build"]["type"], this_build_type());
  EXPECT_FALSE(this_build_type().empty());
  EXPECT_TRUE(j["machine"]["cores"].is_number_integer());
  EXPECT_EQ(j["settings"]["repetitions"], 3);
  EXPECT_TRUE(j["machine"]["load_at_start"].is_string());
  const auto& s = j["series"][0];
  EXPECT_TRUE(s["rate_fraction"].is_null());  // closed loop: no rate asked for
  EXPECT_TRUE(s["variant"].is_null());
  // 300 samples merged: p99 supported, p99.9 not
  EXPECT_EQ(s["all_repetitions"]["count"], 300);
  EXPECT_TRUE(s["all_repetitions"]["p99_us"].is_number());
  EXPECT_TRUE(s["all_repetitions"]["p999_us"].is_null());
  // one repetition's percentiles carry no histogram in the sample: count 0, all null
  EXPECT_TRUE(s["repetitions"][0]["latency"]["p50_us"].is_null());
  EXPECT_TRUE(j["targets"].back()["value"].is_null());
  std::string error;
  const auto back = parse_report_json(j.dump(), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->build_type, this_build_type());
  EXPECT_EQ(back->settings.at("repetitions"), "3");
  EXPECT_EQ(back->series[0].all_repetitions.count, 300u);
  EXPECT_FALSE(back->series[0].all_repetitions.p999_us);
}

TEST(Report, APercentileNeedsOneSampleBeyondIt) {
  EXPECT_FALSE(percentile_supported(50, 0));
  EXPECT_FALSE(percentile_supported(50, 1));
  EXPECT_TRUE(percentile_supported(50, 2));
  EXPECT_FALSE(percentile_supported(99, 99));
  EXPECT_TRUE(percentile_supported(99, 100));
  EXPECT_FALSE(percentile_supported(99.9, 999));
  EXPECT_TRUE(percentile_supported(99.9, 1000));
  EXPECT_FALSE(percentile_supported(99.9, 42));
}

// The tables show n beside the percentiles and "–" for a percentile the
// sample cannot support; Markdown and HTML carry the same cells.
TEST(Report, TablesShowNAndDashForUnsupportedPercentiles) {
  Report r = sample();
  r.series[1].hgrm_file = "reference_exec_resolver_c1.hgrm";
  const std::string md = report_markdown(r);
  const auto exec_row = md.find("| exec | 1 |");
  ASSERT_NE(exec_row, std::string::npos) << md;
  const std::string line = md.substr(exec_row, md.find('\n', exec_row) - exec_row);
  EXPECT_NE(line.find("| – | 300 |"), std::string::npos) << line;  // p99.9 of 300 samples: –, n = 300
  EXPECT_NE(line.find("[resolver](reference_exec_resolver_c1.hgrm)"), std::string::npos) << line;
  EXPECT_NE(md.find("| transport | concurrency | floor req/s |"), std::string::npos);
  std::string warning;
  const std::string html =
      report_html(r, std::filesystem::temp_directory_path() / "keyreq-report-test-charts", warning);
  EXPECT_NE(html.find("<td>–</td><td>300</td>"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"reference_exec_resolver_c1.hgrm\">resolver</a>"), std::string::npos);
  EXPECT_EQ(html.find("**"), std::string::npos);  // no Markdown leaks into HTML
  EXPECT_EQ(html.find("| "), std::string::npos);
  std::filesystem::remove_all(std::filesystem::temp_directory_path() / "keyreq-report-test-charts");
}

TEST(ReportTable, OneDocumentRendersAsMarkdownAndHtml) {
  Document doc;
  doc.heading("Results");
  Table t;
  t.columns({"name", "value"}, {Table::Align::left, Table::Align::right});
  t.row({Text().code("a|b"), Text().strong("1 < 2")});
  doc.table(t);
  doc.list({"x & y"});
  doc.charts();
  EXPECT_EQ(render_markdown(doc), "## Results\n\n| name | value |\n|---|---:|\n| `a\\|b` | **1 < 2** |\n\n- x & y\n\n");
  EXPECT_EQ(render_html(doc, "<figure/>"),
            "<h2>Results</h2>\n<table>\n<thead><tr><th class=\"l\">name</th><th>value</th></tr></thead>\n<tbody>\n"
            "<tr><td class=\"l\"><code>a|b</code></td><td><strong>1 &lt; 2</strong></td></tr>\n</tbody></table>\n"
            "<ul>\n<li>x &amp; y</li>\n</ul>\n<figure/>");
}

TEST(ReportTable, TitleParagraphAndLinkInBothFormats) {
  Document doc;
  doc.title("keyreq bench");
  doc.paragraph(Text("see ").link("the <docs>", "docs/bench.md?a=1&b=\"2\""));
  EXPECT_EQ(render_markdown(doc), "# keyreq bench\n\nsee [the <docs>](docs/bench.md?a=1&b=\"2\")\n\n");
  EXPECT_EQ(
      render_html(doc, ""),
      "<h1>keyreq bench</h1>\n<p>see <a href=\"docs/bench.md?a=1&amp;b=&quot;2&quot;\">the &lt;docs&gt;</a></p>\n");
}

TEST(Targets, EachTargetIsALineWithItsMeasuredFigure) {
  const Report r = sample();
  auto find = [&](const std::string& prefix) -> const PerformanceTarget* {
    for (const auto& t : r.targets)
      if (t.name.rfind(prefix, 0) == 0) return &t;
    return nullptr;
  };
  const PerformanceTarget* exec = find("exec, reference provider");
  ASSERT_TRUE(exec);
  EXPECT_TRUE(exec->measured_ok);
  EXPECT_TRUE(exec->pass);  // 1.05 <= 1.10
  EXPECT_NEAR(exec->value, 1.05, 1e-9);
  const PerformanceTarget* speed = find("parse + validate: simdjson");
  ASSERT_TRUE(speed);
  EXPECT_NEAR(speed->value, 10.0, 0.01);  // CPU times 2050 / 205
  EXPECT_TRUE(speed->pass);
  const PerformanceTarget* parse = find("parse + validate one");
  ASSERT_TRUE(parse);
  EXPECT_TRUE(parse->pass);  // 205 ns CPU
  const PerformanceTarget* durable = find("durable registration");
  ASSERT_TRUE(durable);
  EXPECT_TRUE(durable->pass);
  const PerformanceTarget* loadgen = find("load generator");
  ASSERT_TRUE(loadgen);
  EXPECT_FALSE(loadgen->measured_ok);  // no null series in the sample: N/A, never PASS
}

TEST(Report, FilesAreWritten) {
  Report r = sample();
  const testkit::TempDir temp;
  const std::filesystem::path dir = temp.path();
  std::ofstream(dir / "old_series.hgrm") << "stale";
  std::ofstream(dir / "notes.txt") << "kept";
  std::string warnings;
  ASSERT_EQ(write_reports(r, dir, warnings), "");
  EXPECT_FALSE(std::filesystem::exists(dir / "old_series.hgrm"));
  EXPECT_TRUE(std::filesystem::exists(dir / "notes.txt"));
  for (const char* f : {"report.json", "report.md", "index.html", "reference_exec_floor_c1.hgrm"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  std::ifstream md(dir / "report.md");
  std::stringstream ss;
  ss << md.rdbuf();
  EXPECT_NE(ss.str().find("| **PASS** | exec, reference provider"), std::string::npos) << ss.str();
  std::ifstream html_in(dir / "index.html");
  std::stringstream html;
  html << html_in.rdbuf();
  EXPECT_NE(html.str().find("<table>"), std::string::npos);
  if (std::system("command -v gnuplot >/dev/null 2>&1") == 0) {
    EXPECT_NE(html.str().find("<svg"), std::string::npos) << warnings;
    EXPECT_EQ(warnings, "");  // every chart's gnuplot script ran
    EXPECT_NE(html.str().find("Latency by percentile, exec transport"), std::string::npos);
    EXPECT_NE(html.str().find("exec: throughput against concurrency"), std::string::npos);
    EXPECT_EQ(html.str().find("<?xml"), std::string::npos);  // inline, no prologue
  }
  EXPECT_FALSE(std::filesystem::exists(dir / ".charts"));
}

}  // namespace
}  // namespace keyreq::bench
