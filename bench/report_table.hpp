#pragma once
// The document model both human-readable writers render: report.md and the
// gate's verdict (Markdown) and index.html (HTML) are built once as a
// Document of headings, paragraphs, lists and tables, then rendered, so the
// two formats cannot disagree and HTML never re-parses Markdown.
#include <string>
#include <vector>

namespace keyreq::bench {

// A run of text in one style.
struct Span {
  enum class Style { plain, code, strong, link };
  std::string text;
  Style style = Style::plain;
  std::string href;  // link target (relative path), only for Style::link
};

// Text with inline styles: Text{}.add("median ").code("p50").
struct Text {
  std::vector<Span> spans;
  Text() = default;
  Text(std::string plain);  // NOLINT(google-explicit-constructor): plain text converts
  Text(const char* plain);  // NOLINT(google-explicit-constructor)
  Text& add(std::string plain);
  Text& code(std::string text);
  Text& strong(std::string text);
  Text& link(std::string text, std::string href);
  Text& append(const Text& other);
};

struct Table {
  enum class Align { left, right };
  std::vector<std::string> header;
  std::vector<Align> align;  // one per column; missing columns are right-aligned
  std::vector<std::vector<Text>> rows;

  Table& columns(std::vector<std::string> names, std::vector<Align> alignment);
  Table& row(std::vector<Text> cells);
};

struct Block {
  enum class Kind { title, heading, paragraph, list, table, charts };
  Kind kind = Kind::paragraph;
  Text text;                // title, heading, paragraph
  std::vector<Text> items;  // list
  Table table;              // table
};

struct Document {
  std::vector<Block> blocks;
  void title(Text text);
  void heading(Text text);
  void paragraph(Text text);
  void list(std::vector<Text> items);
  void table(Table table);
  // Where the HTML writer puts its charts; Markdown renders nothing.
  void charts();
};

std::string render_markdown(const Document& doc);
// The HTML body (no <html> wrapper); `charts` replaces the charts block.
std::string render_html(const Document& doc, const std::string& charts);
std::string escape_html(const std::string& text);

}  // namespace keyreq::bench
