// KeyStore (SPEC §5): load, uniqueness, force_insert, torn-line repair,
// group commit under concurrency, crash safety (SIGKILL), compaction,
// I/O failure rollback.
#include "resolver/keystore/keystore.hpp"
#include "resolver/platform/temp_dir.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <optional>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using keyreq::AgentRecord;
using keyreq::KeyStore;
using keyreq::KeyStoreError;
using keyreq::KeyStoreOptions;
using keyreq::RegisterStatus;

namespace {

using keyreq::TempDir;  // the platform kit's (resolver/platform/temp_dir.hpp)

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::unique_ptr<KeyStore> open_ok(const fs::path& p, KeyStoreOptions options = {}) {
  auto r = KeyStore::open(p, options);
  if (auto* e = std::get_if<KeyStoreError>(&r)) {
    ADD_FAILURE() << "open failed: " << e->message();
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<KeyStore>>(r));
}

KeyStoreError open_err(const fs::path& p, KeyStoreOptions options = {}) {
  auto r = KeyStore::open(p, options);
  if (auto* e = std::get_if<KeyStoreError>(&r)) return *e;
  ADD_FAILURE() << "open unexpectedly succeeded on " << p;
  return {};
}

// Closes `store` (one writer per file, KeysFileLock) and opens the file again:
// the reloaded store holds `expected` active agents.
void expect_active_after_reopen(std::unique_ptr<KeyStore>& store, const fs::path& keys, std::size_t expected) {
  store.reset();
  auto reloaded = open_ok(keys);
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->active_count(), expected);
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    const std::size_t nl = s.find('\n', start);
    if (nl == std::string::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::string id_str(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%05d", n);
  return buf;
}

AgentRecord agent_n(int n) {
  return {id_str(n), "agent-" + std::to_string(n),
          "10." + std::to_string(n / 65536 % 256) + "." + std::to_string(n / 256 % 256) + "." + std::to_string(n % 256),
          "key " + std::to_string(static_cast<long long>(n) * 7919) + " with spaces"};
}

const char* kSample =
    "# client.keys for tests\n"
    " indented comment\n"
    "\n"
    "001 web1 10.0.0.1 k1\n"
    "002 !old 10.0.0.2 k2\n"
    "003 #gone any k3\n"
    "004 db1 any key four with spaces\n"
    "005 db2 0.0.0.0/0 k5\n";

// Runs body in a child process with the file size limit set to `limit`
// (writes past it fail with EFBIG); the child's exit code is body's result.
int in_child_with_file_limit(rlim_t limit, const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl {
      limit, limit
    };
    if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) ::_exit(90);
    ::_exit(body());
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// kSample in `keys`, then `body` on a store opened over it in a child process
// whose file size limit leaves 30 bytes of room (writes past it fail with
// EFBIG). The child's exit code is body's result; 1: the store did not open.
int in_child_with_sample_store_and_30_bytes_of_room(const fs::path& keys, const KeyStoreOptions& options,
                                                    const std::function<int(KeyStore&)>& body) {
  write_bytes(keys, kSample);
  const auto size = static_cast<rlim_t>(std::string(kSample).size());
  return in_child_with_file_limit(size + 30, [&]() -> int {
    auto r = KeyStore::open(keys, options);
    if (!std::holds_alternative<std::unique_ptr<KeyStore>>(r)) return 1;
    return body(*std::get<std::unique_ptr<KeyStore>>(r));
  });
}

}  // namespace

// ---- load -----------------------------------------------------------------

TEST(KeyStoreLoad, CommentsRemovedEntriesAndKeysWithSpaces) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->active_count(), 3u);
  EXPECT_EQ(store->repair_note(), "");

  auto web1 = store->find_by_id("001");
  ASSERT_TRUE(web1);
  EXPECT_FALSE(web1->removed);
  EXPECT_EQ(web1->agent, (AgentRecord{"001", "web1", "10.0.0.1", "k1"}));

  auto old = store->find_by_id("002");
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->removed);
  EXPECT_EQ(old->agent.name, "old");  // without the '!' marker
  auto gone = store->find_by_id("003");
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->removed);
  EXPECT_EQ(gone->agent.name, "gone");

  auto db1 = store->find_by_id("004");
  ASSERT_TRUE(db1);
  EXPECT_EQ(db1->agent.key, "key four with spaces");
  EXPECT_FALSE(store->find_by_id("999"));
  EXPECT_FALSE(store->find_by_id("01"));

  EXPECT_EQ(read_bytes(keys), kSample);  // loading writes nothing
}

TEST(KeyStoreLoad, CreatesMissingFileWithMode0640) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  const mode_t old_mask = ::umask(022);
  auto store = open_ok(keys);
  ::umask(old_mask);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->active_count(), 0u);
  struct stat st {};
  ASSERT_EQ(::stat(keys.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(st.st_size, 0);
}

TEST(KeyStoreLoad, MissingParentDirectoryIsAnErrorNamingThePath) {
  TempDir dir;
  const fs::path keys = dir.path() / "no-such-dir" / "client.keys";
  KeyStoreError e = open_err(keys);
  EXPECT_EQ(e.path, keys.string());
  EXPECT_EQ(e.line, 0u);
  EXPECT_NE(e.message().find(keys.string() + ": "), std::string::npos) << e.message();
  EXPECT_FALSE(fs::exists(keys.parent_path()));
}

TEST(KeyStoreLoad, ErrorMessageFormat) {
  EXPECT_EQ((KeyStoreError{"/etc/client.keys", 12, "bad"}).message(), "/etc/client.keys:12: bad");
  EXPECT_EQ((KeyStoreError{"/etc/client.keys", 0, "bad"}).message(), "/etc/client.keys: bad");
}

struct MalformedCase {
  const char* name;
  std::string content;
  std::size_t line;
  const char* reason_part;
};

class KeyStoreMalformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(KeyStoreMalformed, ReportsTheLineAndChangesNothing) {
  const MalformedCase& c = GetParam();
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, c.content);
  KeyStoreError e = open_err(keys);
  EXPECT_EQ(e.path, keys.string());
  EXPECT_EQ(e.line, c.line) << e.message();
  EXPECT_NE(e.reason.find(c.reason_part), std::string::npos) << e.message();
  EXPECT_EQ(e.message().rfind(keys.string() + ":" + std::to_string(c.line) + ": ", 0), 0u) << e.message();
  EXPECT_EQ(read_bytes(keys), c.content);  // byte for byte
  EXPECT_FALSE(fs::exists(dir / "client.keys.torn"));
}

