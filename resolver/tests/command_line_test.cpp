#include "resolver/transport/command_line.hpp"

#include <gtest/gtest.h>

namespace keyreq {
namespace {

std::vector<std::string> words(std::string_view line) {
  auto r = split_command_line(line);
  EXPECT_TRUE(std::holds_alternative<std::vector<std::string>>(r)) << line;
  return std::holds_alternative<std::vector<std::string>>(r) ? std::get<std::vector<std::string>>(r)
                                                             : std::vector<std::string>{};
}

TEST(CommandLine, SplitsLikeAShellWithoutOne) {
  EXPECT_EQ(words("/usr/bin/php /opt/kr/provider.php"),
            (std::vector<std::string>{"/usr/bin/php", "/opt/kr/provider.php"}));
  EXPECT_EQ(words("  a \t b  "), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(words(R"("/opt/my dir/p.py" --db "x y")"), (std::vector<std::string>{"/opt/my dir/p.py", "--db", "x y"}));
  EXPECT_EQ(words(R"(a\ b c\"d)"), (std::vector<std::string>{"a b", "c\"d"}));
  EXPECT_EQ(words(R"(a "" b)"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(words("echo $(id);rm"), (std::vector<std::string>{"echo", "$(id);rm"}));  // no shell expansion
}

TEST(CommandLine, Errors) {
  EXPECT_TRUE(std::holds_alternative<CommandLineError>(split_command_line("")));
  EXPECT_TRUE(std::holds_alternative<CommandLineError>(split_command_line("   ")));
  EXPECT_TRUE(std::holds_alternative<CommandLineError>(split_command_line("a \"b")));
  EXPECT_TRUE(std::holds_alternative<CommandLineError>(split_command_line("a\\")));
}

TEST(CommandLine, PathLookup) {
  EXPECT_EQ(find_in_path("/bin/true"), "/bin/true");
  const auto sh = find_in_path("sh");
  EXPECT_FALSE(sh.empty());
  EXPECT_EQ(sh.back(), 'h');
  EXPECT_EQ(find_in_path("definitely-not-a-program-keyreq"), "");
}

}  // namespace
}  // namespace keyreq
