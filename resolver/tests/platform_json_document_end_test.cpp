// The platform kit's JSON document-end scanner (resolver/platform/json_document_end.hpp):
// the one copy the socket client, certify's socket probes, bench's socket
// floor and the fuzz transport check all use.
#include "resolver/platform/json_document_end.hpp"

#include <gtest/gtest.h>

#include <string>

namespace keyreq {
namespace {

TEST(JsonDocumentEnd, EndsAfterTheBracketThatClosesTheFirstValue) {
  EXPECT_EQ(json_document_end("{}"), 2u);
  EXPECT_EQ(json_document_end("[[]]]"), 4u);
  EXPECT_EQ(json_document_end(" \t\r\n{\"a\":[{}]} trailing"), 14u);
}

TEST(JsonDocumentEnd, BracketsInsideStringsAndEscapedQuotesDoNotCount) {
  EXPECT_EQ(json_document_end(R"({"a":"}"})"), 9u);
  EXPECT_FALSE(json_document_end(R"({"a":"}")"));
  EXPECT_FALSE(json_document_end(R"({"a":"\"}")"));
  EXPECT_EQ(json_document_end(R"({"a":"\\"})"), 10u);  // an escaped backslash ends the escape
}

TEST(JsonDocumentEnd, ScalarsGarbageAndEmptyInputNeverComplete) {
  EXPECT_FALSE(json_document_end("123"));
  EXPECT_FALSE(json_document_end("true {}"));
  EXPECT_FALSE(json_document_end("x{}"));
  EXPECT_FALSE(json_document_end(""));
  EXPECT_FALSE(json_document_end("   "));
  EXPECT_FALSE(json_document_complete("{\"a\":1"));
  EXPECT_TRUE(json_document_complete("{\"a\":1}"));
}

// Fed one byte at a time (a reply split over many reads), the end is the
// same offset of the stream, and whatever arrives after it changes nothing.
TEST(JsonDocumentEnd, SplitAcrossReadsGivesTheSameStreamOffset) {
  const std::string reply = R"(  {"name":"a \"}\" b","ids":[1,[2]]}{"second":1})";
  const auto whole = json_document_end(reply);
  ASSERT_TRUE(whole);
  EXPECT_EQ(reply.substr(0, *whole).back(), '}');
  JsonDocumentEnd scanner;
  std::optional<std::size_t> end;
  for (std::size_t i = 0; i < reply.size(); ++i) {
    end = scanner.feed(std::string_view(reply).substr(i, 1));
    if (i + 1 < *whole) {
      EXPECT_FALSE(end) << "complete too early, at byte " << i;
    }
  }
  EXPECT_TRUE(scanner.complete());
  EXPECT_EQ(end, whole);
}

}  // namespace
}  // namespace keyreq