INSTANTIATE_TEST_SUITE_P(
    Lines, KeyStoreMalformed,
    ::testing::Values(
        MalformedCase{"three_fields", "# c\n001 web1 10.0.0.1 k1\n002 web2 10.0.0.2\n", 3, "no key"},
        MalformedCase{"one_field", "001\n", 1, "no space"},
        MalformedCase{"id_not_digits", "001 a 10.0.0.1 k\nabc b 10.0.0.2 k\n", 2, "not ASCII digits"},
        MalformedCase{"double_space_empty_name", "\n\n001  web1 10.0.0.1 k\n", 3, "empty name"},
        MalformedCase{"empty_ip", "001 web1  k\n", 1, "empty ip"},
        MalformedCase{"empty_key", "001 web1 10.0.0.1 \n", 1, "empty key"},
        MalformedCase{"tab_starts_line", "\tcomment?\n", 1, "no space"},
        MalformedCase{"duplicate_id", "001 a 10.0.0.1 k\n# x\n001 b 10.0.0.2 k\n", 3,
                      "duplicate id 001 (also on line 1)"},
        MalformedCase{"duplicate_name", "001 a 10.0.0.1 k\n002 a 10.0.0.2 k\n", 2, "duplicate name \"a\""},
        MalformedCase{"duplicate_ip", "001 a 10.0.0.1 k\n002 b any k\n003 c 10.0.0.1 k\n", 3, "duplicate ip 10.0.0.1"},
        // a malformed complete line wins over torn-tail repair: nothing is repaired
        MalformedCase{"malformed_then_torn_tail", "001 a\n002 b 10.0.0.2 k2", 1, "only one field"}),
    [](const ::testing::TestParamInfo<MalformedCase>& i) { return std::string(i.param.name); });

TEST(KeyStoreLoad, RemovedDuplicatesAndAnyAreNotClashes) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  // Same id removed twice and then active again; removed names/ips reused; any shared.
  const std::string content =
      "007 !a 10.0.0.1 k\n"
      "007 #a 10.0.0.1 k\n"
      "007 a 10.0.0.1 k\n"
      "008 b any k\n"
      "009 c any k\n"
      "010 d 0.0.0.0/0 k\n";
  write_bytes(keys, content);
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->active_count(), 4u);
  auto e = store->find_by_id("007");
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->removed);
}

// ---- register ---------------------------------------------------------------

TEST(KeyStoreRegister, AppendsALineAndSurvivesReopen) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  {
    auto store = open_ok(keys);
    ASSERT_TRUE(store);
    auto r = store->register_agent({"006", "web6", "10.0.0.6", "key six"});
    EXPECT_EQ(r.status, RegisterStatus::registered) << r.detail;
    EXPECT_EQ(store->active_count(), 4u);
    EXPECT_EQ(read_bytes(keys), std::string(kSample) + "006 web6 10.0.0.6 key six\n");
  }
  auto again = open_ok(keys);
  ASSERT_TRUE(again);
  auto e = again->find_by_id("006");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->agent, (AgentRecord{"006", "web6", "10.0.0.6", "key six"}));
}

TEST(KeyStoreRegister, ExactSameEntryIsAlreadyRegisteredAndWritesNothing) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  for (bool force : {false, true}) {
    auto store = open_ok(keys, {.force_insert = force});
    ASSERT_TRUE(store);
    auto r = store->register_agent({"001", "web1", "10.0.0.1", "k1"});
    EXPECT_EQ(r.status, RegisterStatus::already_registered) << r.detail;
    EXPECT_EQ(read_bytes(keys), kSample);
  }
}

TEST(KeyStoreRegister, ConflictsNameTheFieldAndTheExistingAgent) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  struct Case {
    AgentRecord a;
    const char* detail;
  };
  const Case cases[] = {
      {{"001", "web9", "10.0.0.9", "k"}, "id \"001\" already used by agent 001"},
      {{"001", "web1", "10.0.0.1", "other key"}, "id \"001\" already used by agent 001"},
      {{"009", "web1", "10.0.0.9", "k"}, "name \"web1\" already used by agent 001"},
      {{"009", "web9", "10.0.0.1", "k"}, "ip \"10.0.0.1\" already used by agent 001"},
      {{"009", "db1", "10.0.0.9", "k"}, "name \"db1\" already used by agent 004"},
      {{"002", "fresh", "10.0.0.9", "k"}, "id \"002\" already used by removed agent 002"},
  };
  for (const Case& c : cases) {
    auto r = store->register_agent(c.a);
    EXPECT_EQ(r.status, RegisterStatus::conflict) << c.a.id << " " << c.a.name;
    EXPECT_NE(r.detail.find(c.detail), std::string::npos) << r.detail;
  }
  // Several clashes at once are all named.
  auto r = store->register_agent({"001", "db1", "10.0.0.1", "k"});
  EXPECT_EQ(r.status, RegisterStatus::conflict);
  EXPECT_NE(r.detail.find("id \"001\""), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("name \"db1\" already used by agent 004"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("ip \"10.0.0.1\""), std::string::npos) << r.detail;

  EXPECT_EQ(read_bytes(keys), kSample);
  EXPECT_EQ(store->active_count(), 3u);
}

