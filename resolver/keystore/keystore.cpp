// client.keys storage (SPEC §5). Layout of this file:
//   - line parsing and the field checks shared by load and register
//   - FieldIndex: a compact open-addressing hash index over line positions
//   - KeyStore::Impl: the in-memory image of the file, the three indexes,
//     group commit of appends and the atomic rewrites
//   - open() with torn-line repair, register_agent(), compact(), queries
// docs/keystore.md explains the format, the durability protocol and why.
#include "resolver/keystore/keystore.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>

#include "resolver/core/field_rules.hpp"

namespace keyreq {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// "what path: strerror" for an I/O failure, used in io_error details and
// KeyStoreError reasons.
std::string io_failure(std::string_view what, const std::filesystem::path& p, int err) {
  std::string s(what);
  s += ' ';
  s += p.string();
  s += ": ";
  s += errno_text(err);
  return s;
}

bool is_comment(std::string_view line) { return line.empty() || line[0] == '#' || line[0] == ' '; }
bool is_removed_name(std::string_view name) { return !name.empty() && (name[0] == '!' || name[0] == '#'); }
// What the ip index compares (SPEC §5, docs/keystore.md): for an S4 value its
// network identity (binary address, prefix length, host bits cleared), so one
// address in two spellings is one ip; a line edited by hand that is no S4
// value is compared as text. A NUL tag byte keeps the two kinds apart (an ip
// field never starts with NUL). No allocation: it is computed on every probe.
class IpIdentity {
 public:
  explicit IpIdentity(std::string_view ip) : text_(ip) {
    if (const auto identity = rules::network_identity(ip)) {
      binary_ = true;
      bytes_[0] = '\0';
      std::copy(identity->begin(), identity->end(), bytes_.begin() + 1);
    }
  }
  std::string_view view() const { return binary_ ? std::string_view(bytes_.data(), bytes_.size()) : text_; }
  // `any` and every IPv4 network of length 0 are shared, never unique.
  bool is_any() const { return binary_ && bytes_[1] == 4 && bytes_[2] == 0; }
  friend bool operator==(const IpIdentity& a, std::string_view b) { return a.view() == b; }

 private:
  bool binary_ = false;
  std::array<char, 19> bytes_{};
  std::string_view text_;
};
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Field boundaries inside one entry line "ID NAME IP KEY": offsets of the
// first byte of NAME, IP and KEY (each preceded by exactly one space).
struct Fields {
  std::uint32_t name_at = 0;
  std::uint32_t ip_at = 0;
  std::uint32_t key_at = 0;
};

// Splits and checks an entry line (not a comment). Returns the reason on failure.
std::variant<Fields, std::string> parse_entry(std::string_view line) {
  if (line.size() > std::numeric_limits<std::uint32_t>::max()) return std::string("line too long");
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::string("expected \"ID NAME IP KEY\": no space after the id");
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::string("expected \"ID NAME IP KEY\": only one field after the id");
  const auto sp3 = line.find(' ', sp2 + 1);
  if (sp3 == std::string_view::npos) return std::string("expected \"ID NAME IP KEY\": no key");
  const std::string_view id = line.substr(0, sp1);
  const std::string_view name = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view ip = line.substr(sp2 + 1, sp3 - sp2 - 1);
  const std::string_view key = line.substr(sp3 + 1);
  if (!all_digits(id)) return "id \"" + std::string(id) + "\" is not ASCII digits";
  if (name.empty()) return std::string("empty name (two spaces after the id?)");
  if (ip.empty()) return std::string("empty ip (two spaces after the name?)");
  if (key.empty()) return std::string("empty key");
  return Fields{static_cast<std::uint32_t>(sp1 + 1), static_cast<std::uint32_t>(sp2 + 1),
                static_cast<std::uint32_t>(sp3 + 1)};
}

// Why an agent cannot be written as one client.keys line, or "" when it can.
std::string unwritable_reason(const AgentRecord& a) {
  auto has_control = [](std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return c == '\n' || c == '\r' || c == '\0'; });
  };
  if (!all_digits(a.id)) return "id \"" + a.id + "\" is not ASCII digits";
  if (a.name.empty()) return "empty name";
  if (is_removed_name(a.name)) return "name \"" + a.name + "\" starts with a removal marker ('!' or '#')";
  if (a.name.find(' ') != std::string::npos || has_control(a.name)) return "name contains a space or line break";
  if (a.ip.empty()) return "empty ip";
  if (a.ip.find(' ') != std::string::npos || has_control(a.ip)) return "ip contains a space or line break";
  if (a.key.empty()) return "empty key";
  if (has_control(a.key)) return "key contains a line break or NUL";
  return {};
}

