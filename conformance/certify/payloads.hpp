#pragma once
// Adversarial requests: what a compromised requester or a local writer to
// the request socket could send, never what the resolver sends. Each one must
// be declined (docs/certify.md lists them).
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace keyreq::certify {

struct Payload {
  std::string name;      // probe name: "sqli-quote-or"; the probe id is adversarial.<kind>.<name>
  std::string kind;      // "id", "ip" or "request" (the request as a whole is wrong)
  std::string category;  // "sql", "overlong", "empty", "non-digit", "non-address", "shell", "unicode",
                         // "newline", "option", "missing"
  std::string title;     // one line for the report
  // exec: the words after the provider's command; nullopt: not sendable over exec (NUL).
  std::optional<std::vector<std::string>> exec_args;
  // socket: the request bytes; nullopt: no socket form.
  std::optional<std::string> socket_bytes;
  // The request the answer is judged against (C1/C2): kind word and value as sent.
  std::string judge_kind = "id";
  std::string judge_value;
  bool sql = false;
  // SPEC §2 tolerates one trailing "\n" or "\r\n" on a request: a provider may
  // decline it, or answer it as this well-formed request (kind word, value).
  std::optional<std::pair<std::string, std::string>> tolerated_as;
  std::string canary;  // shell payloads: a file that exists only if a shell ran the payload
};

// `known_id`, `known_ip`: a dataset agent, so a provider that is lenient
// (strips spaces, takes a prefix, accepts look-alike digits) actually finds a
// record. `canary_dir`: where shell payloads try to create files.
std::vector<Payload> adversarial_payloads(const std::string& known_id, const std::string& known_ip,
                                          const std::string& canary_dir);

}  // namespace keyreq::certify
