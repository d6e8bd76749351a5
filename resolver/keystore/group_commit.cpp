// Group commit (docs/keystore.md): the committer thread writes each open
// batch of appended lines with one write and one fdatasync, then reports its
// members; rewrites (force_insert over active entries, compaction) replace
// the file atomically and take the open batch along.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <tuple>

#include "resolver/keystore/durable_file.hpp"
#include "resolver/keystore/keystore_impl.hpp"
#include "resolver/platform/atomic_file.hpp"
#include "resolver/platform/errno_text.hpp"

namespace keyreq {

using keystore_internal::io_failure;

namespace {
// Runs on the committer thread: a callback must not take it down with it.
void report(RegisterCallback& done, RegisterResult result) {
  try {
    if (done) done(std::move(result));
  } catch (...) {
  }
}
}  // namespace

KeyStore::Impl::~Impl() {
  shutdown();
  if (fd >= 0) ::close(fd);
}

void KeyStore::Impl::flush() {
  std::unique_lock lock(mu);
  ++flushing;
  commit_cv.notify_one();  // a committer gathering a batch writes it now
  settled_cv.wait(lock, [this] { return in_flight == 0; });
  --flushing;
}

void KeyStore::Impl::shutdown() {
  if (!committer.joinable()) return;
  flush();
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  commit_cv.notify_all();
  committer.join();
}

bool KeyStore::Impl::write_now(std::chrono::steady_clock::time_point& deadline) const {
  if (!open_batch->gathering || stopping || flushing > 0 || open_batch->members.size() >= options.gather_entries)
    return true;
  const auto now = std::chrono::steady_clock::now();
  if (deadline == std::chrono::steady_clock::time_point{})
    deadline = now + options.gather_window;  // first look at this batch
  return now >= deadline;
}

void KeyStore::Impl::commit_loop() {
  std::unique_lock lock(mu);
  std::chrono::steady_clock::time_point gather_deadline{};  // for the open batch; unset: not looked at yet
  for (;;) {
    if (!writing && !open_batch_empty()) {
      if (!write_now(gather_deadline)) {
        commit_cv.wait_until(lock, gather_deadline);
        continue;
      }
      gather_deadline = {};
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

void KeyStore::Impl::roll_back(const Batch& b) {
  for (std::uint32_t p = b.first; p < b.end; ++p) lines[p].kind = Kind::dead;
  rebuild_indexes();
}

std::shared_ptr<KeyStore::Impl::Batch> KeyStore::Impl::take_open_batch() {
  std::shared_ptr<Batch> b = std::move(open_batch);
  open_batch = std::make_shared<Batch>();
  open_batch->first = open_batch->end = static_cast<std::uint32_t>(lines.size());
  writing_batch = b;
  return b;
}

void KeyStore::Impl::release(const std::shared_ptr<Batch>& b, std::string error) {
  b->error = std::move(error);
  b->done = true;
  writing_batch.reset();
  writing = false;
  rewriting = false;
  if (!open_batch_empty()) commit_cv.notify_one();  // the next batch
  idle_cv.notify_all();
}

std::pair<std::string, bool> KeyStore::Impl::append_durably(const std::string& bytes, std::uint64_t base) const {
  const char* what = "write";
  int err = write_all(fd, bytes);
  if (err == 0 && ::fdatasync(fd) != 0) {
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

std::shared_ptr<KeyStore::Impl::Batch> KeyStore::Impl::lead(std::unique_lock<std::mutex>& lock) {
  writing = true;
  const std::shared_ptr<Batch> b = take_open_batch();
  const std::uint64_t base = committed_size;
  std::string error = broken;
  bool fatal = false;
  if (error.empty() && !b->bytes.empty()) {
    lock.unlock();
    std::tie(error, fatal) = append_durably(b->bytes, base);
    lock.lock();
    ++batches_written;
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

std::string KeyStore::Impl::rewrite(std::unique_lock<std::mutex>& lock, std::shared_ptr<Batch>& taken,
                                    const std::function<std::string(Batch&)>& prepare, const BatchStep& on_success,
                                    const BatchStep& on_failure) {
  writing = true;
  rewriting = true;
  const std::shared_ptr<Batch> b = take_open_batch();
  taken = b;  // the caller settles it after unlocking
  const std::string content = prepare(*b);
  lock.unlock();
  struct stat st {};
  const mode_t mode = ::fstat(fd, &st) == 0 ? (st.st_mode & 07777) : 0640;
  keystore_internal::ReplaceOutcome r = keystore_internal::replace_durably(path, content, mode);
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

void KeyStore::Impl::reload_from(std::string content) {
  load_all(std::move(content));
  committed_end = static_cast<std::uint32_t>(lines.size());
  open_batch->first = open_batch->end = committed_end;
}

void KeyStore::Impl::settle(const std::shared_ptr<Batch>& b) {
  const RegisterResult result = b->error.empty() ? RegisterResult{RegisterStatus::registered, {}}
                                                 : RegisterResult{RegisterStatus::io_error, b->error};
  auto run_callbacks = [&] {
    for (RegisterCallback& done : b->members) report(done, result);
    for (Deferred& d : b->deferred) {
      if (auto r = decide_now(d.agent, d.done)) report(d.done, std::move(*r));
    }
  };
  if (options.around_batch_callbacks && !(b->members.empty() && b->deferred.empty()))
    options.around_batch_callbacks(run_callbacks);
  else
    run_callbacks();
  const std::size_t n = b->members.size() + b->deferred.size();
  b->members.clear();
  b->deferred.clear();
  if (n == 0) return;
  std::lock_guard lock(mu);
  in_flight -= n;
  if (in_flight == 0) settled_cv.notify_all();
}

}  // namespace keyreq