std::uint32_t hash_of(std::string_view s) {
  const std::size_t h = std::hash<std::string_view>{}(s);
  return static_cast<std::uint32_t>(h ^ (static_cast<std::uint64_t>(h) >> 32));
}

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// Hash index from a field value to a line position. The key text is not
// stored: it is read back from the line (key_of), so an index costs 8 bytes
// a slot. Linear probing, backward-shift deletion, load factor ≤ 0.7.
class FieldIndex {
 public:
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

  void reset(std::size_t expected) {
    std::size_t cap = 16;
    while (cap * 7 < (expected + 1) * 10) cap *= 2;
    slots_.assign(cap, Slot{});
    size_ = 0;
  }

  template <class KeyOf>
  std::size_t find(std::string_view key, std::uint32_t h, const KeyOf& key_of) const {
    if (slots_.empty()) return npos;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.pos == kNone) return npos;
      if (s.hash == h && key_of(s.pos) == key) return i;
    }
  }

  std::uint32_t at(std::size_t slot) const { return slots_[slot].pos; }
  void set(std::size_t slot, std::uint32_t pos) { slots_[slot].pos = pos; }

  // The key must be absent.
  void insert(std::uint32_t pos, std::uint32_t h) {
    if (slots_.empty() || (size_ + 1) * 10 > slots_.size() * 7) grow();
    place(Slot{pos, h});
    ++size_;
  }

  void erase(std::size_t slot) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t hole = slot;
    for (std::size_t j = (hole + 1) & mask; slots_[j].pos != kNone; j = (j + 1) & mask) {
      const std::size_t home = slots_[j].hash & mask;
      // Slot j may move into the hole unless its home lies cyclically in (hole, j].
      const bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (stays) continue;
      slots_[hole] = slots_[j];
      hole = j;
    }
    slots_[hole] = Slot{};
    --size_;
  }

 private:
  struct Slot {
    std::uint32_t pos = kNone;
    std::uint32_t hash = 0;
  };

  void place(Slot s) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = s.hash & mask;
    while (slots_[i].pos != kNone) i = (i + 1) & mask;
    slots_[i] = s;
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    for (const Slot& s : old)
      if (s.pos != kNone) place(s);
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

ssize_t write_all(int fd, const char* data, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t w = ::write(fd, data + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    done += static_cast<std::size_t>(w);
  }
  return static_cast<ssize_t>(done);
}

int fsync_dir(const std::filesystem::path& file) {
  std::filesystem::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return errno;
  const int rc = ::fsync(dfd) == 0 ? 0 : errno;
  ::close(dfd);
  return rc;
}

std::filesystem::path with_suffix(const std::filesystem::path& p, const char* suffix) {
  std::filesystem::path r = p;
  r += suffix;
  return r;
}

// Why an entry line breaks the field rules (SPEC §4 S2-S5) that every line
// keyreq writes follows, or "". Only a torn last line is held to them: older
// files written by hand or by upstream may hold other ids.
std::string field_rules_breach(std::string_view line, const Fields& f) {
  const std::string_view id = line.substr(0, f.name_at - 1);
  std::string_view name = line.substr(f.name_at, f.ip_at - f.name_at - 1);
  const std::string_view ip = line.substr(f.ip_at, f.key_at - f.ip_at - 1);
  const std::string_view key = line.substr(f.key_at);
  if (is_removed_name(name)) name.remove_prefix(1);
  if (!rules::is_agent_id(id)) return "id \"" + std::string(id) + "\" breaks S2 (3 to 8 digits)";
  if (!rules::is_agent_name(name)) return "name breaks S3";
  if (!rules::is_agent_ip(ip)) return "ip \"" + std::string(ip) + "\" breaks S4";
  if (!rules::is_agent_key(key)) return "key breaks S5 (1 to 128 printable bytes, no space at either end)";
  return {};
}

// Appends `bytes` to `file` and fsyncs it and its directory. On failure the
// file is cut back to what it held, or removed when this call created it (a
// full disk must not leave an empty or half-written file). 0 or the errno.
int append_durably_or_undo(const std::filesystem::path& file, std::string_view bytes) {
  bool created = true;
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  }
  if (fd < 0) return errno;
  struct stat st {};
  int err = ::fstat(fd, &st) == 0 ? 0 : errno;
  if (err == 0 && (write_all(fd, bytes.data(), bytes.size()) < 0 || ::fsync(fd) != 0)) err = errno;
  if (err != 0) {
    if (created) ::unlink(file.c_str());
    else if (::ftruncate(fd, st.st_size) == 0) ::fsync(fd);
  }
  ::close(fd);
  if (err == 0) err = fsync_dir(file);
  return err;
}

}  // namespace

