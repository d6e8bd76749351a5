#include "resolver/daemon/config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "testkit/files.hpp"
#include "testkit/processes.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq {
namespace {

KeyRequestConfig parse_ok(const std::string& xml) {
  auto r = parse_key_request_config(xml, "test.conf");
  if (auto* e = std::get_if<ConfigError>(&r)) ADD_FAILURE() << e->message();
  return std::holds_alternative<KeyRequestConfig>(r) ? std::get<KeyRequestConfig>(r) : KeyRequestConfig{};
}

std::string parse_error(const std::string& xml) {
  auto r = parse_key_request_config(xml, "test.conf");
  if (!std::holds_alternative<ConfigError>(r)) {
    ADD_FAILURE() << "accepted: " << xml;
    return "";
  }
  return std::get<ConfigError>(r).message();
}

std::string block(const std::string& inner) {
  return "<ossec_config><key_request>" + inner + "</key_request></ossec_config>";
}

TEST(Config, DefaultsOnceTheBlockIsPresent) {
  const auto c = parse_ok(block("<exec_path>/bin/p</exec_path>"));
  EXPECT_TRUE(c.block_found);
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.exec_path, "/bin/p");
  EXPECT_EQ(c.socket, "");
  EXPECT_EQ(c.timeout_seconds, 60);
  EXPECT_EQ(c.threads, 1);
  EXPECT_EQ(c.queue_size, 1024u);
  EXPECT_FALSE(c.force_insert);
  EXPECT_FALSE(c.exec_fallback);
}

TEST(Config, NoBlockMeansOff) {
  const auto c = parse_ok("<ossec_config><auth><port>1515</port></auth></ossec_config>");
  EXPECT_FALSE(c.block_found);
  EXPECT_FALSE(c.enabled);
}

TEST(Config, BlockAtTopLevelInsideOssecConfigOrInsideAuth) {
  EXPECT_EQ(parse_ok("<key_request><threads>3</threads><socket>/s</socket></key_request>").threads, 3);
  EXPECT_EQ(parse_ok("<ossec_config><key_request><threads>4</threads></key_request></ossec_config>").threads, 4);
  EXPECT_EQ(parse_ok("<ossec_config><auth><disabled>no</disabled><key_request><threads>5</threads>"
                     "</key_request></auth></ossec_config>")
                .threads,
            5);
  // ossec.conf files often hold several root blocks; comments are fine.
  const auto c = parse_ok(
      "<!-- x --><ossec_config><global/></ossec_config>\n"
      "<ossec_config><key_request><queue_size>7</queue_size></key_request></ossec_config>");
  EXPECT_EQ(c.queue_size, 7u);
  // Elsewhere it is not the key request block.
  EXPECT_FALSE(parse_ok("<ossec_config><other><key_request/></other></ossec_config>").block_found);
}

TEST(Config, EveryValueAtItsBoundsAndWhitespaceAroundIt) {
  const auto lo =
      parse_ok(block("<timeout>1</timeout><threads>1</threads><queue_size>1</queue_size>"
                     "<enabled>no</enabled><force_insert>yes</force_insert>"));
  EXPECT_EQ(lo.timeout_seconds, 1);
  EXPECT_EQ(lo.queue_size, 1u);
  EXPECT_FALSE(lo.enabled);
  EXPECT_TRUE(lo.force_insert);
  const auto hi =
      parse_ok(block("<timeout> 3600 </timeout><threads>\n32\n</threads><queue_size>220000</queue_size>"
                     "<socket>" +
                     std::string(107, 's') + "</socket>"));
  EXPECT_EQ(hi.timeout_seconds, 3600);
  EXPECT_EQ(hi.threads, 32);
  EXPECT_EQ(hi.queue_size, 220000u);
  EXPECT_EQ(hi.socket.size(), 107u);
}

TEST(Config, LaterBlocksOverrideEarlierOnes) {
  const auto c = parse_ok(block("<threads>2</threads><socket>/a</socket>") + block("<threads>9</threads>"));
  EXPECT_EQ(c.threads, 9);
  EXPECT_EQ(c.socket, "/a");
}

struct BadValue {
  std::string xml;
  std::string tag;
  std::string value;
  std::string allowed;
};

