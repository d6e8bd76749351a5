#include "bench/user_provider.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "conformance/certify/certifier.hpp"
#include "resolver/transport/command_line.hpp"

namespace keyreq::bench {

namespace fs = std::filesystem;

namespace {

const char* const kDatasetHelp =
    "give the agents your provider serves: --dataset FILE, a CSV with header id,name,ip,key or a SQLite file with "
    "table agent (`keyreq dataset --csv agents.csv --agents 1000` writes one)";

// The words of a command line with the program resolved to an absolute,
// executable path (no shell: SPEC §3).
std::variant<std::vector<std::string>, UsageError> program_words(const std::string& flag, const std::string& line) {
  auto split = split_command_line(line);
  if (auto* e = std::get_if<CommandLineError>(&split)) return UsageError{flag + " \"" + line + "\": " + e->reason};
  auto words = std::get<std::vector<std::string>>(std::move(split));
  if (words.empty()) return UsageError{flag + " is empty"};
  std::string program = find_in_path(words[0]);
  if (program.empty()) return UsageError{flag + ": command not found: " + words[0] + " (not in PATH)"};
  std::error_code ec;
  program = fs::absolute(program, ec).lexically_normal().string();
  if (!fs::is_regular_file(program, ec)) return UsageError{flag + ": command not found: " + program};
  if (::access(program.c_str(), X_OK) != 0) return UsageError{flag + ": " + program + " is not executable"};
  words[0] = program;
  return words;
}

// Interpreter family of a program name ("python3.11" → "python3"), "" if none.
std::string interpreter_family(const std::string& program) {
  const std::string base = fs::path(program).filename().string();
  static const std::pair<const char*, const char*> kFamilies[] = {
      {"python", "python3"}, {"php", "php"},   {"perl", "perl"}, {"ruby", "ruby"}, {"nodejs", "node"},
      {"node", "node"},      {"bash", "bash"}, {"dash", "sh"},   {"sh", "sh"}};
  for (const auto& [prefix, family] : kFamilies) {
    const std::string p = prefix;
    if (base == p || (base.rfind(p, 0) == 0 && base.find_first_not_of("0123456789.", p.size()) == std::string::npos))
      return family;
  }
  return "";
}

// A program that prints one byte (the exec floor reads to EOF and wants output).
std::vector<std::string> trivial_program(const std::string& family) {
  if (family == "python3") return {"-c", "print()"};
  if (family == "php") return {"-r", "echo 0;"};
  if (family == "perl" || family == "ruby") return {"-e", "print 0"};
  if (family == "node") return {"-e", "process.stdout.write('0')"};
  return {"-c", "echo"};  // sh, bash
}

std::string safe_label(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return s;
}

// "php/provider.php" → "php-provider": a generic file name gets its directory's.
std::string label_of(const fs::path& file) {
  const std::string stem = file.stem().string();
  static const char* const kGeneric[] = {"provider", "main", "index", "server", "daemon", "app"};
  const std::string dir = fs::absolute(file).parent_path().filename().string();
  for (const char* g : kGeneric)
    if (stem == g && !dir.empty()) return dir + "-" + stem;
  return stem;
}

// The script of an interpreter command (first word after the interpreter
// that is not an option), else the program.
std::string name_from(const std::vector<std::string>& words) {
  if (words.empty()) return "";
  if (!interpreter_family(words[0]).empty()) {
    for (std::size_t i = 1; i < words.size(); ++i)
      if (!words[i].empty() && words[i][0] != '-') return label_of(words[i]);
  }
  return label_of(words[0]);
}

}  // namespace

bool reserved_provider_name(const std::string& name) {
  static const char* const kReserved[] = {"reference", "python", "php", "perl", "null", "calibration", "all"};
  return std::find(std::begin(kReserved), std::end(kReserved), name) != std::end(kReserved);
}

void recognise_interpreter(ProviderSpec& spec) {
  if (spec.exec_command.empty()) return;
  std::string interpreter = spec.exec_command[0];
  std::string family = interpreter_family(interpreter);
  if (family.empty()) {  // a script run directly: its shebang names the interpreter
    std::ifstream in(interpreter, std::ios::binary);
    std::string line;
    if (std::getline(in, line) && line.rfind("#!", 0) == 0) {
      auto split = split_command_line(line.substr(2));
      if (auto* words = std::get_if<std::vector<std::string>>(&split); words && !words->empty()) {
        std::size_t k = 0;
        if (fs::path((*words)[0]).filename() == "env" && words->size() > 1) k = 1;
        interpreter = find_in_path((*words)[k]);
        family = interpreter.empty() ? "" : interpreter_family(interpreter);
      }
    }
  }
  if (family.empty()) return;
  spec.interpreter = family;
  spec.startup_command = {interpreter};
  for (auto& w : trivial_program(family)) spec.startup_command.push_back(std::move(w));
}

std::variant<UserProvider, UsageError> prepare_user_provider(const UserProviderOptions& o) {
  UserProvider u;
  u.spec.user = true;
  if (!o.socket_cmd.empty() && o.socket.empty()) {
    return UsageError{"--socket-cmd needs --socket PATH: the socket the started daemon serves"};
  }
  if (!o.exec.empty()) {
    auto words = program_words("--exec", o.exec);
    if (auto* e = std::get_if<UsageError>(&words)) return *e;
    u.spec.exec_command = std::get<std::vector<std::string>>(std::move(words));
    u.exec_line = o.exec;
    recognise_interpreter(u.spec);
  }
  if (!o.socket.empty()) {
    std::error_code ec;
    u.spec.socket_path = fs::absolute(o.socket, ec).string();
    if (!o.socket_cmd.empty()) {
      auto words = program_words("--socket-cmd", o.socket_cmd);
      if (auto* e = std::get_if<UsageError>(&words)) return *e;
      u.spec.daemon_command = std::get<std::vector<std::string>>(std::move(words));
      if (socket_accepts(u.spec.socket_path)) {
        return UsageError{"--socket " + u.spec.socket_path +
                          ": something already serves it; stop it, or leave out --socket-cmd to bench it as it is"};
      }
    } else if (!socket_accepts(u.spec.socket_path)) {
      return UsageError{"--socket " + u.spec.socket_path +
                        ": no daemon accepts connections there (start it first, or give --socket-cmd CMD)"};
    }
  }
  if (o.dataset.empty()) return UsageError{std::string("no dataset: ") + kDatasetHelp};
  auto read = certify::read_dataset(o.dataset);
  if (!read) return UsageError{"--dataset: " + read.error};
  if (auto problem = certify::dataset_problem(read.agents); !problem.empty()) {
    return UsageError{"--dataset: " + o.dataset + ": " + problem};
  }
  u.agents = std::move(read.agents);

  std::string name = o.name;
  if (name.empty()) {
    name = !u.spec.exec_command.empty()     ? name_from(u.spec.exec_command)
           : !u.spec.daemon_command.empty() ? name_from(u.spec.daemon_command)
                                            : fs::path(u.spec.socket_path).stem().string();
    name = safe_label(name);
    if (name.empty() || reserved_provider_name(name)) name = "user-" + name;
  } else if (safe_label(name) != name || reserved_provider_name(name)) {
    return UsageError{"--name \"" + name +
                      "\": use letters, digits, - _ . only, and not reference, python, php, perl, null, calibration"};
  }
  u.spec.name = name;
  return u;
}

}  // namespace keyreq::bench
