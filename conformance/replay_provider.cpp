// keyreq-replay-provider FILE [WORDS...]: an exec provider that prints FILE's
// bytes on stdout, whatever request words follow, and exits 0. `keyreq fuzz`
// sends its sampled cases through the real exec transport with it.
#include <cstdio>
#include <cstring>

namespace {
constexpr const char* kUsage =
    "usage: keyreq-replay-provider FILE [request words...]\n"
    "Prints FILE's bytes on stdout, whatever request words follow, and exits 0\n"
    "(keyreq fuzz replays generated answers through the exec transport with it).\n"
    "Exit 2: no FILE or FILE unreadable; 3: stdout could not be written.\n";
}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::FILE* in = std::fopen(argv[1], "rb");
  if (in == nullptr) {
    std::perror(argv[1]);
    return 2;
  }
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) {
    if (std::fwrite(buf, 1, n, stdout) != n) return 3;
  }
  std::fclose(in);
  return std::fflush(stdout) == 0 ? 0 : 3;
}
