// index.html: self-contained (inline CSS and SVG). The tables are the
// report Document's (the same one report.md renders); the charts are made by
// gnuplot as SVG: latency percentile spectra (closed and open loop),
// throughput against concurrency, exec against socket. One hue per provider,
// floors dashed, legends outside the plot area.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bench/report.hpp"
#include "bench/stats.hpp"
#include "resolver/platform/atomic_file.hpp"

namespace keyreq::bench {

namespace fs = std::filesystem;

namespace {

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

// Runs a gnuplot script writing `svg`; returns the SVG text without its XML prologue.
std::string gnuplot_svg(const fs::path& dir, const std::string& name, const std::string& script, std::string& warning) {
  const fs::path gp = dir / (name + ".gp");
  const fs::path svg = dir / (name + ".svg");
  {
    std::ofstream out(gp);
    out << "set terminal svg size 860,420 dynamic enhanced font 'Helvetica,11' background rgb 'white'\n"
        << "set output '" << svg.string() << "'\n"
        << "set grid lc rgb '#dddddd'\nset key outside right top vertical Left reverse noautotitle\n"
        << "set datafile separator '\\t'\n"
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

// One hue per provider, in the order of the report's providers.
std::string hue(const Report& r, const std::string& provider) {
  static const char* const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"};
  const auto it = std::find(r.providers.begin(), r.providers.end(), provider);
  const auto i = static_cast<std::size_t>(it - r.providers.begin());
  return palette[i % (sizeof palette / sizeof palette[0])];
}

// Floors dashed, the resolver solid.
std::string line_style(const Report& r, const Series& s) {
  return " lw 2 lc rgb '" + hue(r, s.provider) + "' dt " + (s.path == "floor" ? "2" : "1");
}

// A percentile spectrum as HdrHistogram and wrk2 plot it: x = 1/(1-p) on a
// log axis (50% at 2, 99% at 100, 99.9% at 1000), y = latency. Points stop
// where the sample stops supporting the percentile (n >= 1/(1-p)).
void write_spectrum(const Histogram& h, const fs::path& data) {
  std::ofstream out(data);
  const double n = static_cast<double>(h.count());
  for (double x = 1.0; x <= n; x *= 1.08) {
    const double p = 100.0 * (1.0 - 1.0 / x);
    out << x << '\t' << h.value_at(p) / 1000.0 << '\n';
  }
}

const char* kSpectrumAxes =
    "set logscale x\nset logscale y\nset xlabel 'percentile'\nset ylabel 'latency (µs)'\n"
    // tic labels are formats: %% is a percent sign
    "set xtics ('0%%' 1, '50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000, '99.999%%' 100000)\n"
    "set xrange [1:*]\n";

std::string spectrum_chart(const Report& r, const fs::path& scratch, const std::string& transport, bool open,
                           std::string& warning) {
  std::string plot;
  int k = 0;
  for (const auto& s : r.series) {
    const bool wanted = open ? s.mode == "open" : (s.mode == "closed" && s.concurrency == 1 && s.variant.empty());
    if (s.transport != transport || !wanted || s.histogram.count() < 2) continue;
    const fs::path data = scratch / ((open ? "open-" : "cdf-") + transport + "-" + std::to_string(k++) + ".tsv");
    write_spectrum(s.histogram, data);
    const std::string title = open ? s.provider + " at " + std::to_string(static_cast<int>(100 * s.rate_fraction)) +
                                         "% of max (" + std::to_string(static_cast<long>(s.target_rate)) + "/s)"
                                   : s.provider + " " + s.path;
    // Open loop: rates of one provider share its hue, told apart by the point shape.
    plot += std::string(plot.empty() ? "plot " : ", ") + quote_gp(data.string()) + " using 1:2 with " +
            (open ? "linespoints pi 8 pt " + std::to_string(4 + 2 * (k % 4)) : std::string("lines")) +
            line_style(r, s) + " title " + quote_gp(title);
  }
  if (plot.empty()) return "";
  const std::string title =
      open ? "Open loop, " + transport + ": latency from the intended send time (coordinated omission corrected)"
           : "Latency by percentile, " + transport + " transport, 1 request at a time (all repetitions)";
  return gnuplot_svg(scratch, (open ? "open-" : "cdf-") + transport,
                     "set title " + quote_gp(title) + "\n" + kSpectrumAxes + plot + "\n", warning);
}

// Throughput against concurrency for one transport, every provider: median
// and min-max over repetitions.
std::string throughput_chart(const Report& r, const fs::path& scratch, const std::string& transport,
                             std::string& warning) {
  std::string plot;
  int k = 0;
  for (const auto& provider : r.providers) {
    for (const std::string path : {"floor", "resolver"}) {
      std::vector<std::pair<int, Spread>> points;
      const Series* any = nullptr;
      for (const auto& s : r.series) {
        if (!s.in_closed_sweep(provider, transport, path)) continue;
        points.emplace_back(s.concurrency, spread_of(s.throughputs()));
        any = &s;
      }
      if (points.empty()) continue;
      std::sort(points.begin(), points.end(), [](auto& a, auto& b) { return a.first < b.first; });
      const fs::path data = scratch / ("thr-" + transport + "-" + std::to_string(k++) + ".tsv");
      std::ofstream out(data);
      for (const auto& [c, sp] : points) out << c << '\t' << sp.median << '\t' << sp.min << '\t' << sp.max << '\n';
      out.close();
      plot += std::string(plot.empty() ? "plot " : ", ") + quote_gp(data.string()) +
              " using 1:2:3:4 with yerrorlines pt 7 ps 0.6" + line_style(r, *any) + " title " +
              quote_gp(provider + " " + path);
    }
  }
  if (plot.empty()) return "";
  return gnuplot_svg(scratch, "throughput-" + transport,
                     "set title " +
                         quote_gp(transport + ": throughput against concurrency (closed loop; median, "
                                              "min-max over repetitions)") +
                         "\nset logscale y\nset logscale x 2\nset offsets graph 0.05, graph 0.05, 0, 0\n"
                         "set xlabel 'concurrent requests'\nset ylabel 'requests/s'\n" +
                         plot + "\n",
                     warning);
}

// Exec against socket: p50 at concurrency 1, per provider (floors hatched).
std::string exec_socket_chart(const Report& r, const fs::path& scratch, std::string& warning) {
  const fs::path data = scratch / "exec-socket.tsv";
  std::ofstream out(data);
  auto p50 = [&](const std::string& id) {
    const Series* s = r.find_series(id);
    std::vector<double> v;
    if (s)
      for (const auto& rep : s->reps) v.push_back(rep.latency.p50_us);
    return v.empty() ? NAN : median(v);
  };
  for (const auto& provider : r.providers) {
    out << provider << '\t' << p50(provider + "/exec/floor/c1") << '\t' << p50(provider + "/exec/resolver/c1") << '\t'
        << p50(provider + "/socket/floor/c1") << '\t' << p50(provider + "/socket/resolver/c1") << '\n';
  }
  out.close();
  if (r.providers.empty()) return "";
  return gnuplot_svg(
      scratch, "exec-socket",
      "set title 'Exec against socket: p50 latency, 1 request at a time'\nset style data histograms\n"
      "set style histogram clustered gap 1\nset logscale y\nset ylabel 'p50 latency (µs)'\nset yrange [1:*]\n"
      "plot " +
          quote_gp(data.string()) +
          " using 2:xtic(1) fs pattern 2 lc rgb '#c0392b' title 'exec floor', '' using 3 fs solid 0.8 "
          "lc rgb '#c0392b' title 'exec resolver', '' using 4 fs pattern 2 lc rgb '#2471a3' title 'socket floor', "
          "'' using 5 fs solid 0.8 lc rgb '#2471a3' title 'socket resolver'\n",
      warning);
}

std::string charts_html(const Report& r, const fs::path& scratch, std::string& warning) {
  if (!have_gnuplot()) {
    warning += "gnuplot is not installed: index.html has no charts (apt-get install -y gnuplot-nox); ";
    return "";
  }
  fs::create_directories(scratch);
  std::vector<std::string> svgs;
  for (const std::string transport : {"exec", "socket"})
    svgs.push_back(spectrum_chart(r, scratch, transport, false, warning));
  for (const std::string transport : {"exec", "socket"})
    svgs.push_back(throughput_chart(r, scratch, transport, warning));
  for (const std::string transport : {"exec", "socket"})
    svgs.push_back(spectrum_chart(r, scratch, transport, true, warning));
  svgs.push_back(exec_socket_chart(r, scratch, warning));
  std::string html;
  for (const auto& svg : svgs)
    if (!svg.empty()) html += "<figure>" + svg + "</figure>\n";
  return html.empty() ? "" : "<h2>Charts</h2>\n" + html;
}

}  // namespace

std::string report_html(const Report& r, const fs::path& scratch, std::string& warning) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>keyreq bench — " +
      escape_html(r.profile) +
      "</title>\n<style>\n"
      "body{font-family:Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}\n"
      "table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;"
      "text-align:right}th{background:#f3f3f3}th.l,td.l{text-align:left}\n"
      "code{background:#f5f5f5;padding:0 3px}figure{margin:1em 0}svg{max-width:100%;height:auto}\n"
      "strong{color:#000}\n</style></head><body>\n";
  html += render_html(report_document(r), charts_html(r, scratch, warning));
  return html + "</body></html>\n";
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
    return write_file_atomically((dir / name).string(), text).value_or("");
  };
  if (auto e = write("report.json", report_json(r)); !e.empty()) return e;
  if (auto e = write("report.md", report_markdown(r)); !e.empty()) return e;
  const fs::path scratch = dir / ".charts";
  const std::string html = report_html(r, scratch, warnings);
  fs::remove_all(scratch, ec);
  return write("index.html", html);
}

}  // namespace keyreq::bench
