#include "resolver/platform/temp_dir.hpp"

#include <stdlib.h>

#include <cerrno>
#include <stdexcept>
#include <utility>

#include "resolver/platform/errno_text.hpp"

namespace keyreq {
namespace {

// mkdtemp under parent (or $TMPDIR, or /tmp): the path, or empty with `error`.
std::filesystem::path make_dir(const std::string& prefix, const std::string& parent, std::string& error) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string templ = (std::filesystem::path(base) / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) {
    error = "cannot create a temporary directory under " + base + ": " + errno_text(errno);
    return {};
  }
  return templ;
}

}  // namespace

TempDir::TempDir(const std::string& prefix, const std::string& parent) {
  std::string error;
  path_ = make_dir(prefix, parent, error);
  if (path_.empty()) throw std::runtime_error(error);
}

std::optional<TempDir> TempDir::create(const std::string& prefix, std::string& error, const std::string& parent) {
  TempDir dir{Empty{}};
  dir.path_ = make_dir(prefix, parent, error);
  if (dir.path_.empty()) return std::nullopt;
  return dir;
}

TempDir::TempDir(TempDir&& other) noexcept
    : path_(std::exchange(other.path_, std::filesystem::path())), keep_(other.keep_) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, std::filesystem::path());
    keep_ = other.keep_;
  }
  return *this;
}

TempDir::~TempDir() { remove(); }

void TempDir::remove() {
  if (keep_ || path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  path_.clear();
}

}  // namespace keyreq
