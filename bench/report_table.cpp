#include "bench/report_table.hpp"

#include "resolver/platform/escape.hpp"

namespace keyreq::bench {

Text::Text(std::string plain) { add(std::move(plain)); }
Text::Text(const char* plain) { add(plain); }

Text& Text::add(std::string plain) {
  if (!plain.empty()) spans.push_back({std::move(plain), Span::Style::plain, ""});
  return *this;
}
Text& Text::code(std::string text) {
  spans.push_back({std::move(text), Span::Style::code, ""});
  return *this;
}
Text& Text::strong(std::string text) {
  spans.push_back({std::move(text), Span::Style::strong, ""});
  return *this;
}
Text& Text::link(std::string text, std::string href) {
  spans.push_back({std::move(text), Span::Style::link, std::move(href)});
  return *this;
}
Text& Text::append(const Text& other) {
  spans.insert(spans.end(), other.spans.begin(), other.spans.end());
  return *this;
}

Table& Table::columns(std::vector<std::string> names, std::vector<Align> alignment) {
  header = std::move(names);
  align = std::move(alignment);
  return *this;
}
Table& Table::row(std::vector<Text> cells) {
  rows.push_back(std::move(cells));
  return *this;
}

void Document::title(Text text) { blocks.push_back({Block::Kind::title, std::move(text), {}, {}}); }
void Document::heading(Text text) { blocks.push_back({Block::Kind::heading, std::move(text), {}, {}}); }
void Document::paragraph(Text text) { blocks.push_back({Block::Kind::paragraph, std::move(text), {}, {}}); }
void Document::list(std::vector<Text> items) { blocks.push_back({Block::Kind::list, {}, std::move(items), {}}); }
void Document::table(Table table) { blocks.push_back({Block::Kind::table, {}, {}, std::move(table)}); }
void Document::charts() { blocks.push_back({Block::Kind::charts, {}, {}, {}}); }

std::string escape_html(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

namespace {

// In a Markdown table cell a pipe ends the cell; a line break ends the row.
std::string markdown_text(const std::string& s, bool in_table) { return in_table ? markdown_table_cell(s) : s; }

enum class Markup { markdown, html };

// A Text in either format: one routine, so both say the same of each style.
// In Markdown, `in_table` escapes what would end the cell.
std::string render_text(const Text& t, Markup markup, bool in_table = false) {
  const bool md = markup == Markup::markdown;
  std::string o;
  for (const auto& s : t.spans) {
    const std::string text = md ? markdown_text(s.text, in_table) : escape_html(s.text);
    switch (s.style) {
      case Span::Style::plain: o += text; break;
      case Span::Style::code: o += md ? "`" + text + "`" : "<code>" + text + "</code>"; break;
      case Span::Style::strong: o += md ? "**" + text + "**" : "<strong>" + text + "</strong>"; break;
      case Span::Style::link:
        o += md ? "[" + text + "](" + s.href + ")" : "<a href=\"" + escape_html(s.href) + "\">" + text + "</a>";
        break;
    }
  }
  return o;
}

std::string markdown(const Text& t, bool in_table = false) { return render_text(t, Markup::markdown, in_table); }
std::string html(const Text& t) { return render_text(t, Markup::html); }

Table::Align align_of(const Table& t, std::size_t column) {
  return column < t.align.size() ? t.align[column] : Table::Align::right;
}

std::string markdown_table(const Table& t) {
  std::string o = "|";
  for (const auto& h : t.header) o += " " + markdown_text(h, true) + " |";
  o += "\n|";
  for (std::size_t i = 0; i < t.header.size(); ++i) o += align_of(t, i) == Table::Align::left ? "---|" : "---:|";
  o += "\n";
  for (const auto& row : t.rows) {
    o += "|";
    for (const auto& cell : row) o += " " + markdown(cell, true) + " |";
    o += "\n";
  }
  return o;
}

std::string html_table(const Table& t) {
  std::string o = "<table>\n<thead><tr>";
  for (std::size_t i = 0; i < t.header.size(); ++i)
    o += std::string(align_of(t, i) == Table::Align::left ? "<th class=\"l\">" : "<th>") + escape_html(t.header[i]) +
         "</th>";
  o += "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    o += "<tr>";
    for (std::size_t i = 0; i < row.size(); ++i)
      o += std::string(align_of(t, i) == Table::Align::left ? "<td class=\"l\">" : "<td>") + html(row[i]) + "</td>";
    o += "</tr>\n";
  }
  return o + "</tbody></table>\n";
}

// A Document in either format (charts only in HTML, where `charts` is the
// markup to put in their place).
std::string render_document(const Document& doc, Markup markup, const std::string& charts) {
  const bool md = markup == Markup::markdown;
  auto text = [markup](const Text& t) { return render_text(t, markup); };
  std::string o;
  for (const auto& b : doc.blocks) {
    switch (b.kind) {
      case Block::Kind::title: o += md ? "# " + text(b.text) + "\n\n" : "<h1>" + text(b.text) + "</h1>\n"; break;
      case Block::Kind::heading: o += md ? "## " + text(b.text) + "\n\n" : "<h2>" + text(b.text) + "</h2>\n"; break;
      case Block::Kind::paragraph: o += md ? text(b.text) + "\n\n" : "<p>" + text(b.text) + "</p>\n"; break;
      case Block::Kind::list:
        if (!md) o += "<ul>\n";
        for (const auto& item : b.items) o += md ? "- " + text(item) + "\n" : "<li>" + text(item) + "</li>\n";
        o += md ? "\n" : "</ul>\n";
        break;
      case Block::Kind::table: o += md ? markdown_table(b.table) + "\n" : html_table(b.table); break;
      case Block::Kind::charts:
        if (!md) o += charts;
        break;
    }
  }
  return o;
}

}  // namespace

std::string render_markdown(const Document& doc) { return render_document(doc, Markup::markdown, ""); }

std::string render_html(const Document& doc, const std::string& charts) {
  return render_document(doc, Markup::html, charts);
}

}  // namespace keyreq::bench
