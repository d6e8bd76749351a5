#include "resolver/platform/escape.hpp"

namespace keyreq {
namespace {
constexpr char kHex[] = "0123456789abcdef";

bool printable_ascii(unsigned char c) { return c >= 0x20 && c < 0x7f; }

// The backslash escapes C and JSON share; null for any other byte.
const char* shared_escape(unsigned char c) {
  switch (c) {
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\\': return "\\\\";
    default: return nullptr;
  }
}
}  // namespace

void append_hex_escape(std::string& out, unsigned char byte) {
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 15];
}

void append_c_escaped(std::string& out, std::string_view bytes, char quote) {
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (const char* named = shared_escape(c)) {
      out += named;
    } else if (ch == quote) {
      out += '\\';
      out += ch;
    } else if (printable_ascii(c)) {
      out += ch;
    } else {
      append_hex_escape(out, c);
    }
  }
}

std::string escape_bytes(std::string_view bytes, std::size_t max_bytes) {
  std::string out;
  const std::size_t shown = bytes.size() < max_bytes ? bytes.size() : max_bytes;
  out.reserve(shown + 8);
  append_c_escaped(out, bytes.substr(0, shown), '"');
  if (shown < bytes.size()) {
    out += "...(" + std::to_string(bytes.size()) + " bytes)";
  }
  return out;
}

void append_hex_escaped(std::string& out, std::string_view bytes) {
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (printable_ascii(c))
      out += ch;
    else
      append_hex_escape(out, c);
  }
}

void append_json_escaped(std::string& out, std::string_view bytes) {
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (const char* named = shared_escape(c)) {
      out += named;
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
          out += '?';
        else
          out += c;
    }
  }
  return out;
}

std::string markdown_table_cell(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

}  // namespace keyreq