TEST(Config, EveryInvalidValueNamesTagValueAndWhatIsAllowed) {
  const BadValue cases[] = {
      {"<timeout>0</timeout>", "<timeout>", "\"0\"", "1 to 3600"},
      {"<timeout>3601</timeout>", "<timeout>", "\"3601\"", "1 to 3600"},
      {"<timeout>-1</timeout>", "<timeout>", "\"-1\"", "1 to 3600"},
      {"<timeout>1.5</timeout>", "<timeout>", "\"1.5\"", "1 to 3600"},
      {"<timeout>ten</timeout>", "<timeout>", "\"ten\"", "1 to 3600"},
      {"<timeout></timeout>", "<timeout>", "\"\"", "1 to 3600"},
      {"<threads>0</threads>", "<threads>", "\"0\"", "1 to 32"},
      {"<threads>33</threads>", "<threads>", "\"33\"", "1 to 32"},
      {"<queue_size>0</queue_size>", "<queue_size>", "\"0\"", "1 to 220000"},
      {"<queue_size>220001</queue_size>", "<queue_size>", "\"220001\"", "1 to 220000"},
      {"<queue_size>99999999999999999999</queue_size>", "<queue_size>", "\"99999999999999999999\"", "1 to 220000"},
      {"<enabled>maybe</enabled>", "<enabled>", "\"maybe\"", "yes or no"},
      {"<enabled>YES</enabled>", "<enabled>", "\"YES\"", "yes or no"},
      {"<force_insert>1</force_insert>", "<force_insert>", "\"1\"", "yes or no"},
      {"<exec_path></exec_path>", "<exec_path>", "\"\"", "non-empty command line"},
      {"<exec_path>   </exec_path>", "<exec_path>", "\"\"", "non-empty command line"},
      {"<exec_path>\"/bin/unterminated</exec_path>", "<exec_path>", "unterminated", "non-empty command line"},
      {"<socket>" + std::string(108, 's') + "</socket>", "<socket>", std::string(108, 's'), "1 to 107 bytes"},
      {"<socket></socket>", "<socket>", "\"\"", "1 to 107 bytes"},
  };
  for (const auto& c : cases) {
    const std::string message = parse_error(block("<socket>/s</socket>" + c.xml));
    EXPECT_NE(message.find("<key_request>" + c.tag), std::string::npos) << c.xml << " -> " << message;
    EXPECT_NE(message.find(c.value), std::string::npos) << c.xml << " -> " << message;
    EXPECT_NE(message.find(c.allowed), std::string::npos) << c.xml << " -> " << message;
  }
}

// Issue 11: a comment splitting a value kept only its first piece, an element
// after the text was ignored, and an undefined entity stayed literal. Each is
// now an error naming the tag.
TEST(Config, ValuesSplitByCommentsElementsOrUndefinedEntitiesAreErrors) {
  std::string e = parse_error(block("<exec_path>/bin/p</exec_path><timeout>6<!-- -->0</timeout>"));
  EXPECT_NE(e.find("<key_request><timeout>"), std::string::npos) << e;
  EXPECT_NE(e.find("comment"), std::string::npos) << e;
  e = parse_error(block("<exec_path>/bin/p</exec_path><threads>1<x/></threads>"));
  EXPECT_NE(e.find("<key_request><threads>"), std::string::npos) << e;
  EXPECT_NE(e.find("element"), std::string::npos) << e;
  e = parse_error(block("<exec_path>/bin/p<?pi x?></exec_path>"));
  EXPECT_NE(e.find("<key_request><exec_path>"), std::string::npos) << e;
  e = parse_error(block("<exec_path>/opt/&provider;/run</exec_path>"));
  EXPECT_NE(e.find("<key_request><exec_path>"), std::string::npos) << e;
  EXPECT_NE(e.find("&provider;"), std::string::npos) << e;
  e = parse_error(block("<exec_path>/bin/p &amp</exec_path>"));
  EXPECT_NE(e.find("<key_request><exec_path>"), std::string::npos) << e;
  e = parse_error(block("<exec_path>/bin/p &#0;</exec_path>"));
  EXPECT_NE(e.find("<key_request><exec_path>"), std::string::npos) << e;
}