TEST(KeyStoreRegister, UnwritableEntriesAreRefused) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  const AgentRecord bad[] = {
      {"", "a", "10.0.0.1", "k"},      {"12a", "a", "10.0.0.1", "k"},  {"001", "", "10.0.0.1", "k"},
      {"001", "a b", "10.0.0.1", "k"}, {"001", "!a", "10.0.0.1", "k"}, {"001", "#a", "10.0.0.1", "k"},
      {"001", "a", "", "k"},           {"001", "a", "10.0.0.1", ""},   {"001", "a", "10.0.0.1", "k\n002 x y z"},
      {"001", "a\n", "10.0.0.1", "k"},
  };
  for (const AgentRecord& a : bad) {
    auto r = store->register_agent(a);
    EXPECT_EQ(r.status, RegisterStatus::conflict) << a.id << "|" << a.name << "|" << a.key;
    EXPECT_EQ(r.detail.rfind("refused: ", 0), 0u) << r.detail;
  }
  EXPECT_EQ(read_bytes(keys), "");
}

TEST(KeyStoreRegister, AnyIpIsShared) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);  // 004 and 005 already use any / 0.0.0.0/0
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->register_agent({"010", "x", "any", "k"}).status, RegisterStatus::registered);
  EXPECT_EQ(store->register_agent({"011", "y", "any", "k"}).status, RegisterStatus::registered);
  EXPECT_EQ(store->register_agent({"012", "z", "0.0.0.0/0", "k"}).status, RegisterStatus::registered);
  EXPECT_EQ(store->active_count(), 6u);
  expect_active_after_reopen(store, keys, 6u);
}

// Issue 11 #4: uniqueness compared the ip text, so four spellings of one
// address registered four agents. The address is compared in binary form; the
// line keeps the text the provider sent.
TEST(KeyStoreRegister, OneAddressInAnySpellingIsOneIp) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  ASSERT_EQ(store->register_agent({"001", "a", "FE80::1", "k"}).status, RegisterStatus::registered);
  for (const char* same : {"fe80::1", "fe80:0::0001", "fe80::1/128", "FE80:0:0:0:0:0:0:1"}) {
    const auto r = store->register_agent({"002", "b", same, "k"});
    EXPECT_EQ(r.status, RegisterStatus::conflict) << same;
    EXPECT_NE(r.detail.find("already used by agent 001"), std::string::npos) << r.detail;
    EXPECT_NE(r.detail.find("FE80::1"), std::string::npos) << "names the spelling on file: " << r.detail;
  }
  ASSERT_EQ(store->register_agent({"003", "c", "10.0.0.1/32", "k"}).status, RegisterStatus::registered);
  EXPECT_EQ(store->register_agent({"004", "d", "10.0.0.1", "k"}).status, RegisterStatus::conflict);
  // A network is its masked base and its length; a dotted netmask is a length.
  ASSERT_EQ(store->register_agent({"005", "e", "10.1.0.5/24", "k"}).status, RegisterStatus::registered);
  EXPECT_EQ(store->register_agent({"006", "f", "10.1.0.0/255.255.255.0", "k"}).status, RegisterStatus::conflict);
  EXPECT_EQ(store->register_agent({"007", "g", "10.1.0.0/16", "k"}).status, RegisterStatus::registered);
  EXPECT_EQ(store->register_agent({"008", "h", "10.1.0.5", "k"}).status, RegisterStatus::registered);
  // IPv4 and IPv4-mapped IPv6 are different families: not the same ip.
  EXPECT_EQ(store->register_agent({"009", "i", "::ffff:10.0.0.1", "k"}).status, RegisterStatus::registered);
  // Every prefix-0 IPv4 network is `any`, shared.
  EXPECT_EQ(store->register_agent({"010", "j", "0.0.0.0/0.0.0.0", "k"}).status, RegisterStatus::registered);
  EXPECT_EQ(store->register_agent({"011", "l", "any", "k"}).status, RegisterStatus::registered);
  EXPECT_EQ(read_bytes(keys),
            "001 a FE80::1 k\n003 c 10.0.0.1/32 k\n005 e 10.1.0.5/24 k\n007 g 10.1.0.0/16 k\n"
            "008 h 10.1.0.5 k\n009 i ::ffff:10.0.0.1 k\n010 j 0.0.0.0/0.0.0.0 k\n011 l any k\n");
  // Force insert replaces the holder of the address whatever its spelling.
  store.reset();
  store = open_ok(keys, KeyStoreOptions{.force_insert = true});
  ASSERT_TRUE(store);
  ASSERT_EQ(store->register_agent({"012", "m", "fe80::0:1", "k"}).status, RegisterStatus::registered);
  EXPECT_TRUE(store->find_by_id("001")->removed);
}

TEST(KeyStoreLoad, TwoSpellingsOfOneAddressOnFileAreADuplicate) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, "001 a fe80::1 k\n002 b FE80::0001 k\n");
  const KeyStoreError e = open_err(keys);
  EXPECT_NE(e.message().find("duplicate ip FE80::0001"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("line 1"), std::string::npos) << e.message();
}

TEST(KeyStoreRegister, RemovedEntryKeepsItsIdButFreesNameAndIp) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);  // 002 !old 10.0.0.2
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  auto r = store->register_agent({"002", "old", "10.0.0.2", "k2"});
  EXPECT_EQ(r.status, RegisterStatus::conflict);
  EXPECT_NE(r.detail.find("id \"002\" already used by removed agent 002"), std::string::npos) << r.detail;
  EXPECT_EQ(store->register_agent({"020", "old", "10.0.0.2", "k20"}).status, RegisterStatus::registered);
  EXPECT_EQ(read_bytes(keys), std::string(kSample) + "020 old 10.0.0.2 k20\n");
}

