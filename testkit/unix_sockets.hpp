#pragma once
// Client side of a Unix stream socket for tests: blocking connect, whole
// writes, reads bounded in time, and one request/reply exchange.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyreq::testkit {

// A connected blocking socket, or -1 with errno set.
int connect_unix(const std::string& path);

// Polls until something accepts connections on `path`.
bool wait_for_socket(const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Sends all of `bytes` (no SIGPIPE); false when the peer went away.
bool write_all(int fd, std::string_view bytes);

// Reads until the peer has sent `n` bytes or closes, at most `timeout` between reads.
std::string read_some(int fd, std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(1));

// Reads until EOF or `timeout`; `chunk_sizes` receives the size of each read.
std::string read_to_eof(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                        std::vector<std::size_t>* chunk_sizes = nullptr);

// One request the way the resolver sends it: connect, write, (half-close,)
// read the reply until the provider closes. nullopt when it cannot connect.
std::optional<std::string> socket_request(const std::string& path, std::string_view request, bool half_close = false,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace keyreq::testkit
