#pragma once
// Exporters over the one result model (model.hpp): JSON, Markdown, HTML with
// gnuplot SVG charts, and .hgrm percentile files. Markdown and HTML render
// one Document (report_table.hpp) built by report_document().
#include <filesystem>
#include <optional>
#include <string>

#include "bench/model.hpp"
#include "bench/report_table.hpp"

namespace keyreq::bench {

// report.json, as bench/report.schema.json describes it.
std::string report_json(const Report& report);
// Reads back what report_json wrote (series come back without histograms);
// refuses a report of another schema version, saying which.
std::optional<Report> parse_report_json(const std::string& text, std::string& error);

// What a person reads: the headings, tables and notes of report.md and index.html.
Document report_document(const Report& report);
std::string report_markdown(const Report& report);

// Self-contained HTML; charts are SVG made by gnuplot (when it is installed)
// from data files written under `scratch`, embedded inline.
std::string report_html(const Report& report, const std::filesystem::path& scratch, std::string& warning);

// report.json, report.md, index.html and one .hgrm per series into `dir`.
// Returns an error message or "".
std::string write_reports(Report& report, const std::filesystem::path& dir, std::string& warnings);

}  // namespace keyreq::bench