TEST(KeyStoreRegister, ForceInsertMarksEveryClashingEntryRemoved) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  {
    auto store = open_ok(keys, {.force_insert = true});
    ASSERT_TRUE(store);
    // Clashes on id with 005 and on name and ip with 001: both are marked removed.
    auto r = store->register_agent({"005", "web1", "10.0.0.1", "new key"});
    EXPECT_EQ(r.status, RegisterStatus::registered) << r.detail;
    EXPECT_EQ(store->active_count(), 2u);  // 001 and 005 out, new 005 in, 004 stays
    auto e = store->find_by_id("005");
    ASSERT_TRUE(e);
    EXPECT_FALSE(e->removed);
    EXPECT_EQ(e->agent.key, "new key");
    auto old = store->find_by_id("001");
    ASSERT_TRUE(old);
    EXPECT_TRUE(old->removed);
  }
  EXPECT_EQ(read_bytes(keys),
            "# client.keys for tests\n"
            " indented comment\n"
            "\n"
            "001 !web1 10.0.0.1 k1\n"
            "002 !old 10.0.0.2 k2\n"
            "003 #gone any k3\n"
            "004 db1 any key four with spaces\n"
            "005 !db2 0.0.0.0/0 k5\n"
            "005 web1 10.0.0.1 new key\n");
  EXPECT_FALSE(fs::exists(dir / "client.keys.tmp"));

  auto reloaded = open_ok(keys);
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->active_count(), 2u);
  auto e = reloaded->find_by_id("005");
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->removed);
  EXPECT_EQ(e->agent.name, "web1");
  // Exactly one active line per id in the file.
  int active_005 = 0;
  for (const std::string& l : split_lines(read_bytes(keys)))
    if (l.rfind("005 ", 0) == 0 && l[4] != '!') ++active_005;
  EXPECT_EQ(active_005, 1);
}

TEST(KeyStoreRegister, ForceInsertOverARemovedIdJustAppends) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  auto store = open_ok(keys, {.force_insert = true});
  ASSERT_TRUE(store);
  auto r = store->register_agent({"002", "again", "10.0.0.22", "k"});
  EXPECT_EQ(r.status, RegisterStatus::registered) << r.detail;
  EXPECT_EQ(read_bytes(keys), std::string(kSample) + "002 again 10.0.0.22 k\n");
  auto e = store->find_by_id("002");
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->removed);
  expect_active_after_reopen(store, keys, 4u);
}

TEST(KeyStoreRegister, ForceInsertKeepsFileModeOnRewrite) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  ASSERT_EQ(::chmod(keys.c_str(), 0600), 0);
  auto store = open_ok(keys, {.force_insert = true});
  ASSERT_TRUE(store);
  ASSERT_EQ(store->register_agent({"001", "web1", "10.0.0.1", "rotated"}).status, RegisterStatus::registered);
  struct stat st {};
  ASSERT_EQ(::stat(keys.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // And appends keep working on the new file.
  ASSERT_EQ(store->register_agent({"040", "n40", "10.0.0.40", "k"}).status, RegisterStatus::registered);
  auto lines = split_lines(read_bytes(keys));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "040 n40 10.0.0.40 k");
}

// ---- torn last line -------------------------------------------------------

TEST(KeyStoreRepair, ValidPartialLineIsKeptWithNewlineAppended) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, "001 a 10.0.0.1 k1\n002 b 10.0.0.2 k2");
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  EXPECT_EQ(read_bytes(keys), "001 a 10.0.0.1 k1\n002 b 10.0.0.2 k2\n");
  EXPECT_EQ(store->active_count(), 2u);
  EXPECT_TRUE(store->find_by_id("002"));
  EXPECT_NE(store->repair_note().find("newline appended"), std::string::npos) << store->repair_note();
  EXPECT_NE(store->repair_note().find(":2:"), std::string::npos) << store->repair_note();
  EXPECT_FALSE(fs::exists(dir / "client.keys.torn"));
  // Appends after the repair land on their own line.
  ASSERT_EQ(store->register_agent({"003", "c", "10.0.0.3", "k3"}).status, RegisterStatus::registered);
  EXPECT_EQ(read_bytes(keys), "001 a 10.0.0.1 k1\n002 b 10.0.0.2 k2\n003 c 10.0.0.3 k3\n");
}

TEST(KeyStoreRepair, GarbagePartialLineIsCutOffAndSaved) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, "001 a 10.0.0.1 k1\n002 b 10");
  {
    auto store = open_ok(keys);
    ASSERT_TRUE(store);
    EXPECT_EQ(read_bytes(keys), "001 a 10.0.0.1 k1\n");
    EXPECT_EQ(read_bytes(dir / "client.keys.torn"), "002 b 10\n");
    EXPECT_EQ(store->active_count(), 1u);
    EXPECT_FALSE(store->find_by_id("002"));
    EXPECT_NE(store->repair_note().find("torn last line"), std::string::npos) << store->repair_note();
    EXPECT_NE(store->repair_note().find("client.keys.torn"), std::string::npos) << store->repair_note();
    ASSERT_EQ(store->register_agent({"002", "b", "10.0.0.2", "k2"}).status, RegisterStatus::registered);
  }
  EXPECT_EQ(read_bytes(keys), "001 a 10.0.0.1 k1\n002 b 10.0.0.2 k2\n");
  auto again = open_ok(keys);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->repair_note(), "");
}

TEST(KeyStoreRepair, PartialLineThatClashesIsCutOff) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, "001 a 10.0.0.1 k1\n001 a 10.0.0.1 k");  // a torn copy of line 1 would be a duplicate
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  EXPECT_EQ(read_bytes(keys), "001 a 10.0.0.1 k1\n");
  EXPECT_EQ(read_bytes(dir / "client.keys.torn"), "001 a 10.0.0.1 k\n");
}

