#pragma once
// Where a test finds the built binaries, the source tree and ../shared: the
// build's paths are compiled into the test kit; KEYREQ_BIN_DIR and
// KEYREQ_SOURCE_ROOT in the environment override them.
#include <string>

namespace keyreq::testkit {

std::string bin_dir();
// A binary of this build: bin("keyreq"), bin("keyreq-provider").
std::string bin(const std::string& name);
std::string source_root();
// A file of the source tree: source_path("fixtures/faulty/slow").
std::string source_path(const std::string& relative);
// The build tree (CMAKE_BINARY_DIR) and its CMAKE_BUILD_TYPE.
std::string build_dir();
std::string build_type();

// ../shared beside the source tree: corpora such as JSONTestSuite. A test
// that needs it fails (it does not skip) when it is absent.
std::string shared_dir();

// NAME's value in the environment, or `fallback` when unset or empty.
std::string env_or(const char* name, const std::string& fallback);
// Whether `path` exists and is executable by us.
bool executable(const std::string& path);

}  // namespace keyreq::testkit
