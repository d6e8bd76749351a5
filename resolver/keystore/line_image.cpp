#include "resolver/keystore/line_image.hpp"

#include <algorithm>

namespace keyreq::keystore_internal {

void LineImage::index_ip(std::uint32_t pos) {
  const IpIdentity identity(ip_of(pos));
  if (!identity.is_any()) by_ip.insert(pos, hash_of(identity.view()));
}

void LineImage::unindex_ip(std::uint32_t pos) {
  const IpIdentity identity(ip_of(pos));
  if (!identity.is_any()) by_ip.erase(by_ip.find(identity.view(), hash_of(identity.view()), ip_key()));
}

std::size_t LineImage::line_number(std::uint32_t pos) const {
  const auto end = text.begin() + static_cast<std::ptrdiff_t>(lines[pos].off);
  return static_cast<std::size_t>(std::count(text.begin(), end, '\n')) + 1;
}

std::string LineImage::load_line(std::uint64_t off, std::uint32_t len) {
  const std::string_view t = std::string_view(text).substr(off, len);
  Line l;
  l.off = off;
  l.len = len;
  if (is_comment(t)) {
    lines.push_back(l);
    return {};
  }
  auto parsed = parse_entry(t);
  if (auto* reason = std::get_if<std::string>(&parsed)) return std::move(*reason);
  l.f = std::get<Fields>(parsed);
  const auto pos = static_cast<std::uint32_t>(lines.size());
  lines.push_back(l);
  const bool removed = is_removed_name(name_of(pos));
  lines[pos].kind = removed ? Kind::removed : Kind::active;

  const std::string_view id = id_of(pos), name = name_of(pos), ip = ip_of(pos);
  const std::uint32_t hid = hash_of(id);
  const std::size_t id_slot = by_id.find(id, hid, id_key());
  std::string clash;
  if (!removed) {
    if (id_slot != FieldIndex::npos && lines[by_id.at(id_slot)].kind == Kind::active)
      clash =
          "duplicate id " + std::string(id) + " (also on line " + std::to_string(line_number(by_id.at(id_slot))) + ")";
    else if (const std::uint32_t p = find_name(name); p != kNone)
      clash = "duplicate name \"" + std::string(name) + "\" (also on line " + std::to_string(line_number(p)) + ")";
    else if (const std::uint32_t q = find_ip(ip); q != kNone)
      clash = "duplicate ip " + std::string(ip) + " (also on line " + std::to_string(line_number(q)) +
              (ip_of(q) == ip ? "" : " as " + std::string(ip_of(q))) + ")";
  }
  if (!clash.empty()) {
    lines.pop_back();
    return clash;
  }
  if (id_slot == FieldIndex::npos)
    by_id.insert(pos, hid);
  else if (!removed)
    by_id.set(id_slot, pos);  // the active line wins over removed ones
  if (!removed) {
    by_name.insert(pos, hash_of(name));
    index_ip(pos);
    ++active;
  }
  return {};
}

void LineImage::load_all(std::string content) {
  text = std::move(content);
  const auto count = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  lines.clear();
  lines.reserve(count);
  by_id.reset(count);
  by_name.reset(count);
  by_ip.reset(count);
  active = 0;
  std::uint64_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    load_line(start, static_cast<std::uint32_t>(nl - start));
    start = nl + 1;
  }
}

std::uint32_t LineImage::add_line(std::string_view line, const Fields& f) {
  Line l;
  l.off = text.size();
  l.len = static_cast<std::uint32_t>(line.size());
  l.f = f;
  l.kind = Kind::active;
  text.append(line);
  const auto pos = static_cast<std::uint32_t>(lines.size());
  lines.push_back(l);
  const std::string_view id = id_of(pos);
  const std::uint32_t hid = hash_of(id);
  if (const std::size_t s = by_id.find(id, hid, id_key()); s != FieldIndex::npos)
    by_id.set(s, pos);  // it pointed at a removed line
  else
    by_id.insert(pos, hid);
  by_name.insert(pos, hash_of(name_of(pos)));
  index_ip(pos);
  ++active;
  return pos;
}

void LineImage::mark_removed(std::uint32_t pos) {
  const std::string_view name = name_of(pos);
  by_name.erase(by_name.find(name, hash_of(name), name_key()));
  unindex_ip(pos);
  std::string marked(line_text(pos));
  const Line old = lines[pos];
  marked.insert(old.f.name_at, 1, '!');
  Line l = old;
  l.off = text.size();
  l.len = old.len + 1;
  l.f.ip_at += 1;
  l.f.key_at += 1;
  l.kind = Kind::removed;
  text.append(marked);
  lines[pos] = l;
  --active;
}

void LineImage::rebuild_indexes() {
  by_id.reset(lines.size());
  by_name.reset(lines.size());
  by_ip.reset(lines.size());
  active = 0;
  for (std::uint32_t pos = 0; pos < lines.size(); ++pos) {
    const Kind k = lines[pos].kind;
    if (k != Kind::active && k != Kind::removed) continue;
    const std::string_view id = id_of(pos);
    const std::uint32_t hid = hash_of(id);
    const std::size_t s = by_id.find(id, hid, id_key());
    if (s == FieldIndex::npos)
      by_id.insert(pos, hid);
    else if (k == Kind::active)
      by_id.set(s, pos);
    if (k == Kind::active) {
      by_name.insert(pos, hash_of(name_of(pos)));
      index_ip(pos);
      ++active;
    }
  }
}

std::string LineImage::serialize(bool drop_removed) const {
  std::string out;
  out.reserve(text.size());
  for (std::uint32_t pos = 0; pos < lines.size(); ++pos) {
    const Kind k = lines[pos].kind;
    if (k == Kind::dead || (drop_removed && k == Kind::removed)) continue;
    out.append(line_text(pos));
    out.push_back('\n');
  }
  return out;
}

}  // namespace keyreq::keystore_internal