TEST(KeyStoreRepair, OnlyATornLine) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, "00");
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  EXPECT_EQ(read_bytes(keys), "");
  EXPECT_EQ(read_bytes(dir / "client.keys.torn"), "00\n");
  EXPECT_EQ(store->active_count(), 0u);
}

// Issue 11 #5: keyreq writes whole lines, so an unterminated tail is kept
// only when it is an entry keyreq could have written (field rules S2-S5).
// A key cut after one of its spaces ends in a space (S5 forbids it); a tail
// like that used to be kept as an active agent, and the provider's correct
// answer then became a conflict.
TEST(KeyStoreRepair, PartialLineBreakingTheFieldRulesIsCutOff) {
  const std::vector<std::string> tails{"002 b 10.0.0.2 key with ", "02 b 10.0.0.2 k", "002 b 10.0.0.2/33 k",
                                       "002 b@ 10.0.0.2 k", "002 b 10.0.0.2 " + std::string(129, 'k')};
  for (const std::string& torn : tails) {
    TempDir dir;
    const fs::path keys = dir / "client.keys";
    write_bytes(keys, "001 a 10.0.0.1 k1\n" + torn);
    auto store = open_ok(keys);
    ASSERT_TRUE(store);
    EXPECT_EQ(read_bytes(keys), "001 a 10.0.0.1 k1\n") << torn;
    EXPECT_EQ(read_bytes(dir / "client.keys.torn"), torn + "\n");
    EXPECT_FALSE(store->find_by_id("002")) << torn;
    EXPECT_NE(store->repair_note().find("torn last line"), std::string::npos) << store->repair_note();
    EXPECT_EQ(store->register_agent({"002", "b", "10.0.0.2", "key with spaces"}).status, RegisterStatus::registered);
  }
}

// Saving the torn line fails (disk full: here the file size limit): the
// error names the .torn file, client.keys is untouched, and no empty or
// half-written .torn file is left behind.
TEST(KeyStoreRepair, FailedSaveOfTheTornLineLeavesNoTornFile) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  const std::string content = "001 a 10.0.0.1 k1\n002 b 10";
  write_bytes(keys, content);
  const int rc = in_child_with_file_limit(4, [&]() -> int {
    auto r = KeyStore::open(keys);
    auto* e = std::get_if<KeyStoreError>(&r);
    if (e == nullptr) return 1;
    if (e->message().find("client.keys.torn") == std::string::npos) return 2;
    if (e->message().find("File too large") == std::string::npos) return 3;
    return 0;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(read_bytes(keys), content);
  EXPECT_FALSE(fs::exists(dir / "client.keys.torn"));

  // A .torn file from an earlier repair is cut back to what it held.
  write_bytes(dir / "client.keys.torn", "x\n");
  EXPECT_EQ(in_child_with_file_limit(
                4, [&]() -> int { return std::holds_alternative<KeyStoreError>(KeyStore::open(keys)) ? 0 : 1; }),
            0);
  EXPECT_EQ(read_bytes(dir / "client.keys.torn"), "x\n");
  EXPECT_EQ(read_bytes(keys), content);
}

TEST(KeyStoreRepair, LeftoverTempFileIsRemoved) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  write_bytes(dir / "client.keys.tmp", "half a rewrite");
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  EXPECT_FALSE(fs::exists(dir / "client.keys.tmp"));
  EXPECT_EQ(read_bytes(keys), kSample);
  EXPECT_NE(store->repair_note().find("interrupted rewrite"), std::string::npos);
}

// ---- concurrency ----------------------------------------------------------

TEST(KeyStoreConcurrency, EightThreadsTimesFiveHundred) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  constexpr int kThreads = 8, kEach = 500;
  {
    auto store = open_ok(keys);
    ASSERT_TRUE(store);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          auto r = store->register_agent(agent_n(t * kEach + i));
          if (r.status != RegisterStatus::registered) ++failures;
        }
      });
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(store->active_count(), static_cast<std::size_t>(kThreads * kEach));
  }
  const std::string bytes = read_bytes(keys);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.back(), '\n');
  auto lines = split_lines(bytes);
  EXPECT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kEach));
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->active_count(), static_cast<std::size_t>(kThreads * kEach));
  for (int n = 0; n < kThreads * kEach; ++n) {
    auto e = store->find_by_id(id_str(n));
    ASSERT_TRUE(e) << n;
    EXPECT_EQ(e->agent, agent_n(n));
  }
}

TEST(KeyStoreConcurrency, SameEntriesRacingAreRegisteredExactlyOnce) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  constexpr int kThreads = 8, kAgents = 200;
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  std::atomic<int> registered{0}, already{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAgents; ++i) {
        // Odd threads walk backwards so the races hit different agents.
        const int n = t % 2 ? kAgents - 1 - i : i;
        AgentRecord a = agent_n(n);
        if (t == 7) a.key = "a different key";  // clashes with the others on id, name and ip
        switch (store->register_agent(a).status) {
          case RegisterStatus::registered: ++registered; break;
          case RegisterStatus::already_registered: ++already; break;
          case RegisterStatus::conflict: ++conflicts; break;
          default: ++other;
        }
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(registered.load(), kAgents);
  EXPECT_EQ(registered + already + conflicts, kThreads * kAgents);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(split_lines(read_bytes(keys)).size(), static_cast<std::size_t>(kAgents));
  expect_active_after_reopen(store, keys, static_cast<std::size_t>(kAgents));
}

