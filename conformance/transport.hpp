#pragma once
// Cases through the real transports: an exec provider that replays the bytes
// from a file (keyreq-replay-provider FILE id 001), and a Unix socket server
// thread that replays them, each in front of keyreq::ExecClient /
// SocketClient + Resolver + a real KeyStore in a temp dir.
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conformance/compare.hpp"

namespace keyreq::conformance {

class TransportSample {
 public:
  // replay_program: the exec provider; "" finds keyreq-replay-provider beside
  // this executable or in $KEYREQ_BIN_DIR, else falls back to /bin/sh + cat.
  explicit TransportSample(std::string replay_program = {});
  ~TransportSample();
  TransportSample(const TransportSample&) = delete;
  TransportSample& operator=(const TransportSample&) = delete;

  const std::string& error() const { return error_; }  // "" when both transports are up
  std::string describe() const;

  // The resolver's verdict through each transport, registering into its own client.keys.
  Verdict via_exec(const Case& c);
  Verdict via_socket(const Case& c);
  std::size_t max_output() const;

  // client.keys of each transport: (transport, line) for every entry line.
  std::vector<std::pair<std::string, std::string>> keys_lines() const;
  // Closes and reopens both client.keys files (the transport keeps the
  // reopened stores); "" when they load.
  std::string reopen_error() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

// Where one complete top-level object or array ends (one past its closing
// bracket); nullopt when the output does not start with one or it never
// closes. The socket client stops there: this is the platform kit's
// json_document_end, the scanner SocketClient uses.
std::optional<std::size_t> first_document_end(std::string_view output);

// "id name ip key": the client.keys line of an accepted record.
std::string keys_line(const OracleAccept& a);

// Does a verdict seen through a transport conform? `oracle_full` judges all
// the bytes; for the socket, `oracle_prefix` judges the bytes up to the first
// complete document (the reader may stop there; nullopt for exec, which reads
// to EOF). Registered, already registered and conflict all count for an
// accept. Past max_output only output_too_large conforms for exec.
bool transport_conforms(const Verdict& got, const Verdict& oracle_full, const std::optional<Verdict>& oracle_prefix,
                        std::size_t output_size, std::size_t max_output);

}  // namespace keyreq::conformance
