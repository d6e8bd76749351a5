#pragma once
// Exporters over the one result model (model.hpp): JSON, Markdown, HTML with
// gnuplot SVG charts, and .hgrm percentile files.
#include <filesystem>
#include <optional>
#include <string>

#include "bench/model.hpp"

namespace keyreq::bench {

std::string report_json(const Report& report);
// Reads back what report_json wrote (series come back without histograms).
std::optional<Report> parse_report_json(const std::string& text, std::string& error);

std::string report_markdown(const Report& report);

// Self-contained HTML; charts are SVG made by gnuplot (when it is installed)
// from data files written under `scratch`, embedded inline.
std::string report_html(const Report& report, const std::filesystem::path& scratch, std::string& warning);

// report.json, report.md, index.html and one .hgrm per series into `dir`.
// Returns an error message or "".
std::string write_reports(Report& report, const std::filesystem::path& dir, std::string& warnings);

}  // namespace keyreq::bench