TEST(KeyStoreConcurrency, RewritesRaceWithAppends) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  auto store = open_ok(keys, {.force_insert = true});
  ASSERT_TRUE(store);
  constexpr int kThreads = 4, kEach = 150;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        if (store->register_agent(agent_n(1000 + t * kEach + i)).status != RegisterStatus::registered) ++failures;
    });
  // Meanwhile: replace agents (force_insert rewrites) and compact.
  threads.emplace_back([&] {
    for (int i = 0; i < 30; ++i) {
      // Replace only once the original is in, or its own thread would replace it back.
      while (!store->find_by_id(id_str(1000 + i * 10))) std::this_thread::yield();
      AgentRecord a = agent_n(1000 + i * 10);
      a.key = "replaced " + std::to_string(i);
      a.ip = "172.16.0." + std::to_string(i);
      const auto r = store->register_agent(a);
      if (r.status != RegisterStatus::registered) ++failures;
      if (i % 10 == 9 && store->compact()) ++failures;
    }
  });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  const std::size_t active = store->active_count();
  EXPECT_EQ(active, static_cast<std::size_t>(kThreads * kEach));
  store.reset();
  auto reloaded = open_ok(keys);
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->active_count(), active);
  for (int i = 0; i < 30; ++i) {
    auto e = reloaded->find_by_id(id_str(1000 + i * 10));
    ASSERT_TRUE(e);
    EXPECT_FALSE(e->removed);
    EXPECT_EQ(e->agent.key, "replaced " + std::to_string(i));
  }
}

// ---- crash safety ---------------------------------------------------------

namespace {

// Child: registers agents from 4 threads, writing each id to the pipe once
// register_agent has returned `registered`. Never returns.
// async: one thread keeps up to 512 register_agent_async calls in flight;
// the callback writes the id once it is `registered`.
[[noreturn]] void crash_child(const fs::path& keys, int first, int out_fd, bool async) {
  auto r = KeyStore::open(keys);
  if (!std::holds_alternative<std::unique_ptr<KeyStore>>(r)) ::_exit(10);
  KeyStore& store = *std::get<std::unique_ptr<KeyStore>>(r);
  if (async) {
    std::atomic<int> in_flight{0};
    for (int i = 0;; ++i) {
      while (in_flight.load() >= 512) std::this_thread::yield();
      ++in_flight;
      const int n = first + i;
      store.register_agent_async(agent_n(n), [&in_flight, n, out_fd](keyreq::RegisterResult res) {
        if (res.status != RegisterStatus::registered) ::_exit(11);
        char buf[8];
        std::snprintf(buf, sizeof buf, "%07d", n);
        buf[7] = '\n';
        if (::write(out_fd, buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) ::_exit(12);
        --in_flight;
      });
    }
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = t;; i += 4) {
        const AgentRecord a = agent_n(first + i);
        if (store.register_agent(a).status != RegisterStatus::registered) ::_exit(11);
        char buf[8];
        std::snprintf(buf, sizeof buf, "%07d", first + i);
        buf[7] = '\n';
        if (::write(out_fd, buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) ::_exit(12);
      }
    });
  for (auto& th : threads) th.join();
  ::_exit(0);
}

}  // namespace

void crash_rounds(bool async) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  std::mt19937 rng(12345);
  std::set<int> reported;
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const int first = 100000 * (round + 1);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      crash_child(keys, first, fds[1], async);
    }
    ::close(fds[1]);
    const int kill_after = 20 + static_cast<int>(rng() % 400);
    int seen = 0;
    std::string pending;
    char buf[4096];
    bool killed = false;
    for (;;) {
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EOF: the child is gone and everything it wrote is read
      pending.append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        reported.insert(std::stoi(pending.substr(0, nl)));
        pending.erase(0, nl + 1);
        ++seen;
      }
      if (!killed && seen >= kill_after) {
        ::kill(pid, SIGKILL);  // mid-run: other registrations are in flight
        killed = true;
      }
    }
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited on its own, status " << status;
    ASSERT_TRUE(pending.empty());

    auto r = KeyStore::open(keys);
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(r)) << std::get<KeyStoreError>(r).message();
    KeyStore& store = *std::get<std::unique_ptr<KeyStore>>(r);
    for (int n : reported) {
      auto e = store.find_by_id(id_str(n));
      ASSERT_TRUE(e) << "reported id " << n << " lost in round " << round;
      EXPECT_EQ(e->agent, agent_n(n));
    }
    EXPECT_GE(store.active_count(), reported.size() + 3);
  }
  EXPECT_GE(reported.size(), 100u);
}

TEST(KeyStoreCrash, EverythingReportedDoneSurvivesSigkill) { crash_rounds(false); }

TEST(KeyStoreCrash, EverythingReportedDoneAsynchronouslySurvivesSigkill) { crash_rounds(true); }

// ---- compaction -----------------------------------------------------------

TEST(KeyStoreCompact, DropsRemovedEntriesKeepsCommentsAndFreesIds) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->compact());
  const std::string compacted =
      "# client.keys for tests\n"
      " indented comment\n"
      "\n"
      "001 web1 10.0.0.1 k1\n"
      "004 db1 any key four with spaces\n"
      "005 db2 0.0.0.0/0 k5\n";
  EXPECT_EQ(read_bytes(keys), compacted);
  EXPECT_FALSE(fs::exists(dir / "client.keys.tmp"));
  EXPECT_EQ(store->active_count(), 3u);
  EXPECT_FALSE(store->find_by_id("002"));
  EXPECT_TRUE(store->find_by_id("001"));
  // The removed ids are free now; appends go to the new file.
  EXPECT_EQ(store->register_agent({"002", "two", "10.0.0.2", "k"}).status, RegisterStatus::registered);
  EXPECT_EQ(read_bytes(keys), compacted + "002 two 10.0.0.2 k\n");
  expect_active_after_reopen(store, keys, 4u);
}

// ---- I/O failure ----------------------------------------------------------

