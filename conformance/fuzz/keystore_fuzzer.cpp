// libFuzzer: client.keys loading (KeyStore::open on a file holding the input).
// A file that loads must load again after open's own repair, hold the same
// number of agents, and take one registration. No crash, no sanitizer report.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "resolver/keystore/keystore.hpp"

namespace {
std::filesystem::path work_file() {
  static const std::filesystem::path path = [] {
    const auto dir = std::filesystem::temp_directory_path() / ("keyreq-fuzz-keystore-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir / "client.keys";
  }();
  return path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyreq;
  const auto path = work_file();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto opened = KeyStore::open(path);
  auto* store = std::get_if<std::unique_ptr<KeyStore>>(&opened);
  if (store == nullptr) return 0;
  const std::size_t count = (*store)->active_count();
  (void)(*store)->find_by_id("001");
  const bool do_register = size > 0 && data[0] % 8 == 0;  // fsync: not on every input
  store->reset();

  auto again = KeyStore::open(path);
  auto* reopened = std::get_if<std::unique_ptr<KeyStore>>(&again);
  if (reopened == nullptr) {
    std::fprintf(stderr, "client.keys loaded once, then not: %s\n", std::get<KeyStoreError>(again).message().c_str());
    std::abort();
  }
  if ((*reopened)->active_count() != count) {
    std::fprintf(stderr, "client.keys: %zu agents, then %zu\n", count, (*reopened)->active_count());
    std::abort();
  }
  if (do_register) {
    const auto r = (*reopened)->register_agent(AgentRecord{"99999999", "fuzz-agent", "any", "k"});
    if (r.status == RegisterStatus::io_error) {
      std::fprintf(stderr, "register: %s\n", r.detail.c_str());
      std::abort();
    }
  }
  return 0;
}
