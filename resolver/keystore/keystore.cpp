// client.keys storage (SPEC §5): the public KeyStore calls and the decision
// for one registration. The other parts live beside it: entry_line (the line
// format and its checks), field_index (the hash index), line_image (the
// in-memory image), durable_file (writes that must not lose data),
// group_commit.cpp (the committer and rewrites), keystore_open.cpp (load and
// torn-line repair). docs/keystore.md explains the format, the durability
// protocol and why.
#include "resolver/keystore/keystore.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "resolver/keystore/keystore_impl.hpp"

namespace keyreq {

using keystore_internal::kNone;
using keystore_internal::unwritable_reason;

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

KeyStore::KeyStore(std::filesystem::path path, KeyStoreOptions options)
    : path_(std::move(path)), impl_(std::make_unique<Impl>()) {
  impl_->path = path_;
  impl_->options = std::move(options);
  impl_->options.gather_entries = std::max<std::size_t>(impl_->options.gather_entries, 1);
}

KeyStore::~KeyStore() = default;

std::optional<RegisterResult> KeyStore::Impl::decide(std::unique_lock<std::mutex>& lock, const AgentRecord& agent,
                                                     RegisterCallback& done, std::shared_ptr<Batch>& rewritten,
                                                     bool gathering) {
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

    if (!clash.empty() && !options.force_insert) return RegisterResult{RegisterStatus::conflict, std::move(clash)};

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
      // A committer holding the batch for more entries writes it once this
      // one needs no company or the batch is full.
      const bool ends_gathering = b->gathering && (!gathering || b->members.size() >= options.gather_entries);
      b->gathering = gathering;
      if (was_empty || ends_gathering) commit_cv.notify_one();
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

std::optional<RegisterResult> KeyStore::Impl::decide_now(const AgentRecord& agent, RegisterCallback& done,
                                                         KeyStore::Writer writer) {
  const bool lead_if_idle = writer == KeyStore::Writer::caller_if_idle;
  std::shared_ptr<Batch> rewritten, led;
  std::optional<RegisterResult> r;
  {
    std::unique_lock lock(mu);
    r = decide(lock, agent, done, rewritten, writer == KeyStore::Writer::committer_gathering);
    // The entry joined the open batch and nobody is writing: write it here.
    // The lock is held since decide(), so the committer cannot take it first.
    if (lead_if_idle && !r && !rewritten && !writing && !open_batch_empty()) led = lead(lock);
  }
  if (rewritten) settle(rewritten);
  if (led) settle(led);
  return r;
}

void KeyStore::register_agent_async(const AgentRecord& agent, RegisterCallback done, Writer writer) {
  if (std::string why = unwritable_reason(agent); !why.empty()) {
    if (done) done(RegisterResult{RegisterStatus::conflict, "refused: " + why});
    return;
  }
  if (auto r = impl_->decide_now(agent, done, writer); r && done) done(std::move(*r));
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

std::uint64_t KeyStore::batches_written() const {
  std::lock_guard lock(impl_->mu);
  return impl_->batches_written;
}

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
      [&](Impl::Batch&) { s.reload_from(std::move(content)); }, [](Impl::Batch&) {});
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