TEST(KeyStoreIoError, FailedAppendIsRolledBackAndTheFileCutBack) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  const int rc = in_child_with_sample_store_and_30_bytes_of_room(keys, {}, [&](KeyStore& store) -> int {
    const AgentRecord big{"050", "big", "10.0.0.50", std::string(100, 'x')};
    auto res = store.register_agent(big);
    if (res.status != RegisterStatus::io_error) return 2;
    if (res.detail.find("File too large") == std::string::npos) return 3;
    if (store.find_by_id("050") || store.active_count() != 3) return 4;
    if (read_bytes(keys) != kSample) return 5;  // partial bytes cut back
    // The name and ip are free again; a line that fits is accepted.
    if (store.register_agent({"051", "big", "10.0.0.50", "k"}).status != RegisterStatus::registered) return 6;
    return 0;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(read_bytes(keys), std::string(kSample) + "051 big 10.0.0.50 k\n");
}

TEST(KeyStoreIoError, FailedRewriteLeavesFileAndIndexAsTheyWere) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  const int rc =
      in_child_with_sample_store_and_30_bytes_of_room(keys, {.force_insert = true}, [&](KeyStore& store) -> int {
        auto res = store.register_agent({"001", "web1b", "10.0.0.1", std::string(60, 'k')});
        if (res.status != RegisterStatus::io_error) return 2;
        auto e = store.find_by_id("001");
        if (!e || e->removed || e->agent.name != "web1") return 3;
        if (store.active_count() != 3) return 4;
        if (read_bytes(keys) != kSample) return 5;
        if (fs::exists(keys.string() + ".tmp")) return 6;
        // The old entry still owns its name: replacing it again (a rewrite that fits) works.
        auto c = store.register_agent({"060", "web1", "10.0.0.60", "k"});
        if (c.status != RegisterStatus::registered || c.detail.find("replaced") == std::string::npos) return 7;
        return 0;
      });
  EXPECT_EQ(rc, 0);
}

// ---- asynchronous registration ------------------------------------------

namespace {

struct Collected {
  std::mutex m;
  std::condition_variable cv;
  std::vector<keyreq::RegisterResult> results;
  keyreq::RegisterCallback callback() {
    return [this](keyreq::RegisterResult r) {
      std::lock_guard lock(m);
      results.push_back(std::move(r));
      cv.notify_all();
    };
  }
  std::size_t count(RegisterStatus s) {
    std::lock_guard lock(m);
    return static_cast<std::size_t>(
        std::count_if(results.begin(), results.end(), [&](const keyreq::RegisterResult& r) { return r.status == s; }));
  }
};

}  // namespace

TEST(KeyStoreAsync, ManyInFlightAreDurableWhenReported) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  std::atomic<int> not_on_disk{0};
  std::atomic<int> done{0};
  constexpr int kCount = 2000;
  for (int i = 0; i < kCount; ++i) {
    const AgentRecord a = agent_n(1000 + i);
    const bool check = i % 97 == 0;  // reading the file back is slow: a sample
    store->register_agent_async(a, [&, a, check](keyreq::RegisterResult r) {
      if (r.status != RegisterStatus::registered) ADD_FAILURE() << "status " << static_cast<int>(r.status);
      if (check) {
        const std::string line = a.id + " " + a.name + " " + a.ip + " " + a.key + "\n";
        if (read_bytes(keys).find(line) == std::string::npos) ++not_on_disk;
      }
      ++done;
    });
  }
  store->flush();
  EXPECT_EQ(done.load(), kCount);
  EXPECT_EQ(not_on_disk.load(), 0);
  expect_active_after_reopen(store, keys, 3u + kCount);
}

// Issue 13: Writer::caller_if_idle with no batch being written: the caller
// writes and syncs the batch itself, so the callback has run, on the calling
// thread and with the line on disk, before register_agent_async returns.
TEST(KeyStoreAsync, CallerWritesTheBatchWhenNoOneIsWriting) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  for (int i = 0; i < 20; ++i) {
    const AgentRecord a = agent_n(3000 + i);
    std::optional<std::thread::id> thread;
    bool on_disk = false;
    RegisterStatus status = RegisterStatus::io_error;
    store->register_agent_async(
        a,
        [&](keyreq::RegisterResult r) {
          status = r.status;
          thread = std::this_thread::get_id();
          on_disk = read_bytes(keys).find(a.id + " " + a.name + " " + a.ip + " " + a.key + "\n") != std::string::npos;
        },
        KeyStore::Writer::caller_if_idle);
    ASSERT_TRUE(thread.has_value()) << i;  // already reported: no committer hand-off
    EXPECT_EQ(*thread, std::this_thread::get_id());
    EXPECT_EQ(status, RegisterStatus::registered);
    EXPECT_TRUE(on_disk) << i;
  }
  store->flush();
  store.reset();
  auto reopened = open_ok(keys);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->active_count(), 3u + 20u);
}

// Issue 13, the herd: Writer::committer_gathering lets the committer hold the
// open batch (up to gather_window) for more entries, one fdatasync for many.
// A 10 s window here: whatever ends a wait in these tests is not its expiry.
namespace {

bool wait_for_results(Collected& c, std::size_t n) {
  std::unique_lock lock(c.m);
  return c.cv.wait_for(lock, std::chrono::seconds(5), [&] { return c.results.size() >= n; });
}

std::size_t results_so_far(Collected& c) {
  std::lock_guard lock(c.m);
  return c.results.size();
}

const KeyStoreOptions kLongGather{.gather_window = std::chrono::seconds(10), .gather_entries = 8};

}  // namespace

