// index.html: self-contained (inline CSS and SVG). The tables are the
// Markdown report's, converted; the charts are made by gnuplot as SVG:
// latency CDF per transport, throughput against concurrency, exec against socket.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bench/report.hpp"
#include "bench/stats.hpp"

namespace keyreq::bench {

namespace fs = std::filesystem;

namespace {

std::string escape_html(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// `code` and **bold** inside one line of our own Markdown.
std::string inline_md(const std::string& text) {
  std::string s = escape_html(text), o;
  bool code = false, bold = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '`') {
      o += code ? "</code>" : "<code>";
      code = !code;
    } else if (!code && s.compare(i, 2, "**") == 0) {
      o += bold ? "</strong>" : "<strong>";
      bold = !bold;
      ++i;
    } else {
      o += s[i];
    }
  }
  return o;
}

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '|') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += line[i];
    }
  }
  for (auto& c : out) {
    c.erase(0, c.find_first_not_of(' '));
    c.erase(c.find_last_not_of(' ') + 1);
  }
  return out;
}

// Enough Markdown for report_markdown's output: headings, tables, lists, paragraphs.
std::string markdown_to_html(const std::string& md) {
  std::istringstream in(md);
  std::string line, html;
  bool in_table = false, in_list = false, header_row = false;
  while (std::getline(in, line)) {
    const bool table_line = !line.empty() && line[0] == '|';
    if (!table_line && in_table) {
      html += "</tbody></table>\n";
      in_table = false;
    }
    if (line.rfind("- ", 0) != 0 && in_list) {
      html += "</ul>\n";
      in_list = false;
    }
    if (table_line) {
      if (!in_table) {
        html += "<table>\n<thead>";
        in_table = true;
        header_row = true;
      }
      if (line.find("|---") == 0 || line.find("|:--") == 0) {
        html += "</thead><tbody>\n";
        continue;
      }
      html += "<tr>";
      for (const auto& c : cells(line)) html += (header_row ? "<th>" : "<td>") + inline_md(c) + (header_row ? "</th>" : "</td>");
      html += "</tr>\n";
      header_row = false;
    } else if (line.rfind("## ", 0) == 0) {
      html += "<h2>" + inline_md(line.substr(3)) + "</h2>\n";
    } else if (line.rfind("# ", 0) == 0) {
      html += "<h1>" + inline_md(line.substr(2)) + "</h1>\n";
    } else if (line.rfind("- ", 0) == 0) {
      if (!in_list) html += "<ul>\n";
      in_list = true;
      html += "<li>" + inline_md(line.substr(2)) + "</li>\n";
    } else if (!line.empty()) {
      html += "<p>" + inline_md(line) + "</p>\n";
    }
  }
  if (in_table) html += "</tbody></table>\n";
  if (in_list) html += "</ul>\n";
  return html;
}

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

// Runs a gnuplot script writing `svg`; returns the SVG text without its XML prologue.
std::string gnuplot_svg(const fs::path& dir, const std::string& name, const std::string& script, std::string& warning) {
  const fs::path gp = dir / (name + ".gp");
  const fs::path svg = dir / (name + ".svg");
  {
    std::ofstream out(gp);
    out << "set terminal svg size 760,420 dynamic enhanced font 'Helvetica,11' background rgb 'white'\n"
        << "set output '" << svg.string() << "'\n"
        << "set grid lc rgb '#dddddd'\nset key outside right top\nset datafile separator '\\t'\n"
        << script;
  }
  const std::string cmd = "gnuplot '" + gp.string() + "' 2>'" + (dir / (name + ".err")).string() + "'";
  if (std::system(cmd.c_str()) != 0) {
    warning += "gnuplot failed for chart " + name + "; ";
    return "";
  }
  std::ifstream in(svg);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const auto start = text.find("<svg");
  return start == std::string::npos ? "" : text.substr(start);
}

std::string quote_gp(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '\'' ? std::string("''") : std::string(1, c);
  return "'" + o + "'";
}

}  // namespace

