#include "resolver/transport/command_line.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace keyreq {

std::variant<std::vector<std::string>, CommandLineError> split_command_line(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  bool in_quotes = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\') {
      if (i + 1 == line.size()) return CommandLineError{"exec_path ends with a lone backslash"};
      word += line[++i];
      in_word = true;
    } else if (c == '"') {
      in_quotes = !in_quotes;
      in_word = true;  // "" is an empty word
    } else if (!in_quotes && (c == ' ' || c == '\t' || c == '\n')) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_quotes) return CommandLineError{"exec_path has an unterminated double quote"};
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return CommandLineError{"exec_path is empty"};
  return words;
}

std::string find_in_path(std::string_view program) {
  if (program.find('/') != std::string_view::npos) return std::string(program);
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + std::string(program);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return {};
}

}  // namespace keyreq
