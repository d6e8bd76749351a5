#pragma once
// Requests as the requester sends them (SPEC §2): "id:<ID>" or "ip:<ADDR>".
#include <string>
#include <string_view>
#include <variant>

namespace keyreq {

enum class RequestKind { id, ip };

struct Request {
  RequestKind kind;
  std::string value;  // the agent id or the address, without the "id:"/"ip:" prefix

  // "id" or "ip": the word an exec provider gets as its first argument.
  std::string_view kind_word() const { return kind == RequestKind::id ? "id" : "ip"; }
  // "id:001": the bytes a socket provider gets, and the de-duplication key.
  std::string wire() const { return std::string(kind_word()) + ":" + value; }
  bool operator==(const Request&) const = default;
};

struct InvalidRequest {
  std::string reason;  // names what is wrong; raw bytes already escaped
};

using ParsedRequest = std::variant<Request, InvalidRequest>;

// Parses one datagram. One trailing "\n" or "\r\n" is tolerated.
ParsedRequest parse_request(std::string_view bytes);

// Builds a request from the two command-line words ("id", "001").
ParsedRequest make_request(std::string_view kind_word, std::string_view value);

}  // namespace keyreq