std::string report_html(const Report& r, const fs::path& scratch, std::string& warning) {
  std::string charts;
  if (!have_gnuplot()) {
    warning += "gnuplot is not installed: index.html has no charts (apt-get install -y gnuplot-nox); ";
  } else {
    fs::create_directories(scratch);
    // 1. Latency CDF per transport (closed loop, 1 at a time: floor and resolver of every provider).
    for (const std::string transport : {"exec", "socket"}) {
      std::string plot;
      int k = 0;
      for (const auto& s : r.series) {
        if (s.transport != transport || s.mode != "closed" || s.concurrency != 1 || !s.variant.empty() ||
            s.histogram.count() == 0)
          continue;
        const fs::path data = scratch / ("cdf-" + std::to_string(k) + "-" + transport + ".tsv");
        std::ofstream out(data);
        for (double p = 0; p <= 99.0; p += 1.0) out << s.histogram.value_at(p) / 1000.0 << '\t' << p << '\n';
        for (double p : {99.5, 99.9, 99.99, 100.0}) out << s.histogram.value_at(p) / 1000.0 << '\t' << p << '\n';
        plot += std::string(plot.empty() ? "plot " : ", ") + quote_gp(data.string()) + " using 1:2 with lines lw 2 title " +
                quote_gp(s.provider + " " + s.path);
        ++k;
      }
      if (plot.empty()) continue;
      const std::string svg = gnuplot_svg(scratch, "cdf-" + transport,
                                          "set title 'Latency CDF, " + transport +
                                              " transport, 1 request at a time (all repetitions)'\n"
                                              "set logscale x\nset xlabel 'latency (µs)'\nset ylabel 'percentile'\n"
                                              "set yrange [0:100]\nset key bottom right inside\n" + plot + "\n",
                                          warning);
      if (!svg.empty()) charts += "<figure>" + svg + "</figure>\n";
    }
    // 2. Throughput against concurrency, one chart per provider: exec in
    // one colour, socket in another; floors dashed.
    for (const auto& provider : r.providers) {
      std::string plot;
      int k = 0;
      for (const std::string transport : {"exec", "socket"}) {
        for (const std::string path : {"floor", "resolver"}) {
          std::vector<std::pair<int, Spread>> points;
          for (const auto& s : r.series) {
            if (s.provider != provider || s.transport != transport || s.path != path || s.mode != "closed" ||
                !s.variant.empty())
              continue;
            std::vector<double> t;
            for (const auto& rep : s.reps) t.push_back(rep.throughput);
            points.emplace_back(s.concurrency, spread_of(t));
          }
          if (points.empty()) continue;
          std::sort(points.begin(), points.end(), [](auto& a, auto& b) { return a.first < b.first; });
          const fs::path data = scratch / ("thr-" + provider + "-" + std::to_string(k++) + ".tsv");
          std::ofstream out(data);
          for (const auto& [c, sp] : points) out << c << '\t' << sp.median << '\t' << sp.min << '\t' << sp.max << '\n';
          out.close();
          // Floors in a light shade with open points (dashes render poorly in some SVG viewers).
          const std::string colour = transport == "exec" ? (path == "floor" ? "#e8a49c" : "#c0392b")
                                                         : (path == "floor" ? "#93c4e6" : "#2471a3");
          plot += std::string(plot.empty() ? "plot " : ", ") + quote_gp(data.string()) +
                  " using 1:2:3:4 with yerrorlines lw 2 pt " + (path == "floor" ? "6" : "7") +
                  " ps 0.8 lc rgb '" + colour + "' title " + quote_gp(transport + " " + path);
        }
      }
      if (plot.empty()) continue;
      const std::string svg = gnuplot_svg(scratch, "throughput-" + provider,
                                          "set title " + quote_gp(provider + " provider: throughput against concurrency "
                                                                  "(closed loop; median, min-max over repetitions)") +
                                              "\nset logscale y\nset logscale x 2\nset xrange [0.8:*]\n"
                                              "set xlabel 'concurrent requests'\nset ylabel 'requests/s'\n"
                                              "set key outside right top\n" + plot + "\n",
                                          warning);
      if (!svg.empty()) charts += "<figure>" + svg + "</figure>\n";
    }
    // 3. Exec against socket: resolver p50 at concurrency 1, per provider.
    {
      const fs::path data = scratch / "exec-socket.tsv";
      std::ofstream out(data);
      int rows = 0;
      for (const auto& provider : r.providers) {
        auto p50 = [&](const std::string& id) {
          const Series* s = r.find_series(id);
          std::vector<double> v;
          if (s)
            for (const auto& rep : s->reps) v.push_back(rep.latency.p50_us);
          return median(v);
        };
        const double e = p50(provider + "/exec/resolver/c1"), s = p50(provider + "/socket/resolver/c1");
        const double ef = p50(provider + "/exec/floor/c1"), sf = p50(provider + "/socket/floor/c1");
        out << provider << '\t' << ef << '\t' << e << '\t' << sf << '\t' << s << '\n';
        ++rows;
      }
      out.close();
      if (rows > 0) {
        const std::string svg = gnuplot_svg(
            scratch, "exec-socket",
            "set title 'Exec against socket: p50 latency, 1 request at a time'\nset style data histograms\n"
            "set style histogram clustered gap 1\nset style fill solid 0.8 border -1\nset logscale y\n"
            "set ylabel 'p50 latency (µs)'\nset yrange [1:*]\n"
            "plot " + quote_gp(data.string()) + " using 2:xtic(1) lc rgb '#e8a49c' title 'exec floor', '' using 3 "
            "lc rgb '#c0392b' title 'exec resolver', '' using 4 lc rgb '#93c4e6' title 'socket floor', '' using 5 "
            "lc rgb '#2471a3' title 'socket resolver'\n",
            warning);
        if (!svg.empty()) charts += "<figure>" + svg + "</figure>\n";
      }
    }
  }

  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>keyreq bench — " +
      escape_html(r.profile) +
      "</title>\n<style>\n"
      "body{font-family:Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}\n"
      "table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;"
      "text-align:right}th{background:#f3f3f3}td:first-child,td:nth-child(2){text-align:left}\n"
      "code{background:#f5f5f5;padding:0 3px}figure{margin:1em 0}svg{max-width:100%;height:auto}\n"
      "strong{color:#000}\n</style></head><body>\n";
  const std::string md = report_markdown(r);
  // Charts right after the targets table.
  std::string body = markdown_to_html(md);
  const auto second_h2 = body.find("<h2>", body.find("<h2>") + 4);
  const std::string chart_block = charts.empty() ? "" : "<h2>Charts</h2>\n" + charts;
  if (second_h2 != std::string::npos) body.insert(second_h2, chart_block);
  else body += chart_block;
  html += body + "</body></html>\n";
  return html;
}

