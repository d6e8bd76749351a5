// The platform kit's escaper family (resolver/platform/escape.hpp) and its
// number formatter (resolver/platform/number_format.hpp): the one copy each
// that logs, certify's reports and repro lines, bench's reports and the
// reference provider's answers use.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "resolver/platform/escape.hpp"
#include "resolver/platform/number_format.hpp"

namespace keyreq {
namespace {

std::string c_escaped(std::string_view bytes, char quote) {
  std::string out;
  append_c_escaped(out, bytes, quote);
  return out;
}

TEST(PlatformEscape, CStyleKeepsPrintableAsciiAndEscapesTheRest) {
  EXPECT_EQ(escape_bytes("a\"b\\c\n\r\t\x01\xff"), "a\\\"b\\\\c\\n\\r\\t\\x01\\xff");
  // The bash $'...' form escapes the single quote instead of the double one.
  EXPECT_EQ(c_escaped("it's \"x\"\x7f", '\''), "it\\'s \"x\"\\x7f");
}

TEST(PlatformEscape, EscapeBytesCutsLongInputAndSaysHowLongItWas) {
  EXPECT_EQ(escape_bytes(std::string(10, 'a'), 4), "aaaa...(10 bytes)");
  EXPECT_EQ(escape_bytes("abcd", 4), "abcd");
}

TEST(PlatformEscape, HexFormEscapesEveryByteOutsidePrintableAscii) {
  std::string out;
  append_hex_escaped(out, "a\nb\x01\xff\\\"");
  EXPECT_EQ(out, "a\\x0ab\\x01\\xff\\\"");  // backslash and quote stay as they are
  out.clear();
  append_hex_escape(out, 0xab);
  EXPECT_EQ(out, "\\xab");
}

TEST(PlatformEscape, JsonStringContentsFollowRfc8259) {
  std::string out;
  append_json_escaped(out, "q\"b\\n\n\b\f\r\t\x1f\x7f\xc3\xa9");
  EXPECT_EQ(out, "q\\\"b\\\\n\\n\\b\\f\\r\\t\\u001f\x7f\xc3\xa9");  // DEL and UTF-8 as they are
}

TEST(PlatformEscape, XmlEscapesMarkupAndReplacesDisallowedControlBytes) {
  EXPECT_EQ(xml_escape("<a b=\"1\" c='2'>&</a>"), "&lt;a b=&quot;1&quot; c=&apos;2&apos;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(xml_escape("l1\nl2\tx\x01\ry"), "l1\nl2\tx??y");
}

TEST(PlatformNumberFormat, FixedDecimalsAndNotMeasured) {
  EXPECT_EQ(format::fixed(1.2345, 2), "1.23");
  EXPECT_EQ(format::fixed(2.5, 0), "2");  // round half to even, as printf and fmt do
  EXPECT_EQ(format::fixed(0.0005, 3), "0.001");
  EXPECT_EQ(format::fixed(NAN, 1), format::kNone);
  EXPECT_EQ(format::signed_percent(-0.031), "-3.1%");
  EXPECT_EQ(format::percent(0.123, 1), "12.3%");
  EXPECT_EQ(format::micros(41300), "41.3 ms");
}

// A pipe would end a Markdown table cell and a line break the row.
TEST(PlatformEscape, MarkdownTableCellKeepsPipesAndLineBreaksInsideTheCell) {
  EXPECT_EQ(markdown_table_cell("a|b"), "a\\|b");
  EXPECT_EQ(markdown_table_cell("one\ntwo"), "one two");
  EXPECT_EQ(markdown_table_cell("`x`"), "`x`");
  EXPECT_EQ(markdown_table_cell(""), "");
}

}  // namespace
}  // namespace keyreq
