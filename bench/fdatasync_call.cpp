#include "bench/fdatasync_call.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <string_view>

#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/unique_fd.hpp"

namespace keyreq::bench {

namespace {

// The size of a client.keys line of the dataset's agents.
constexpr std::string_view kLine =
    "100000 agent-100000 any 5f1b6a4c2d9e8f7a0b3c6d5e4f1a2b3c5f1b6a4c2d9e8f7a0b3c6d5e4f1a2b3c\n";

class FdatasyncProbe final : public TimedCall {
 public:
  explicit FdatasyncProbe(std::filesystem::path file) : file_(std::move(file)) {
    fd_.reset(::open(file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
    if (fd_.get() < 0) open_error_ = "cannot create " + file_.string() + ": " + errno_text(errno);
  }
  ~FdatasyncProbe() override {
    fd_.reset();
    std::error_code ec;
    std::filesystem::remove(file_, ec);
  }
  Result call(const WorkItem&, std::string& error) override {
    if (!open_error_.empty()) {
      error = open_error_;
      return {false, "io_error"};
    }
    if (::write(fd_.get(), kLine.data(), kLine.size()) != static_cast<ssize_t>(kLine.size()) ||
        ::fdatasync(fd_.get()) != 0) {
      error = "append + fdatasync " + file_.string() + ": " + errno_text(errno);
      return {false, "io_error"};
    }
    return {true, "durable"};
  }

 private:
  std::filesystem::path file_;
  UniqueFd fd_;
  std::string open_error_;
};

}  // namespace

std::unique_ptr<TimedCall> make_fdatasync_call(const std::filesystem::path& dir) {
  static std::atomic<unsigned> serial{0};
  return std::make_unique<FdatasyncProbe>(dir / ("fdatasync-" + std::to_string(++serial) + ".keys"));
}

}  // namespace keyreq::bench