TEST(KeyStoreAsync, GatheringHoldsTheBatchUntilAnEntryComesWithoutTheHint) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  auto store = open_ok(keys, kLongGather);
  ASSERT_TRUE(store);
  Collected c;
  for (int i = 0; i < 3; ++i)
    store->register_agent_async(agent_n(4000 + i), c.callback(), KeyStore::Writer::committer_gathering);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(results_so_far(c), 0u);  // held for company
  EXPECT_EQ(store->batches_written(), 0u);
  EXPECT_EQ(read_bytes(keys), kSample);
  // An entry with nothing behind it: the batch goes now, all four in it.
  store->register_agent_async(agent_n(4003), c.callback(), KeyStore::Writer::committer);
  ASSERT_TRUE(wait_for_results(c, 4));
  EXPECT_EQ(c.count(RegisterStatus::registered), 4u);
  EXPECT_EQ(store->batches_written(), 1u);
  for (int i = 0; i < 4; ++i) {
    const AgentRecord a = agent_n(4000 + i);
    EXPECT_NE(read_bytes(keys).find(a.id + " " + a.name + " " + a.ip + " " + a.key + "\n"), std::string::npos) << i;
  }
}

TEST(KeyStoreAsync, GatheringEndsWhenTheBatchIsFull) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  auto store = open_ok(keys, kLongGather);
  ASSERT_TRUE(store);
  Collected c;
  for (int i = 0; i < 8; ++i)  // gather_entries
    store->register_agent_async(agent_n(4100 + i), c.callback(), KeyStore::Writer::committer_gathering);
  ASSERT_TRUE(wait_for_results(c, 8));
  EXPECT_EQ(c.count(RegisterStatus::registered), 8u);
  EXPECT_EQ(store->batches_written(), 1u);
}

TEST(KeyStoreAsync, FlushAndTheDestructorDoNotWaitForCompany) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  const auto start = std::chrono::steady_clock::now();
  {
    auto store = open_ok(keys, kLongGather);
    ASSERT_TRUE(store);
    Collected c;
    store->register_agent_async(agent_n(4200), c.callback(), KeyStore::Writer::committer_gathering);
    store->flush();
    EXPECT_EQ(c.count(RegisterStatus::registered), 1u);
    store->register_agent_async(agent_n(4201), c.callback(), KeyStore::Writer::committer_gathering);
    store.reset();  // flush() and shutdown
    EXPECT_EQ(c.count(RegisterStatus::registered), 2u);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(9)) << "waited out the gather window";
  auto reopened = open_ok(keys);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->active_count(), 5u);
}

TEST(KeyStoreAsync, DecisionsSeeEntriesStillPending) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  Collected c;
  const AgentRecord a{"100", "new1", "10.1.0.1", "k100"};
  store->register_agent_async(a, c.callback());
  store->register_agent_async(a, c.callback());                                  // same entry
  store->register_agent_async({"100", "other", "10.1.0.2", "k"}, c.callback());  // same id
  store->register_agent_async({"101", "new1", "10.1.0.3", "k"}, c.callback());   // same name
  store->register_agent_async({"102", "n102", "10.1.0.1", "k"}, c.callback());   // same ip
  store->flush();
  EXPECT_EQ(c.count(RegisterStatus::registered), 1u);
  EXPECT_EQ(c.count(RegisterStatus::already_registered), 1u);
  EXPECT_EQ(c.count(RegisterStatus::conflict), 3u);
  EXPECT_EQ(read_bytes(keys), std::string(kSample) + "100 new1 10.1.0.1 k100\n");
}

TEST(KeyStoreAsync, RefusalAndConflictAreReportedBeforeReturning) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  bool called = false;
  store->register_agent_async({"001", "x", "10.9.9.9", "k"}, [&](keyreq::RegisterResult r) {
    called = true;
    EXPECT_EQ(r.status, RegisterStatus::conflict);
  });
  EXPECT_TRUE(called);
  called = false;
  store->register_agent_async({"abc", "x", "10.9.9.9", "k"}, [&](keyreq::RegisterResult r) {
    called = true;
    EXPECT_EQ(r.status, RegisterStatus::conflict);
  });
  EXPECT_TRUE(called);
}

TEST(KeyStoreAsync, DestructorWaitsForPendingCommits) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  std::atomic<int> registered{0};
  {
    auto store = open_ok(keys);
    ASSERT_TRUE(store);
    for (int i = 0; i < 500; ++i)
      store->register_agent_async(agent_n(2000 + i), [&](keyreq::RegisterResult r) {
        if (r.status == RegisterStatus::registered) ++registered;
      });
  }
  EXPECT_EQ(registered.load(), 500);
  auto reopened = open_ok(keys);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->active_count(), 503u);
}

TEST(KeyStoreAsync, CompactionWhileRegistrationsAreInFlight) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  write_bytes(keys, kSample);
  auto store = open_ok(keys);
  ASSERT_TRUE(store);
  Collected c;
  std::thread compactor([&] {
    for (int i = 0; i < 20; ++i) EXPECT_FALSE(store->compact());
  });
  for (int i = 0; i < 1000; ++i) store->register_agent_async(agent_n(3000 + i), c.callback());
  compactor.join();
  store->flush();
  EXPECT_EQ(c.count(RegisterStatus::registered), 1000u);
  expect_active_after_reopen(store, keys, 1003u);
}

TEST(KeyStoreAsync, FailedBatchReportsIoErrorToEveryMember) {
  TempDir dir;
  const fs::path keys = dir / "client.keys";
  const int rc = in_child_with_sample_store_and_30_bytes_of_room(keys, {}, [&](KeyStore& store) -> int {
    Collected c;
    for (int i = 0; i < 50; ++i) store.register_agent_async(agent_n(4000 + i), c.callback());
    store.flush();
    // Whatever was reported registered is on disk; the rest is io_error.
    const std::size_t ok = c.count(RegisterStatus::registered);
    if (ok + c.count(RegisterStatus::io_error) != 50) return 2;
    if (c.count(RegisterStatus::io_error) == 0) return 3;
    if (store.active_count() != 3 + ok) return 4;
    if (split_lines(read_bytes(keys)).size() != split_lines(kSample).size() + ok) return 5;
    return 0;
  });
  EXPECT_EQ(rc, 0);
}
