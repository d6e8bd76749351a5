#pragma once
// Run plumbing: a private work directory, the providers under test (command
// lines for both transports), starting and stopping a socket daemon, and
// CPU accounting for this process and for the provider processes.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "resolver/platform/temp_dir.hpp"

namespace keyreq::bench {

// The run's private work directory (the platform kit's TempDir, named
// keyreq-bench-XXXXXX under `parent`, default $TMPDIR or /tmp); removed on
// destruction unless kept. Throws std::runtime_error when it cannot be made.
class WorkDir : public TempDir {
 public:
  explicit WorkDir(const std::string& parent = "", bool keep = false) : TempDir("keyreq-bench", parent) {
    this->keep(keep);
  }
};

struct ProviderSpec {
  std::string name;                         // reference, python, php, perl, or the user's --name
  std::vector<std::string> exec_command;    // absolute program path first; request words are appended (empty: no exec)
  std::vector<std::string> daemon_command;  // serves `socket_path` (empty: already serving, or no socket)
  std::string socket_path;                  // empty: no socket transport
  bool user = false;                        // the user's provider (--exec / --socket)
  // The interpreter of exec_command with a trivial program (prints one byte),
  // when recognised (python3, php, perl, ruby, node, sh/bash): its start-up cost.
  std::vector<std::string> startup_command;
  std::string interpreter;  // "python3", ...
};

// The known providers: "reference" (the keyreq-provider binary beside this
// executable) and the script providers found under `source_root`/fixtures/providers.
// `missing` gets one line for each asked-for provider that cannot run here.
std::vector<ProviderSpec> find_providers(const std::vector<std::string>& wanted, const std::filesystem::path& bin_dir,
                                         const std::filesystem::path& source_root, const std::string& db,
                                         const std::filesystem::path& workdir, int daemon_workers,
                                         std::vector<std::string>& missing);

// The SPEC §3 health check: a connection is accepted (nothing is sent).
bool socket_accepts(const std::string& path);

// A socket daemon in its own process group; stopped (SIGTERM, then SIGKILL
// to the group) on destruction.
class Daemon {
 public:
  // Starts `command` with stdout/stderr appended to `log`, then waits until
  // `socket_path` accepts a connection. Empty optional + `error` on failure.
  static std::optional<Daemon> start(const std::vector<std::string>& command, const std::string& socket_path,
                                     const std::string& log, std::chrono::milliseconds wait, std::string& error);
  Daemon(Daemon&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  Daemon& operator=(Daemon&&) = delete;
  ~Daemon() { stop(); }
  void stop();
  pid_t pid() const { return pid_; }

 private:
  explicit Daemon(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// CPU seconds (user + system).
double cpu_self_s();
double cpu_children_s();                 // reaped children (exec providers)
double cpu_process_group_s(pid_t pgid);  // every live process of the group (socket daemon and its workers)
// Resident set size of this process, bytes.
std::size_t rss_bytes();

// Writes a client.keys holding dataset agents `first` .. `first + n - 1`
// (bench passes indexes the dataset does not serve), in the file's own
// line format.
void write_keys_file(const std::filesystem::path& path, std::size_t first, std::size_t n);

// Directory of the running executable (where keyreq-provider and keyreq-microbench live).
std::filesystem::path executable_dir();

// Where the script providers (fixtures/providers) are, found at run time so
// that no source path is compiled in: $KEYREQ_DATA_DIR if set, else
// PREFIX/share/keyreq beside an installed keyreq, else the source tree of a
// build tree (build/<preset>/bin/../../..). Empty when none holds them.
std::filesystem::path find_data_root();

}  // namespace keyreq::bench
