#include "testkit/dataset_file.hpp"

#include <stdexcept>

#include "testkit/paths.hpp"
#include "testkit/processes.hpp"

namespace keyreq::testkit {

std::string make_dataset(const TempDir& dir, int agents) {
  const std::string db = dir / "agents.db";
  const auto result = run_command({bin("keyreq"), "dataset", "--agents", std::to_string(agents), "--sqlite", db}, true);
  if (result.exit_code != 0) throw std::runtime_error("keyreq dataset failed: " + result.out);
  return db;
}

}  // namespace keyreq::testkit
