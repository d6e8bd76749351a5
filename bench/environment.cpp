#include "bench/environment.hpp"

#include <sqlite3.h>
#include <sys/utsname.h>

#include <simdjson.h>
#include <boost/version.hpp>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

namespace keyreq::bench {

namespace {
std::string read_first(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) {
      const auto colon = line.find(':');
      std::string v = colon == std::string::npos ? line : line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return "";
}
}  // namespace

std::string capture(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string iso_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

void record_environment(Report& report, const std::filesystem::path& source_root) {
  utsname u{};
  ::uname(&u);
  report.machine["hostname"] = u.nodename;
  report.machine["kernel"] = std::string(u.sysname) + " " + u.release;
  report.machine["arch"] = u.machine;
  report.machine["cpu"] = read_first("/proc/cpuinfo", "model name");
  report.machine["cores"] = std::to_string(std::thread::hardware_concurrency());
  report.machine["memory"] = read_first("/proc/meminfo", "MemTotal");
  report.machine["load_at_start"] = load_average();
  report.versions["keyreq"] = "0.1.0";
  report.versions["compiler"] = __VERSION__;
  report.versions["boost"] = BOOST_LIB_VERSION;
  report.versions["simdjson"] = std::to_string(simdjson::SIMDJSON_VERSION_MAJOR) + "." +
                                std::to_string(simdjson::SIMDJSON_VERSION_MINOR) + "." +
                                std::to_string(simdjson::SIMDJSON_VERSION_REVISION);
  report.versions["nlohmann_json"] = std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                     std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                                     std::to_string(NLOHMANN_JSON_VERSION_PATCH);
  report.versions["sqlite"] = sqlite3_libversion();
  report.git_commit = capture("git -C " + shell_quote(source_root.string()) + " rev-parse HEAD 2>/dev/null");
  report.git_dirty =
      !capture("git -C " + shell_quote(source_root.string()) + " status --porcelain --untracked-files=no 2>/dev/null")
           .empty();
}

}  // namespace keyreq::bench
