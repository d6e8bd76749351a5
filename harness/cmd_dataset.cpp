// keyreq dataset: the deterministic agents, into SQLite or MariaDB.
#include <iostream>

#include "dataset/dataset.hpp"
#include "harness/commands.hpp"

namespace keyreq::harness {

namespace {

// What `keyreq dataset --help` says after the options.
constexpr const char* kHelpFooter = R"(Exit 0 written, 2 usage error, 3 the dataset could not be written.)";

struct DatasetOptions {
  std::size_t agents = 10'000;
  std::string sqlite;
  std::string csv;
  std::string mariadb;
};

int run_dataset(const DatasetOptions& o) {
  const int targets = !o.sqlite.empty() + !o.csv.empty() + !o.mariadb.empty();
  if (targets != 1) {
    std::cerr << "keyreq dataset: give exactly one of --sqlite FILE, --csv FILE or --mariadb DSN\n";
    return 2;
  }
  if (o.agents == 0 || o.agents > fixtures::kMaxDatasetAgents) {
    std::cerr << "keyreq dataset: --agents must be 1 to " << fixtures::kMaxDatasetAgents << ", got " << o.agents
              << "\n";
    return 2;
  }
  fixtures::WriteError error;
  std::string where;
  if (!o.sqlite.empty()) {
    error = fixtures::write_sqlite_dataset(o.sqlite, o.agents);
    where = o.sqlite;
  } else if (!o.csv.empty()) {
    error = fixtures::write_csv_dataset(o.csv, o.agents);
    where = o.csv;
  } else {
    if (auto parsed = fixtures::parse_mariadb_dsn(o.mariadb); !parsed) {
      std::cerr << "keyreq dataset: --mariadb: " << parsed.error << "\n";
      return 2;
    }
    error = fixtures::write_mariadb_dataset(o.mariadb, o.agents);
    where = "MariaDB";
  }
  if (error) {  // the data could not be written: an internal failure, not a checked thing
    std::cerr << "keyreq dataset: " << *error << "\n";
    return 3;
  }
  std::cerr << "keyreq dataset: wrote " << o.agents << " agents to " << where << "\n";
  return 0;
}
}  // namespace

void add_dataset_command(CLI::App& root, Action& action) {
  auto options = std::make_shared<DatasetOptions>();
  auto* cmd = root.add_subcommand("dataset", "write the deterministic agent dataset (docs/fixtures.md)");
  cmd->add_option("--agents", options->agents, "number of agents")->capture_default_str();
  cmd->add_option("--sqlite", options->sqlite, "SQLite file to write (table agent(id, name, ip, agent_key))");
  cmd->add_option("--csv", options->csv, "CSV file to write (header id,name,ip,key)");
  cmd->add_option("--mariadb", options->mariadb,
                  "MariaDB DSN: mariadb://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?socket=/path]");
  finish_command(*cmd, kHelpFooter, action, [options] { return Action([options] { return run_dataset(*options); }); });
}

}  // namespace keyreq::harness
