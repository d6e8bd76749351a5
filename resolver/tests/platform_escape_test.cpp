// The platform kit's escaper family (resolver/platform/escape.hpp) and its
// number formatter (resolver/platform/number_format.hpp): the one copy each
// that logs, certify's reports and repro lines, bench's reports and the
// reference provider's answers use.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
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

// fixed and general are std::to_chars now (the log formats two numbers per
// request); they must still print exactly what printf's %.*f and %.*g print.
TEST(PlatformNumberFormat, FixedAndGeneralPrintAsPrintfDoes) {
  const double values[] = {0.0,  -0.0,     1.0005,  0.0015, 2.5, 3.5,     123456.789, 1e-7, 9.999999,
                           1e21, -1.25e-3, 1.7e308, 5e-324, 0.1, 1.0 / 3, 12.3456789, 1e15, 2.0 / 3e9};
  char buf[512];
  for (const double v : values) {
    for (const int precision : {0, 1, 3, 9}) {
      std::snprintf(buf, sizeof buf, "%.*f", precision, v);
      EXPECT_EQ(format::fixed(v, precision), buf) << v << " %.f precision " << precision;
      std::snprintf(buf, sizeof buf, "%.*g", precision, v);
      EXPECT_EQ(format::general(v, precision), buf) << v << " %.g precision " << precision;
    }
  }
  EXPECT_EQ(format::general(0.000123456, 3), "0.000123");
  EXPECT_EQ(format::general(NAN, 9), "nan");
  EXPECT_EQ(format::general(-INFINITY, 9), "-inf");
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
