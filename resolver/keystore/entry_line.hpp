#pragma once
// One client.keys line (SPEC §5, docs/keystore.md): "ID NAME IP KEY", comment
// lines, the removal marker, and the checks an entry line passes before the
// keystore loads or writes it. Shared by load, repair and register.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "resolver/core/agent.hpp"

namespace keyreq::keystore_internal {

inline bool is_comment(std::string_view line) { return line.empty() || line[0] == '#' || line[0] == ' '; }
inline bool is_removed_name(std::string_view name) { return !name.empty() && (name[0] == '!' || name[0] == '#'); }

// What the ip index compares (SPEC §5, docs/keystore.md): for an S4 value its
// network identity (binary address, prefix length, host bits cleared), so one
// address in two spellings is one ip; a line edited by hand that is no S4
// value is compared as text. A NUL tag byte keeps the two kinds apart (an ip
// field never starts with NUL). No allocation: it is computed on every probe.
class IpIdentity {
 public:
  explicit IpIdentity(std::string_view ip);
  std::string_view view() const { return binary_ ? std::string_view(bytes_.data(), bytes_.size()) : text_; }
  // `any` and every IPv4 network of length 0 are shared, never unique.
  bool is_any() const { return binary_ && bytes_[1] == 4 && bytes_[2] == 0; }
  friend bool operator==(const IpIdentity& a, std::string_view b) { return a.view() == b; }

 private:
  bool binary_ = false;
  std::array<char, 19> bytes_{};
  std::string_view text_;
};

// Field boundaries inside one entry line "ID NAME IP KEY": offsets of the
// first byte of NAME, IP and KEY (each preceded by exactly one space).
struct Fields {
  std::uint32_t name_at = 0;
  std::uint32_t ip_at = 0;
  std::uint32_t key_at = 0;
};

// Splits and checks an entry line (not a comment). Returns the reason on failure.
std::variant<Fields, std::string> parse_entry(std::string_view line);

// Why an agent cannot be written as one client.keys line, or "" when it can.
std::string unwritable_reason(const AgentRecord& a);

// Why an entry line breaks the field rules (SPEC §4 S2-S5) that every line
// keyreq writes follows, or "". Only a torn last line is held to them: older
// files written by hand or by upstream may hold other ids.
std::string field_rules_breach(std::string_view line, const Fields& f);

}  // namespace keyreq::keystore_internal
