#pragma once
// Raw Unix stream exchanges with a provider daemon: any bytes, written in
// pieces with pauses, with or without a half-close, the reply recorded piece
// by piece. What the resolver's SocketClient never does, certification needs.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace keyreq::certify {

struct SocketScript {
  std::vector<std::string> pieces;             // written in order; empty: send nothing
  std::chrono::milliseconds pause_between{0};  // between two pieces
  bool half_close = false;                     // shutdown(SHUT_WR) after the last piece
  bool stop_at_document_end = true;            // stop reading once one JSON document is complete
  bool read_reply = true;                      // false: close right after writing (health check)
  std::chrono::milliseconds timeout{5'000};    // whole exchange, connect included
  std::size_t max_reply = 64 * 1024;
};

struct ReplyPiece {
  std::size_t bytes = 0;
  std::chrono::nanoseconds at{0};  // since the request was written
};

struct SocketRun {
  bool connected = false;
  std::string connect_error;
  std::string write_error;         // a piece could not be written (peer closed)
  std::string read_error;          // recv failed other than by a reset
  std::string reply;               // at most max_reply + 1 bytes
  std::vector<ReplyPiece> pieces;  // what each successful recv returned
  bool eof = false;                // the provider closed the connection
  bool reset = false;              // connection reset
  bool complete_document = false;  // stopped because one JSON document was complete
  bool timed_out = false;
  bool too_large = false;
  std::chrono::nanoseconds elapsed{0};
};

SocketRun socket_exchange(const std::string& path, const SocketScript& script);

// Opens one connection per request and writes its request at once (one
// write, no half-close), all of them before reading any reply, then reads
// all replies: the provider has up to `requests.size()` connections open
// together. Each reply stops at its document end, EOF or the shared deadline.
std::vector<SocketRun> concurrent_exchanges(const std::string& path, const std::vector<std::string>& requests,
                                            std::chrono::milliseconds timeout, std::size_t max_reply = 64 * 1024);

// Connects and closes at once, sending nothing (the resolver's health check).
// Returns the connect error, "" on success.
std::string socket_touch(const std::string& path, std::chrono::milliseconds timeout);

}  // namespace keyreq::certify