std::string KeyStoreError::message() const {
  std::string s = path;
  if (line != 0) {
    s += ':';
    s += std::to_string(line);
  }
  s += ": ";
  s += reason;
  return s;
}

// ---------------------------------------------------------------------------

struct KeyStore::Impl {
  enum class Kind : std::uint8_t { comment, active, removed, dead };

  // One line of the file. Its bytes (without '\n') are text[off, off+len).
  struct Line {
    std::uint64_t off = 0;
    std::uint32_t len = 0;
    Fields f;
    Kind kind = Kind::comment;
  };

  // A registration whose decision waits for a clashing line still on its
  // way to disk: decided again once that line's batch is settled.
  struct Deferred {
    AgentRecord agent;
    RegisterCallback done;
  };

  // Lines appended together and made durable by one write + one fdatasync.
  // Its lines are lines[first, end). A rewrite takes the open batch along.
  struct Batch {
    std::string bytes;
    std::uint32_t first = 0;
    std::uint32_t end = 0;
    bool done = false;
    std::string error;  // set when the batch failed: every member gets io_error
    std::vector<RegisterCallback> members;  // one per appended line (not a force_insert rewrite's own line)
    std::vector<Deferred> deferred;         // decisions waiting for this batch
  };

  std::filesystem::path path;
  bool force_insert = false;

  mutable std::mutex mu;
  std::condition_variable idle_cv;  // writing or rewriting became false
  int fd = -1;                      // O_WRONLY|O_APPEND on the current file

  // The file's image: every line's bytes live in `text` (the file as read,
  // then appended lines and rewritten lines), `lines` is the file order.
  std::string text;
  std::vector<Line> lines;
  FieldIndex by_id;    // id → the active line for it, else one removed line
  FieldIndex by_name;  // active lines only
  FieldIndex by_ip;    // active lines only, `any` excluded
  std::size_t active = 0;

  std::uint64_t committed_size = 0;  // bytes of the file known durable
  std::uint32_t committed_end = 0;   // lines[committed_end..] are not yet durable
  bool writing = false;              // a thread holds the writer role (leader or rewriter)
  bool rewriting = false;            // ... and it is a rewrite: decisions must wait
  std::shared_ptr<Batch> open_batch = std::make_shared<Batch>();
  std::shared_ptr<Batch> writing_batch;
  std::string broken;  // non-empty: an I/O failure left the file in doubt; writes refused

  // The committer thread writes open batches (started by open()).
  std::thread committer;
  std::condition_variable commit_cv;   // the open batch gained a line, writing became false, or stopping
  std::condition_variable settled_cv;  // in_flight went down
  std::size_t in_flight = 0;           // callbacks queued (members + deferred) and not yet run
  bool stopping = false;

  ~Impl() {
    shutdown();
    if (fd >= 0) ::close(fd);
  }

  void flush() {
    std::unique_lock lock(mu);
    settled_cv.wait(lock, [this] { return in_flight == 0; });
  }

  void shutdown() {
    if (!committer.joinable()) return;
    flush();
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    commit_cv.notify_all();
    committer.join();
  }

  bool open_batch_empty() const { return open_batch->end == open_batch->first; }

  void commit_loop() {
    std::unique_lock lock(mu);
    for (;;) {
      if (!writing && !open_batch_empty()) {
        const std::shared_ptr<Batch> b = lead(lock);
        lock.unlock();
        settle(b);
        lock.lock();
        continue;
      }
      if (stopping && open_batch_empty()) return;
      commit_cv.wait(lock);
    }
  }

  // Without the lock, after batch b was released: reports its members,
  // decides its deferred registrations again, then counts them settled.
  void settle(const std::shared_ptr<Batch>& b);

  // The decision for one registration, with the lock held. Returns the
  // result when it is known now; otherwise `done` was moved into a batch
  // (member or deferred) and nullopt is returned. A force_insert rewrite
  // done here leaves its batch in `rewritten`, to settle after unlocking.
  std::optional<RegisterResult> decide(std::unique_lock<std::mutex>& lock, const AgentRecord& agent,
                                       RegisterCallback& done, std::shared_ptr<Batch>& rewritten);
  // decide() under the lock, then settles the rewrite it may have done.
  std::optional<RegisterResult> decide_now(const AgentRecord& agent, RegisterCallback& done);

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
  void index_ip(std::uint32_t pos) {
    const IpIdentity identity(ip_of(pos));
    if (!identity.is_any()) by_ip.insert(pos, hash_of(identity.view()));
  }
  void unindex_ip(std::uint32_t pos) {
    const IpIdentity identity(ip_of(pos));
    if (!identity.is_any()) by_ip.erase(by_ip.find(identity.view(), hash_of(identity.view()), ip_key()));
  }

