#pragma once
// The <key_request> block of an ossec.conf-style file (SPEC §6), read with
// pugixml. Every invalid value is fatal: the error names the tag, the value
// given and what is allowed. Command-line flags go through the same checks
// (apply_setting), so a flag and a tag are refused with the same words.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace keyreq {

struct KeyRequestConfig {
  bool block_found = false;  // a <key_request> block was read
  bool enabled = false;      // "yes" once a block is present, unless it says "no"
  std::string exec_path;
  std::string socket;
  int timeout_seconds = 60;
  int threads = 1;
  std::size_t queue_size = 1024;
  bool force_insert = false;
  // keyreq extension (not upstream): with a socket, call exec_path once per
  // request while the socket is down, as upstream 4.4+ does; exec_path is then
  // never started as the socket daemon. Off by default (SPEC §3).
  bool exec_fallback = false;
  // Valid but worth saying (for the log): e.g. <auth><disabled>yes</disabled>.
  std::vector<std::string> warnings;
};

struct ConfigError {
  std::string where;    // "<key_request><timeout>", "--threads", "ossec.conf:12"
  std::string value;    // the value given (escaped), "" when not about a value
  std::string allowed;  // what is allowed, "" when not about a value
  std::string reason;   // free text when not about a value
  std::string message() const;
};

// The tags of the block, in SPEC §6 order, plus exec_fallback.
inline constexpr std::string_view kKeyRequestTags[] = {"enabled", "exec_path",  "socket",       "timeout",
                                                       "threads", "queue_size", "force_insert", "exec_fallback"};

// Applies one value to `config` after checking it; `where` names its origin
// for the message ("<key_request><timeout>" or "--timeout"). Leading and
// trailing whitespace is ignored.
std::optional<ConfigError> apply_setting(KeyRequestConfig& config, std::string_view tag, std::string_view value,
                                         std::string_view where);

// Reads every <key_request> block standing at top level, inside
// <ossec_config>, or inside <auth> (later blocks override earlier ones).
// No block: block_found = false, enabled = false.
std::variant<KeyRequestConfig, ConfigError> parse_key_request_config(std::string_view xml,
                                                                     std::string_view source_name);
std::variant<KeyRequestConfig, ConfigError> load_key_request_config(const std::filesystem::path& path);

// A Unix socket path (sun_path holds 107 bytes and a NUL): 1 to 107 bytes, no
// NUL. For <socket>/--socket, and for the input socket (--input, or the one
// --home implies) before anything is opened or started.
std::optional<ConfigError> check_socket_path(std::string_view path, std::string_view where);

// The checks that need the whole block: enabled with neither exec_path nor socket.
std::optional<ConfigError> check_complete(const KeyRequestConfig& config);

}  // namespace keyreq
