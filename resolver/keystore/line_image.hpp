#pragma once
// LineImage: the in-memory image of client.keys — every line's bytes, the
// file order, and the three uniqueness indexes (id, name, ip identity). No
// locking and no I/O here: KeyStore::Impl holds the lock and writes the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "resolver/keystore/entry_line.hpp"
#include "resolver/keystore/field_index.hpp"

namespace keyreq::keystore_internal {

struct LineImage {
  enum class Kind : std::uint8_t { comment, active, removed, dead };

  // One line of the file. Its bytes (without '\n') are text[off, off+len).
  struct Line {
    std::uint64_t off = 0;
    std::uint32_t len = 0;
    Fields f;
    Kind kind = Kind::comment;
  };

  // The file's image: every line's bytes live in `text` (the file as read,
  // then appended lines and rewritten lines), `lines` is the file order.
  std::string text;
  std::vector<Line> lines;
  FieldIndex by_id;    // id → the active line for it, else one removed line
  FieldIndex by_name;  // active lines only
  FieldIndex by_ip;    // active lines only, `any` excluded
  std::size_t active = 0;

  std::string_view line_text(std::uint32_t pos) const {
    const Line& l = lines[pos];
    return std::string_view(text).substr(l.off, l.len);
  }
  std::string_view id_of(std::uint32_t pos) const {
    const Line& l = lines[pos];
    return std::string_view(text).substr(l.off, l.f.name_at - 1);
  }
  std::string_view name_of(std::uint32_t pos) const {
    const Line& l = lines[pos];
    return std::string_view(text).substr(l.off + l.f.name_at, l.f.ip_at - l.f.name_at - 1);
  }
  std::string_view ip_of(std::uint32_t pos) const {
    const Line& l = lines[pos];
    return std::string_view(text).substr(l.off + l.f.ip_at, l.f.key_at - l.f.ip_at - 1);
  }
  std::string_view key_of(std::uint32_t pos) const {
    const Line& l = lines[pos];
    return std::string_view(text).substr(l.off + l.f.key_at, l.len - l.f.key_at);
  }

  auto id_key() const {
    return [this](std::uint32_t p) { return id_of(p); };
  }
  auto name_key() const {
    return [this](std::uint32_t p) { return name_of(p); };
  }
  auto ip_key() const {
    return [this](std::uint32_t p) { return IpIdentity(ip_of(p)); };
  }

  std::uint32_t find_id(std::string_view id) const {
    const std::size_t s = by_id.find(id, hash_of(id), id_key());
    return s == FieldIndex::npos ? kNone : by_id.at(s);
  }
  std::uint32_t find_name(std::string_view name) const {
    const std::size_t s = by_name.find(name, hash_of(name), name_key());
    return s == FieldIndex::npos ? kNone : by_name.at(s);
  }
  // The active line holding the same ip (in any spelling), or kNone.
  std::uint32_t find_ip(std::string_view ip) const {
    const IpIdentity identity(ip);
    if (identity.is_any()) return kNone;
    const std::size_t s = by_ip.find(identity.view(), hash_of(identity.view()), ip_key());
    return s == FieldIndex::npos ? kNone : by_ip.at(s);
  }
  void index_ip(std::uint32_t pos);
  void unindex_ip(std::uint32_t pos);

  // 1-based line number of a line, for load errors (only on the error path).
  std::size_t line_number(std::uint32_t pos) const;

  // Adds the line text[off, off+len) during load. Returns the reason when it
  // is malformed or clashes with a line loaded before; nothing is added then.
  std::string load_line(std::uint64_t off, std::uint32_t len);
  // Replaces the whole image with `content` (known valid): text, lines, indexes.
  void load_all(std::string content);

  // Appends a new active line (already checked to clash with nothing active).
  std::uint32_t add_line(std::string_view line, const Fields& f);
  // Rewrites an active line as removed ("ID !NAME IP KEY"); frees its name and ip.
  void mark_removed(std::uint32_t pos);
  void rebuild_indexes();
  // The file content: every line but dead ones (and removed ones when asked).
  std::string serialize(bool drop_removed) const;
};

}  // namespace keyreq::keystore_internal
