#include "conformance/certify/quoting.hpp"

#include "resolver/platform/escape.hpp"
#include "resolver/platform/number_format.hpp"

namespace keyreq::certify {
namespace {

bool is_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == '/' || c == ':' || c == '=' || c == '@' || c == '%' || c == '+' || c == ',';
}

bool is_printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x20 && u < 0x7f;
}

std::string single_quoted(std::string_view word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string ansi_c_quoted(std::string_view word) {
  std::string out = "$'";
  append_c_escaped(out, word, '\'');
  return out + "'";
}

// A bytes literal for Python, safe inside a single-quoted shell word.
std::string python_bytes(std::string_view bytes) {
  std::string out = "b\"";
  for (char c : bytes) {
    if (is_printable(c) && c != '"' && c != '\\' && c != '\'')
      out += c;
    else
      append_hex_escape(out, static_cast<unsigned char>(c));
  }
  return out + "\"";
}

// A python3 expression for the bytes, compressing long runs of one byte.
std::string python_expr(std::string_view bytes) {
  if (bytes.size() > 64) {
    const char first = bytes.front();
    if (bytes.find_first_not_of(first) == std::string_view::npos) {
      return python_bytes(std::string_view(&first, 1)) + "*" + std::to_string(bytes.size());
    }
  }
  return python_bytes(bytes);
}

}  // namespace

std::string shell_quote(std::string_view word) {
  if (word.empty()) return "''";
  if (word.size() > 64) {
    const char first = word.front();
    if (word.find_first_not_of(first) == std::string_view::npos && is_safe(first) && first != '%') {
      return "\"$(printf '%" + std::to_string(word.size()) + "s' '' | tr ' ' '" + std::string(1, first) + "')\"";
    }
  }
  bool safe = true, printable = true;
  for (char c : word) {
    safe = safe && is_safe(c);
    printable = printable && is_printable(c);
  }
  if (safe) return std::string(word);
  if (printable && word.find('\'') != std::string_view::npos &&
      word.find_first_of("\"$`\\!") == std::string_view::npos) {
    return "\"" + std::string(word) + "\"";  // reads better than '\'' sequences
  }
  if (printable) return single_quoted(word);
  return ansi_c_quoted(word);
}

std::string shell_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& word : argv) {
    if (!out.empty()) out += ' ';
    out += shell_quote(word);
  }
  return out;
}

std::string reproduce(const Exchange& exchange, const std::string& socket_path) {
  if (exchange.transport == Transport::exec) return shell_command(exchange.argv);
  std::string code = "import socket,sys,time;s=socket.socket(socket.AF_UNIX);s.settimeout(10);s.connect(" +
                     python_bytes(socket_path) + ");";
  if (exchange.pieces.empty() && !exchange.half_close) {
    return "python3 -c '" + code + "s.close()'";
  }
  for (std::size_t i = 0; i < exchange.pieces.size(); ++i) {
    if (i > 0 && exchange.pause.count() > 0) {
      code += "time.sleep(" + format::fixed(static_cast<double>(exchange.pause.count()) / 1000.0, 3) + ");";
    }
    code += "s.sendall(" + python_expr(exchange.pieces[i]) + ");";
  }
  if (exchange.half_close) code += "s.shutdown(socket.SHUT_WR);";
  code += "[sys.stdout.buffer.write(d) or sys.stdout.flush() for d in iter(lambda:s.recv(65536),b\"\")]";
  return "python3 -c '" + code + "'";
}

std::string describe_sent(const Exchange& exchange) {
  if (exchange.transport == Transport::exec) {
    // The provider's own words first, then what certification added.
    return "argv " + shell_command(exchange.argv);
  }
  if (exchange.pieces.empty()) return exchange.half_close ? "nothing, then half-close" : "nothing (empty connection)";
  std::string out;
  for (std::size_t i = 0; i < exchange.pieces.size(); ++i) {
    if (i > 0) out += " + ";
    out += "\"" + escape_bytes(exchange.pieces[i], 200) + "\"";
  }
  if (exchange.pieces.size() > 1)
    out += " (" + std::to_string(exchange.pieces.size()) + " writes, " + std::to_string(exchange.pause.count()) +
           " ms apart)";
  if (exchange.half_close) out += ", then half-close";
  return out;
}

std::string shown(std::string_view bytes, std::size_t max_bytes) { return escape_bytes(bytes, max_bytes); }

}  // namespace keyreq::certify
