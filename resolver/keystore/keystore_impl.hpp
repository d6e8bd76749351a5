#pragma once
// KeyStore::Impl, shared by the keystore's source files (not a public
// header): the line image plus the writer — the lock, group commit of
// appends by the committer thread, atomic rewrites, and the registrations
// waiting on them. group_commit.cpp writes, keystore_open.cpp loads and
// repairs, keystore.cpp decides registrations.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "resolver/keystore/keystore.hpp"
#include "resolver/keystore/line_image.hpp"

namespace keyreq {

struct KeyStore::Impl : keystore_internal::LineImage {
  using Fields = keystore_internal::Fields;

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
    bool gathering = false;                 // its latest member came with Writer::committer_gathering
    std::string error;                      // set when the batch failed: every member gets io_error
    std::vector<RegisterCallback> members;  // one per appended line (not a force_insert rewrite's own line)
    std::vector<Deferred> deferred;         // decisions waiting for this batch
  };

  std::filesystem::path path;
  KeyStoreOptions options;  // gather_entries at least 1

  mutable std::mutex mu;
  std::condition_variable idle_cv;  // writing or rewriting became false
  int fd = -1;                      // O_WRONLY|O_APPEND on the current file

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
  int flushing = 0;  // flush() callers waiting: no gathering
  std::uint64_t batches_written = 0;

  ~Impl();
  // Waits until every queued callback has run.
  void flush();
  // flush(), then stops the committer thread.
  void shutdown();

  bool open_batch_empty() const { return open_batch->end == open_batch->first; }

  // The committer thread's loop: leads each non-empty open batch.
  void commit_loop();
  // Whether the committer should write the open batch now rather than wait
  // (until `deadline`) for more entries (Writer::committer_gathering).
  bool write_now(std::chrono::steady_clock::time_point& deadline) const;

  // Without the lock, after batch b was released: reports its members,
  // decides its deferred registrations again, then counts them settled.
  void settle(const std::shared_ptr<Batch>& b);

  // The decision for one registration, with the lock held. Returns the
  // result when it is known now; otherwise `done` was moved into a batch
  // (member or deferred) and nullopt is returned. A force_insert rewrite
  // done here leaves its batch in `rewritten`, to settle after unlocking.
  // gathering: Writer::committer_gathering.
  std::optional<RegisterResult> decide(std::unique_lock<std::mutex>& lock, const AgentRecord& agent,
                                       RegisterCallback& done, std::shared_ptr<Batch>& rewritten, bool gathering);
  // decide() under the lock, then settles the rewrite it may have done.
  // Writer::caller_if_idle: a new entry's batch is written by this thread
  // when no one holds the writer role.
  std::optional<RegisterResult> decide_now(const AgentRecord& agent, RegisterCallback& done,
                                           KeyStore::Writer writer = KeyStore::Writer::committer);

  // At open(), text[start..] is a last line without its newline (numbered
  // line_no): keeps it when it is an entry keyreq could have written,
  // otherwise saves it to <path>.torn and cuts it off (docs/keystore.md).
  // Returns "" or why the repair failed; `note` says what was done.
  std::string repair_torn_tail(std::size_t start, std::size_t line_no, std::string& note);

  // A failed batch: its lines never happened.
  void roll_back(const Batch& b);
  std::shared_ptr<Batch> take_open_batch();
  // Ends the writer role after batch b was written (error "" = durable) or
  // rolled back, and wakes its members, the next leader and rewriters.
  void release(const std::shared_ptr<Batch>& b, std::string error);
  // Writes `bytes` at the end of the file and makes them durable. On failure
  // the file is cut back to `base` bytes; returns;error, fatal} where fatal
  // means even that failed and the file's content is in doubt.
  std::pair<std::string, bool> append_durably(const std::string& bytes, std::uint64_t base) const;
  // Group commit: called with the lock held by the committer thread when no
  // one holds the writer role. Writes the whole open batch with one write()
  // and one fdatasync and returns it, released, for settle().
  std::shared_ptr<Batch> lead(std::unique_lock<std::mutex>& lock);
  // The batch holding the line at pos (not yet durable).
  const std::shared_ptr<Batch>& batch_of(std::uint32_t pos) const {
    return (writing_batch && pos < writing_batch->end) ? writing_batch : open_batch;
  }

  // Runs a rewrite with the writer role (caller checked !writing), taking the
  // open batch along so its members become durable with it. prepare() edits
  // the image under the lock and returns the content to write; on_success and
  // on_failure run under the lock afterwards. Returns "" or the error. A cold
  // path (force_insert over active entries, compaction): std::function is fine.
  using BatchStep = std::function<void(Batch&)>;
  std::string rewrite(std::unique_lock<std::mutex>& lock, std::shared_ptr<Batch>& taken,
                      const std::function<std::string(Batch&)>& prepare, const BatchStep& on_success,
                      const BatchStep& on_failure);

  // Replaces the file's image with `content` (known valid) after a compaction.
  void reload_from(std::string content);
};

}  // namespace keyreq