std::string write_reports(Report& r, const fs::path& dir, std::string& warnings) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "cannot create " + dir.string() + ": " + ec.message();
  // One .hgrm per series (histograms of all repetitions merged); those of an
  // earlier run into the same directory go first, so none is stale.
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".hgrm") fs::remove(entry.path(), ec);
  }
  for (auto& s : r.series) {
    if (s.histogram.count() == 0) continue;
    std::string name = s.id;
    for (char& c : name)
      if (c == '/') c = '_';
    s.hgrm_file = name + ".hgrm";
    std::ofstream out(dir / s.hgrm_file, std::ios::trunc);
    out << s.histogram.hgrm();
    if (!out) return "cannot write " + (dir / s.hgrm_file).string();
  }
  auto write = [&](const std::string& name, const std::string& text) -> std::string {
    const fs::path tmp = dir / (name + ".tmp");
    {
      std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
      out << text;
      if (!out) return "cannot write " + tmp.string();
    }
    fs::rename(tmp, dir / name, ec);
    return ec ? "cannot write " + (dir / name).string() + ": " + ec.message() : "";
  };
  if (auto e = write("report.json", report_json(r)); !e.empty()) return e;
  if (auto e = write("report.md", report_markdown(r)); !e.empty()) return e;
  const fs::path scratch = dir / ".charts";
  const std::string html = report_html(r, scratch, warnings);
  fs::remove_all(scratch, ec);
  return write("index.html", html);
}

}  // namespace keyreq::bench
