#pragma once
// The one escaper family: untrusted bytes made safe for a log line, a report,
// a shell word, a JSON string or an XML document. Every escaper in keyreq
// (resolver, certify, bench, the reference provider) is one of these.
#include <cstddef>
#include <string>
#include <string_view>

namespace keyreq {

// "\xHH" (two lowercase hex digits) for one byte.
void append_hex_escape(std::string& out, unsigned char byte);

// C-style: printable ASCII stays as is (backslash and `quote` escaped);
// \n, \r and \t by name; every other byte as \xHH. The body of a C string, a
// log value, or a bash $'...' word (quote '\'').
void append_c_escaped(std::string& out, std::string_view bytes, char quote = '"');

// append_c_escaped with '"', so one log line stays one line. Output longer
// than max_bytes is cut and ends with "...(N bytes)".
std::string escape_bytes(std::string_view bytes, std::size_t max_bytes = 256);

// Every byte outside printable ASCII as \xHH, the rest as is (a value shown
// between backticks in a message).
void append_hex_escaped(std::string& out, std::string_view bytes);

// The contents of a JSON string (RFC 8259 §7): quote, backslash and control
// bytes escaped; other bytes (UTF-8 included) as they are.
void append_json_escaped(std::string& out, std::string_view bytes);

// XML 1.0 text or attribute value (also HTML): & < > " ' as entities; control
// bytes other than \n and \t, which XML 1.0 does not allow, become '?'.
std::string xml_escape(std::string_view text);

// Text inside a Markdown table cell: a pipe would end the cell (escaped as
// \|) and a line break the row (becomes a space).
std::string markdown_table_cell(std::string_view text);

}  // namespace keyreq