TEST(Config, PredefinedEntitiesCharacterReferencesAndCdataStillWork) {
  auto c = parse_ok(block("<exec_path>/bin/p &quot;a&amp;b&lt;&gt;&apos;&quot; &#65;&#x42;&#xe9;</exec_path>"));
  EXPECT_EQ(c.exec_path, "/bin/p \"a&b<>'\" AB\xc3\xa9");
  c = parse_ok(block("<exec_path><![CDATA[/bin/p &x; <y>]]></exec_path><!-- a comment between tags -->"));
  EXPECT_EQ(c.exec_path, "/bin/p &x; <y>");
  c = parse_ok(block("<timeout> 60 </timeout><exec_path>/bin/p</exec_path>"));
  EXPECT_EQ(c.timeout_seconds, 60);
}

// <auth><disabled>yes</disabled> turns upstream's authd off, key requests
// included: keyreq serves them anyway, and says so.
TEST(Config, DisabledAuthDrawsAWarning) {
  auto c = parse_ok(
      "<ossec_config><auth><disabled>yes</disabled><key_request><exec_path>/bin/p</exec_path>"
      "</key_request></auth></ossec_config>");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("<auth><disabled>yes</disabled>"), std::string::npos) << c.warnings[0];
  EXPECT_TRUE(c.enabled);
  c = parse_ok(
      "<ossec_config><auth><disabled>no</disabled><key_request><exec_path>/bin/p</exec_path>"
      "</key_request></auth></ossec_config>");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_TRUE(parse_ok(block("<exec_path>/bin/p</exec_path>")).warnings.empty());
}

// The input socket path is checked with the configuration, before anything
// is opened or started.
TEST(Config, SocketPathCheck) {
  EXPECT_FALSE(check_socket_path(std::string(107, 'a'), "--input"));
  const auto e = check_socket_path("/" + std::string(107, 'a'), "--input");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message().find("--input"), std::string::npos) << e->message();
  EXPECT_NE(e->message().find("108 bytes"), std::string::npos) << e->message();
  EXPECT_TRUE(check_socket_path("", "--input"));
}

TEST(Config, UnknownTagIsAnErrorListingTheTags) {
  const std::string m = parse_error(block("<socket>/s</socket><thread>2</thread>"));
  EXPECT_NE(m.find("<key_request><thread>"), std::string::npos) << m;
  EXPECT_NE(m.find("threads"), std::string::npos) << m;
}

TEST(Config, XmlErrorsNameTheLine) {
  const std::string m =
      parse_error("<ossec_config>\n<key_request>\n<threads>2</thread>\n</key_request></ossec_config>");
  EXPECT_NE(m.find("test.conf:3"), std::string::npos) << m;
}

TEST(Config, FlagsGoThroughTheSameChecks) {
  KeyRequestConfig c;
  auto e = apply_setting(c, "threads", "33", "--threads");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message().find("--threads"), std::string::npos);
  EXPECT_NE(e->message().find("1 to 32"), std::string::npos);
  EXPECT_FALSE(apply_setting(c, "threads", "8", "--threads"));
  EXPECT_EQ(c.threads, 8);
}

TEST(Config, EnabledNeedsAProvider) {
  auto c = parse_ok(block("<threads>2</threads>"));
  auto e = check_complete(c);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message().find("neither <exec_path> nor <socket>"), std::string::npos);
  c.enabled = false;
  EXPECT_FALSE(check_complete(c));
  c = parse_ok(block("<socket>/s</socket><exec_fallback>yes</exec_fallback>"));
  EXPECT_TRUE(check_complete(c));  // fallback without exec_path
}

TEST(Config, LoadsAFileAndNamesAMissingOne) {
  keyreq::testkit::TempDir dir;
  std::ofstream(dir / "ossec.conf") << block("<socket>/run/p.sock</socket><timeout>5</timeout>");
  auto r = load_key_request_config(dir / "ossec.conf");
  ASSERT_TRUE(std::holds_alternative<KeyRequestConfig>(r));
  EXPECT_EQ(std::get<KeyRequestConfig>(r).timeout_seconds, 5);
  auto missing = load_key_request_config(dir / "absent.conf");
  ASSERT_TRUE(std::holds_alternative<ConfigError>(missing));
  EXPECT_NE(std::get<ConfigError>(missing).message().find("absent.conf"), std::string::npos);
}

}  // namespace
}  // namespace keyreq