  // 1-based line number of a line, for load errors (only on the error path).
  std::size_t line_number(std::uint32_t pos) const {
    const auto end = text.begin() + static_cast<std::ptrdiff_t>(lines[pos].off);
    return static_cast<std::size_t>(std::count(text.begin(), end, '\n')) + 1;
  }

  // Adds the line text[off, off+len) during load. Returns the reason when it
  // is malformed or clashes with a line loaded before; nothing is added then.
  std::string load_line(std::uint64_t off, std::uint32_t len) {
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
        clash = "duplicate id " + std::string(id) + " (also on line " +
                std::to_string(line_number(by_id.at(id_slot))) + ")";
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

  // At open(), text[start..] is a last line without its newline (numbered
  // line_no): keeps it when it is an entry keyreq could have written,
  // otherwise saves it to <path>.torn and cuts it off (docs/keystore.md).
  // Returns "" or why the repair failed; `note` says what was done.
  std::string repair_torn_tail(std::size_t start, std::size_t line_no, std::string& note);

  // Appends a new active line (already checked to clash with nothing active).
  std::uint32_t add_line(std::string_view line, const Fields& f) {
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

  // Rewrites an active line as removed ("ID !NAME IP KEY"); frees its name and ip.
  void mark_removed(std::uint32_t pos) {
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

  void rebuild_indexes() {
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

  // A failed batch: its lines never happened.
  void roll_back(const Batch& b) {
    for (std::uint32_t p = b.first; p < b.end; ++p) lines[p].kind = Kind::dead;
    rebuild_indexes();
  }

  std::shared_ptr<Batch> take_open_batch() {
    std::shared_ptr<Batch> b = std::move(open_batch);
    open_batch = std::make_shared<Batch>();
    open_batch->first = open_batch->end = static_cast<std::uint32_t>(lines.size());
    writing_batch = b;
    return b;
  }

  // Ends the writer role after batch b was written (error "" = durable) or
  // rolled back, and wakes its members, the next leader and rewriters.
  void release(const std::shared_ptr<Batch>& b, std::string error) {
    b->error = std::move(error);
    b->done = true;
    writing_batch.reset();
    writing = false;
    rewriting = false;
    if (!open_batch_empty()) commit_cv.notify_one();  // the next batch
    idle_cv.notify_all();
  }

  // Writes `bytes` at the end of the file and makes them durable. On failure
  // the file is cut back to `base` bytes; returns {error, fatal} where fatal
  // means even that failed and the file's content is in doubt.
  std::pair<std::string, bool> append_durably(const std::string& bytes, std::uint64_t base) const {
    int err = 0;
    const char* what = "write";
    if (write_all(fd, bytes.data(), bytes.size()) < 0) {
      err = errno;
    } else if (::fdatasync(fd) != 0) {
      err = errno;
      what = "fdatasync";
    }
    if (err == 0) return {{}, false};
    std::string msg = io_failure(what, path, err);
    if (::ftruncate(fd, static_cast<off_t>(base)) != 0 || ::fsync(fd) != 0) {
      msg += "; cutting the file back also failed: " + errno_text(errno);
      return {msg, true};
    }
    return {msg, false};
  }

  // Group commit: called with the lock held by the committer thread when no
  // one holds the writer role. Writes the whole open batch with one write()
  // and one fdatasync and returns it, released, for settle().
  std::shared_ptr<Batch> lead(std::unique_lock<std::mutex>& lock) {
    writing = true;
    const std::shared_ptr<Batch> b = take_open_batch();
    const std::uint64_t base = committed_size;
    std::string error = broken;
    bool fatal = false;
    if (error.empty() && !b->bytes.empty()) {
      lock.unlock();
      std::tie(error, fatal) = append_durably(b->bytes, base);
      lock.lock();
    }
    if (error.empty())
      committed_size += b->bytes.size();
    else
      roll_back(*b);
    if (fatal) broken = error;
    committed_end = b->end;
    release(b, std::move(error));
    return b;
  }

  // The batch holding the line at pos (not yet durable).
  const std::shared_ptr<Batch>& batch_of(std::uint32_t pos) const {
    return (writing_batch && pos < writing_batch->end) ? writing_batch : open_batch;
  }

  std::string serialize(bool drop_removed) const {
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

  // Replaces the file with `content`: temp file in the same directory,
  // fsync, rename, fsync of the directory. The temp file's descriptor (opened
  // O_APPEND) becomes the new append fd, so nothing can fail after the rename
  // but the directory fsync. renamed tells whether the new content is in
  // place (then a failure leaves its durability in doubt, not the old file).
  struct RewriteOutcome {
    std::string error;
    bool renamed = false;
    int new_fd = -1;
  };
  RewriteOutcome rewrite_file(const std::string& content) const {
    RewriteOutcome r;
    const std::filesystem::path tmp = with_suffix(path, ".tmp");
    struct stat st {};
    const mode_t mode = ::fstat(fd, &st) == 0 ? (st.st_mode & 07777) : 0640;
    const int tfd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
    if (tfd < 0) {
      r.error = io_failure("create", tmp, errno);
      return r;
    }
    int err = 0;
    const char* what = "write";
    if (::fchmod(tfd, mode) != 0) {
      err = errno;
      what = "chmod";
    } else if (write_all(tfd, content.data(), content.size()) < 0) {
      err = errno;
    } else if (::fsync(tfd) != 0) {
      err = errno;
      what = "fsync";
    }
    if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) {
      err = errno;
      r.error = io_failure("rename to", path, err);
    } else if (err != 0) {
      r.error = io_failure(what, tmp, err);
    }
    if (err != 0) {
      ::close(tfd);
      ::unlink(tmp.c_str());
      return r;
    }
    r.renamed = true;
    r.new_fd = tfd;
    if (const int derr = fsync_dir(path); derr != 0) r.error = io_failure("fsync of the directory of", path, derr);
    return r;
  }

  // Runs a rewrite with the writer role (caller checked !writing), taking the
  // open batch along so its members become durable with it. prepare() edits
  // the image under the lock and returns the content to write; on_success and
  // on_failure run under the lock afterwards. Returns "" or the error.
  template <class Prepare, class OnSuccess, class OnFailure>
  std::string rewrite(std::unique_lock<std::mutex>& lock, std::shared_ptr<Batch>& taken, Prepare prepare,
                      OnSuccess on_success, OnFailure on_failure) {
    writing = true;
    rewriting = true;
    const std::shared_ptr<Batch> b = take_open_batch();
    taken = b;  // the caller settles it after unlocking
    const std::string content = prepare(*b);
    lock.unlock();
    RewriteOutcome r = rewrite_file(content);
    lock.lock();
    if (r.renamed) {
      // The new content is what the file holds now, durable or not.
      ::close(fd);
      fd = r.new_fd;
      committed_size = content.size();
      committed_end = b->end;
      on_success(*b);
      if (!r.error.empty()) broken = r.error + " (the file was replaced; reopen the store)";
    } else {
      on_failure(*b);  // restores what prepare() changed outside the batch
      roll_back(*b);
      committed_end = b->end;
    }
    std::string error = r.error;
    release(b, r.error);
    return error;
  }

  // Replaces the file's image with `content` (known valid) after a compaction.
  void reload_from(std::string content) {
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
    committed_end = static_cast<std::uint32_t>(lines.size());
    open_batch->first = open_batch->end = committed_end;
  }
};

// ---------------------------------------------------------------------------

KeyStore::KeyStore(std::filesystem::path path, KeyStoreOptions options)
    : path_(std::move(path)), options_(options), impl_(std::make_unique<Impl>()) {
  impl_->path = path_;
  impl_->force_insert = options_.force_insert;
}

KeyStore::~KeyStore() = default;

std::variant<std::unique_ptr<KeyStore>, KeyStoreError> KeyStore::open(const std::filesystem::path& path,
                                                                      KeyStoreOptions options) {
  auto lock = KeysFileLock::acquire(path);
  if (auto* error = std::get_if<KeysFileLockError>(&lock)) return KeyStoreError{path.string(), 0, error->reason};
  return open(path, options, std::get<KeysFileLock>(std::move(lock)));
}

std::variant<std::unique_ptr<KeyStore>, KeyStoreError> KeyStore::open(const std::filesystem::path& path,
                                                                      KeyStoreOptions options, KeysFileLock lock) {
  const std::string shown = path.string();
  auto fail = [&](std::size_t line, std::string reason) {
    return std::variant<std::unique_ptr<KeyStore>, KeyStoreError>(KeyStoreError{shown, line, std::move(reason)});
  };
  std::unique_ptr<KeyStore> store(new KeyStore(path, options));
  store->lock_.emplace(std::move(lock));
  Impl& s = *store->impl_;

  // A FIFO (or device) at the path would block open() forever: look first,
  // and open non-blocking so one swapped in meanwhile cannot block either.
  struct stat before {};
  if (::stat(path.c_str(), &before) == 0 && !S_ISREG(before.st_mode)) return fail(0, "not a regular file");

  // Read the whole file (or create it empty, mode 0640).
  int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (rfd < 0 && errno == ENOENT) {
    const int cfd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (cfd < 0 && errno != EEXIST) return fail(0, "cannot create: " + errno_text(errno));
    if (cfd >= 0) {
      const int err = ::fsync(cfd) == 0 ? 0 : errno;
      ::close(cfd);
      if (err != 0) return fail(0, "fsync after creating: " + errno_text(err));
      if (const int derr = fsync_dir(path); derr != 0) return fail(0, "fsync of its directory: " + errno_text(derr));
    }
    rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  }
  if (rfd < 0) return fail(0, "cannot open: " + errno_text(errno));
  struct stat st {};
  if (::fstat(rfd, &st) != 0) {
    const int err = errno;
    ::close(rfd);
    return fail(0, "stat: " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(rfd);
    return fail(0, "not a regular file");
  }
  s.text.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  for (;;) {
    if (got == s.text.size()) s.text.resize(s.text.size() + 4096);  // the file grew meanwhile
    const ssize_t r = ::read(rfd, s.text.data() + got, s.text.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      ::close(rfd);
      return fail(0, "read: " + errno_text(err));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  ::close(rfd);
  s.text.resize(got);

  // Parse every complete line; a malformed one stops everything, untouched.
  std::size_t start = 0;
  std::size_t line_no = 0;
  s.lines.reserve(static_cast<std::size_t>(std::count(s.text.begin(), s.text.end(), '\n')) + 1);
  s.by_id.reset(s.lines.capacity());
  s.by_name.reset(s.lines.capacity());
  s.by_ip.reset(s.lines.capacity());
  for (;;) {
    const std::size_t nl = s.text.find('\n', start);
    if (nl == std::string::npos) break;
    ++line_no;
    if (nl - start > std::numeric_limits<std::uint32_t>::max()) return fail(line_no, "line too long");
    if (std::string reason = s.load_line(start, static_cast<std::uint32_t>(nl - start)); !reason.empty())
      return fail(line_no, std::move(reason));
    start = nl + 1;
  }

  s.fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK);
  if (s.fd < 0) return fail(0, "cannot open for appending: " + errno_text(errno));
  if (::fstat(s.fd, &st) != 0 || !S_ISREG(st.st_mode)) return fail(0, "not a regular file");

  if (start < s.text.size()) {
    if (std::string error = s.repair_torn_tail(start, line_no + 1, store->repair_note_); !error.empty())
      return fail(line_no + 1, std::move(error));
  }

  // A temp file left by a rewrite that crashed before its rename: the old
  // file is intact, the temp file is garbage.
  const std::filesystem::path tmp = with_suffix(path, ".tmp");
  if (::unlink(tmp.c_str()) == 0) {
    if (!store->repair_note_.empty()) store->repair_note_ += "; ";
    store->repair_note_ += "removed " + tmp.string() + " left by an interrupted rewrite";
  }

  s.committed_size = s.text.size();
  s.committed_end = static_cast<std::uint32_t>(s.lines.size());
  s.open_batch->first = s.open_batch->end = s.committed_end;
  s.committer = std::thread([&s] { s.commit_loop(); });
  return store;
}

std::string KeyStore::Impl::repair_torn_tail(std::size_t start, std::size_t line_no, std::string& note) {
  const std::size_t torn_len = text.size() - start;
  const std::string_view torn = std::string_view(text).substr(start);
  const std::string where = path.string() + ":" + std::to_string(line_no);
  std::string reason;
  if (torn_len > std::numeric_limits<std::uint32_t>::max()) {
    reason = "line too long";
  } else if (!is_comment(torn)) {
    auto parsed = parse_entry(torn);
    if (auto* bad = std::get_if<std::string>(&parsed)) reason = std::move(*bad);
    else reason = field_rules_breach(torn, std::get<Fields>(parsed));
  }
  if (reason.empty()) reason = load_line(start, static_cast<std::uint32_t>(torn_len));
  if (reason.empty()) {
    if (write_all(fd, "\n", 1) < 0 || ::fsync(fd) != 0)
      return "repair: appending the missing newline failed: " + errno_text(errno);
    text.push_back('\n');
    note = where + ": last line had no newline; it is a valid line, newline appended";
    return {};
  }
  const std::filesystem::path torn_path = with_suffix(path, ".torn");
  std::string saved(torn);
  saved.push_back('\n');
  if (const int err = append_durably_or_undo(torn_path, saved); err != 0)
    return "repair: " + io_failure("saving the torn line to", torn_path, err);
  if (::ftruncate(fd, static_cast<off_t>(start)) != 0 || ::fsync(fd) != 0)
    return "repair: cutting off the torn line failed: " + errno_text(errno);
  text.resize(start);
  note = where + ": torn last line (" + std::to_string(torn_len) + " bytes, " + reason +
         ") cut off and saved to " + torn_path.string();
  return {};
}

std::optional<RegisterResult> KeyStore::Impl::decide(std::unique_lock<std::mutex>& lock, const AgentRecord& agent,
                                                     RegisterCallback& done, std::shared_ptr<Batch>& rewritten) {
  std::string line;
  line.reserve(agent.id.size() + agent.name.size() + agent.ip.size() + agent.key.size() + 3);
  line.append(agent.id).append(1, ' ').append(agent.name).append(1, ' ');
  line.append(agent.ip).append(1, ' ').append(agent.key);
  const Fields fields{static_cast<std::uint32_t>(agent.id.size() + 1),
                      static_cast<std::uint32_t>(agent.id.size() + agent.name.size() + 2),
                      static_cast<std::uint32_t>(agent.id.size() + agent.name.size() + agent.ip.size() + 3)};
  for (;;) {
    // Decisions are taken only on durable state: wait out rewrites; a
    // clashing line still on its way to disk defers the decision until its
    // batch is settled (it may yet be rolled back).
    if (rewriting) {
      idle_cv.wait(lock);
      continue;
    }
    if (!broken.empty()) return RegisterResult{RegisterStatus::io_error, broken};
    const std::uint32_t id_pos = find_id(agent.id);
    const std::uint32_t name_pos = find_name(agent.name);
    const std::uint32_t ip_pos = find_ip(agent.ip);
    std::uint32_t pending = kNone;
    for (std::uint32_t p : {id_pos, name_pos, ip_pos})
      if (p != kNone && p >= committed_end) pending = p;
    if (pending != kNone) {
      batch_of(pending)->deferred.push_back(Deferred{agent, std::move(done)});
      ++in_flight;
      return std::nullopt;
    }

    const bool id_active = id_pos != kNone && lines[id_pos].kind == Kind::active;
    if (id_active && line_text(id_pos) == line) return RegisterResult{RegisterStatus::already_registered, {}};

    std::string clash;
    auto note = [&](const char* field, const std::string& value, std::uint32_t pos) {
      if (!clash.empty()) clash += "; ";
      clash += std::string(field) + " \"" + value + "\" already used by " +
               (lines[pos].kind == Kind::removed ? "removed agent " : "agent ") + std::string(id_of(pos));
    };
    if (id_pos != kNone) note("id", agent.id, id_pos);
    if (name_pos != kNone) note("name", agent.name, name_pos);
    if (ip_pos != kNone) {
      note("ip", agent.ip, ip_pos);
      if (ip_of(ip_pos) != agent.ip) clash += " (as \"" + std::string(ip_of(ip_pos)) + "\")";
    }

    // Active lines that force_insert would mark removed.
    std::vector<std::uint32_t> victims;
    for (std::uint32_t p : {id_active ? id_pos : kNone, name_pos, ip_pos})
      if (p != kNone && std::find(victims.begin(), victims.end(), p) == victims.end()) victims.push_back(p);

    if (!clash.empty() && !force_insert) return RegisterResult{RegisterStatus::conflict, std::move(clash)};

    if (victims.empty()) {
      // Plain append (possibly over a removed id with force_insert): group
      // commit by the committer thread.
      const std::shared_ptr<Batch>& b = open_batch;
      const bool was_empty = open_batch_empty();
      const std::uint32_t pos = add_line(line, fields);
      b->bytes.append(line).push_back('\n');
      b->end = pos + 1;
      b->members.push_back(std::move(done));
      ++in_flight;
      if (was_empty) commit_cv.notify_one();
      return std::nullopt;
    }

    // force_insert over active entries: mark them removed and add the new
    // line in one atomic rewrite, on this thread. Needs the writer role.
    if (writing) {
      idle_cv.wait(lock);
      continue;
    }
    std::vector<std::pair<std::uint32_t, Line>> saved;
    const std::string error = rewrite(
        lock, rewritten,
        [&](Batch& b) {
          for (std::uint32_t p : victims) {
            saved.emplace_back(p, lines[p]);
            mark_removed(p);
          }
          b.end = add_line(line, fields) + 1;
          return serialize(false);
        },
        [](Batch&) {},
        [&](Batch&) {
          for (auto& [p, l] : saved) lines[p] = l;  // roll_back() then rebuilds the indexes
        });
    if (!error.empty()) return RegisterResult{RegisterStatus::io_error, error};
    return RegisterResult{RegisterStatus::registered, "replaced: " + clash};
  }
}

namespace {
// Runs on the committer thread: a callback must not take it down with it.
void report(RegisterCallback& done, RegisterResult result) {
  try {
    if (done) done(std::move(result));
  } catch (...) {
  }
}
}  // namespace

std::optional<RegisterResult> KeyStore::Impl::decide_now(const AgentRecord& agent, RegisterCallback& done) {
  std::shared_ptr<Batch> rewritten;
  std::optional<RegisterResult> r;
  {
    std::unique_lock lock(mu);
    r = decide(lock, agent, done, rewritten);
  }
  if (rewritten) settle(rewritten);
  return r;
}

void KeyStore::Impl::settle(const std::shared_ptr<Batch>& b) {
  const RegisterResult result = b->error.empty() ? RegisterResult{RegisterStatus::registered, {}}
                                                 : RegisterResult{RegisterStatus::io_error, b->error};
  for (RegisterCallback& done : b->members) report(done, result);
  for (Deferred& d : b->deferred) {
    if (auto r = decide_now(d.agent, d.done)) report(d.done, std::move(*r));
  }
  const std::size_t n = b->members.size() + b->deferred.size();
  b->members.clear();
  b->deferred.clear();
  if (n == 0) return;
  std::lock_guard lock(mu);
  in_flight -= n;
  if (in_flight == 0) settled_cv.notify_all();
}

void KeyStore::register_agent_async(const AgentRecord& agent, RegisterCallback done) {
  if (std::string why = unwritable_reason(agent); !why.empty()) {
    if (done) done(RegisterResult{RegisterStatus::conflict, "refused: " + why});
    return;
  }
  if (auto r = impl_->decide_now(agent, done); r && done) done(std::move(*r));
}

RegisterResult KeyStore::register_agent(const AgentRecord& agent) {
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<RegisterResult> result;
  };
  const auto w = std::make_shared<Wait>();
  register_agent_async(agent, [w](RegisterResult r) {
    std::lock_guard lock(w->mu);
    w->result = std::move(r);
    w->cv.notify_one();
  });
  std::unique_lock lock(w->mu);
  w->cv.wait(lock, [&] { return w->result.has_value(); });
  return std::move(*w->result);
}

void KeyStore::flush() { impl_->flush(); }

std::optional<KeyStoreError> KeyStore::compact() {
  Impl& s = *impl_;
  std::unique_lock lock(s.mu);
  while (s.writing && s.broken.empty()) s.idle_cv.wait(lock);
  if (!s.broken.empty()) return KeyStoreError{path_.string(), 0, s.broken};
  std::string content;
  std::shared_ptr<Impl::Batch> taken;
  const std::string error = s.rewrite(
      lock, taken,
      [&](Impl::Batch&) {
        content = s.serialize(true);
        return content;
      },
      [&](Impl::Batch&) { s.reload_from(std::move(content)); },
      [](Impl::Batch&) {});
  lock.unlock();
  if (taken) s.settle(taken);
  if (!error.empty()) return KeyStoreError{path_.string(), 0, "compaction failed: " + error};
  return std::nullopt;
}

std::optional<KeyEntry> KeyStore::find_by_id(const std::string& id) const {
  const Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const std::uint32_t pos = s.find_id(id);
  if (pos == kNone) return std::nullopt;
  KeyEntry e;
  e.removed = s.lines[pos].kind == Impl::Kind::removed;
  e.agent.id = s.id_of(pos);
  std::string_view name = s.name_of(pos);
  if (e.removed) name.remove_prefix(1);  // the '!' or '#' marker
  e.agent.name = name;
  e.agent.ip = s.ip_of(pos);
  e.agent.key = s.key_of(pos);
  return e;
}

std::size_t KeyStore::active_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->active;
}

}  // namespace keyreq
