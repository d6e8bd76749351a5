#pragma once
// `keyreq certify`: runs every probe against one provider and returns the
// certificate. docs/certify.md lists the probes and the rules they check.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "conformance/certify/certificate.hpp"
#include "dataset/dataset.hpp"

namespace keyreq::certify {

struct CertifyOptions {
  Transport transport = Transport::exec;
  std::vector<std::string> command;  // exec: the provider's words (split like exec_path)
  std::string command_line;          // exec: as given, for the certificate
  std::string socket_path;           // socket
  std::string dataset_path;
  std::vector<fixtures::DatasetAgent> agents;  // the agents the provider is expected to know
  std::chrono::milliseconds timeout{5'000};    // per call
  unsigned parallel = 4;                       // concurrent calls (parallel probe, probe workers)
  std::size_t sample = 8;                      // dataset agents looked up by id (and by ip)
  std::size_t max_failures = 0;                // stop probing after this many failed probes (0: never)
  std::string keyreq_version = "0.1.0";
  // Called with the number of probes as soon as it is known (before the first ends).
  std::function<void(std::size_t)> planned;
  // Called once per probe as it ends (from any thread, one call at a time).
  std::function<void(const ProbeResult&)> progress;
};

// Calls taking at least this share of the timeout are flagged (SLOW).
inline constexpr double kNearTimeoutShare = 0.5;
// Calls are no longer made after this many timeouts or start failures:
// the run stays bounded against a provider that hangs.
inline constexpr int kStopAfterFailures = 2;

// The dataset file: SQLite (from `keyreq dataset --sqlite`, told by its
// header) or CSV with header id,name,ip,key.
fixtures::DatasetRead read_dataset(const std::string& path);

// Why the dataset cannot serve as the expected answers ("" when it can):
// empty, a record that breaks a field rule (S2-S5), an id twice.
std::string dataset_problem(const std::vector<fixtures::DatasetAgent>& agents);

// Preconditions (the harness checks them, exit 2 otherwise): agents not
// empty; exec: command not empty; socket: socket_path names a socket.
Certificate certify(const CertifyOptions& options);

}  // namespace keyreq::certify
