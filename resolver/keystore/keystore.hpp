#pragma once
// client.keys (SPEC §5): load, uniqueness, durable group-committed appends,
// atomic rewrites, torn-line repair. See docs/keystore.md.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "resolver/core/agent.hpp"
#include "resolver/keystore/keys_file_lock.hpp"

namespace keyreq {

struct KeyEntry {
  AgentRecord agent;
  bool removed = false;  // NAME starts with '!' or '#': the id stays taken
};

struct KeyStoreError {
  std::string path;
  std::size_t line = 0;  // 0 when not about one line
  std::string reason;
  std::string message() const;  // "client.keys:12: reason"
};

enum class RegisterStatus { registered, already_registered, conflict, io_error };

struct RegisterResult {
  RegisterStatus status;
  std::string detail;  // conflict: which field and which existing entry; io_error: errno text
};

// Called exactly once with the result of register_agent_async(). Must be
// quick, must not throw and must not call register_agent() (synchronous),
// flush() or the destructor: it may run on the store's committer thread.
using RegisterCallback = std::function<void(RegisterResult)>;

struct KeyStoreOptions {
  bool force_insert = false;
  // Writer::committer_gathering: how long the committer may hold an open
  // batch for more entries, and the size that ends the wait. One fdatasync
  // costs 100+ µs of CPU on a VM; under a backlog every entry has waited in
  // the queue far longer than this (docs/keystore.md).
  std::chrono::microseconds gather_window{8000};
  std::size_t gather_entries = 256;
  // When set, a batch's callbacks run inside it (called with a function that
  // runs them), on the thread that reports the batch. keyreq serve holds its
  // log lines there: one write() for a batch's `registered` lines.
  std::function<void(const std::function<void()>& run_callbacks)> around_batch_callbacks{};
};

class KeyStore {
 public:
  // Takes the file's writer lock (KeysFileLock: refused, naming the holder's
  // pid, when another store holds it), then loads (creating an empty file
  // when absent) and repairs a torn last line. The store keeps the lock until
  // it is destroyed. Malformed lines are an error naming the line; a FIFO,
  // directory or other non-regular file is refused without blocking; nothing
  // is changed on disk then.
  static std::variant<std::unique_ptr<KeyStore>, KeyStoreError> open(const std::filesystem::path& path,
                                                                     KeyStoreOptions options = {});
  // The same with the lock already held (keyreq serve takes it before it
  // binds its input socket, and loads the file after both are held).
  static std::variant<std::unique_ptr<KeyStore>, KeyStoreError> open(const std::filesystem::path& path,
                                                                     KeyStoreOptions options, KeysFileLock lock);
  ~KeyStore();  // flush(), then stops the committer thread

  // Thread-safe, does not wait for the disk. The decision is taken at once
  // under the store's lock: `conflict` / `already_registered` / refusal are
  // reported before returning (done runs on the calling thread). A new entry
  // is appended to the open batch; the store's committer thread writes the
  // batch with one write() and one fdatasync, then runs done(registered) for
  // every member (or done(io_error) for all of them: nothing is reported
  // registered that is not on disk). When the entry clashes with one still
  // on its way to disk, the decision waits for that batch (done runs on the
  // committer thread afterwards). force_insert over active entries and any
  // registration during a compaction do the rewrite / wait on the calling
  // thread. See docs/keystore.md.
  //
  // Writer::caller_if_idle: when no batch is being written, the calling
  // thread writes the open batch holding the new entry itself (the same one
  // write() and one fdatasync) and runs its members' callbacks before
  // returning, instead of waking the committer thread: one thread hand-off
  // less for a lone registration (issue 13). When a batch is being written
  // it behaves as Writer::committer.
  //
  // Writer::committer_gathering: the caller has more registrations on their
  // way (a backlog: keyreq serve under a herd). The committer may then hold
  // the open batch up to gather_window for it to reach gather_entries, so
  // that one fdatasync (some 20-40 us of CPU on a VM) serves more entries.
  // The wait ends at once when an entry arrives without this hint, on
  // flush() and on shutdown.
  enum class Writer { committer, caller_if_idle, committer_gathering };
  void register_agent_async(const AgentRecord& agent, RegisterCallback done, Writer writer = Writer::committer);

  // Thread-safe. Returns only once the entry is on disk (fsync); the fsync of
  // concurrent callers is shared (group commit). register_agent_async + wait.
  RegisterResult register_agent(const AgentRecord& agent);

  // Waits until every registration accepted so far has been reported
  // (durable or failed). Not from a RegisterCallback.
  void flush();

  // Rewrites the file without removed entries (temp file + fsync + rename).
  std::optional<KeyStoreError> compact();

  // Appended batches written so far (one write and one fdatasync each).
  std::uint64_t batches_written() const;

  std::optional<KeyEntry> find_by_id(const std::string& id) const;
  std::size_t active_count() const;
  const std::filesystem::path& path() const { return path_; }
  // What start-up repair did ("" when nothing): for the log.
  const std::string& repair_note() const { return repair_note_; }

 private:
  struct Impl;
  explicit KeyStore(std::filesystem::path path, KeyStoreOptions options);
  std::filesystem::path path_;
  std::string repair_note_;
  std::optional<KeysFileLock> lock_;  // held for the store's lifetime
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyreq
