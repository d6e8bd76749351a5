#include "conformance/certify/payloads.hpp"

namespace keyreq::certify {
namespace {

// Digits 0-9 as their FULLWIDTH (U+FF10..) or ARABIC-INDIC (U+0660..) look-alikes,
// which some languages' "is digit" tests accept.
std::string lookalike_digits(const std::string& s, bool fullwidth) {
  std::string out;
  for (char c : s) {
    if (c < '0' || c > '9') {
      out += c;
      continue;
    }
    const int d = c - '0';
    if (fullwidth) {  // U+FF10 + d = EF BC 90+d
      out += "\xef\xbc";
      out += static_cast<char>(0x90 + d);
    } else {  // U+0660 + d = D9 A0+d
      out += "\xd9";
      out += static_cast<char>(0xa0 + d);
    }
  }
  return out;
}

class Builder {
 public:
  std::vector<Payload> list;

  // A request whose kind word is right and whose value is not.
  void value(const std::string& kind, std::string name, std::string category, std::string title, std::string v,
             bool sql = false, std::string canary = {}) {
    Payload p;
    p.name = std::move(name);
    p.kind = kind;
    p.category = std::move(category);
    p.title = std::move(title);
    p.exec_args = std::vector<std::string>{kind, v};
    p.socket_bytes = kind + ":" + v;
    p.judge_kind = kind;
    p.judge_value = v;
    p.sql = sql;
    p.canary = std::move(canary);
    list.push_back(std::move(p));
  }

  // A request that is wrong as a whole: its own exec and socket forms.
  void request(std::string name, std::string category, std::string title,
               std::optional<std::vector<std::string>> exec_args, std::optional<std::string> socket_bytes,
               std::string judge_kind, std::string judge_value) {
    Payload p;
    p.name = std::move(name);
    p.kind = "request";
    p.category = std::move(category);
    p.title = std::move(title);
    p.exec_args = std::move(exec_args);
    p.socket_bytes = std::move(socket_bytes);
    p.judge_kind = std::move(judge_kind);
    p.judge_value = std::move(judge_value);
    list.push_back(std::move(p));
  }
};

// The id payloads: SQL injection, length, non-digits, shell, unicode, newlines.
void add_id_payloads(Builder& b, const std::string& id, const std::string& canary_dir) {
  const std::string sql = "sql";
  // --- id: SQL injection, long forms, then short ones within upstream's 8-byte id limit
  b.value("id", "sqli-quote-or", sql, "quote + OR tautology", "' OR '1'='1", true);
  b.value("id", "sqli-known-quote-or", sql, "known id + quote + OR tautology", id + "' OR '1'='1", true);
  b.value("id", "sqli-or-comment", sql, "OR tautology + -- comment", "' OR 1=1 --", true);
  b.value("id", "sqli-or-hash", sql, "OR tautology + # comment (MySQL)", "' OR 1=1 #", true);
  b.value("id", "sqli-known-comment", sql, "known id + quote + -- comment", id + "' -- ", true);
  b.value("id", "sqli-union", sql, "UNION SELECT of the whole agent table",
          "' UNION SELECT id,name,ip,agent_key FROM agent --", true);
  b.value("id", "sqli-union-forged", sql, "UNION SELECT of a forged agent",
          "' UNION SELECT '" + id + "','forged','any','forged-key' --", true);
  b.value("id", "sqli-stacked", sql, "stacked query", id + "'; DROP TABLE agent; --", true);
  b.value("id", "sqli-numeric-or", sql, "unquoted OR tautology, 8 bytes", "0 OR 1=1", true);
  b.value("id", "sqli-short-or", sql, "short: 'OR 1-- (7 bytes)", "'OR 1--", true);
  b.value("id", "sqli-short-eq", sql, "short: 'OR''=' (7 bytes)", "'OR''='", true);
  b.value("id", "sqli-short-hash", sql, "short: ' OR 1# (7 bytes)", "' OR 1#", true);
  b.value("id", "sqli-short-known-comment", sql, "short: known id + '--", id + "'--", true);
  b.value("id", "sqli-short-numeric", sql, "short: 1 OR 1 (6 bytes)", "1 OR 1", true);
  b.value("id", "sqli-short-dquote", sql, "short: \"OR\"\"=\" (7 bytes, double quotes)", "\"OR\"\"=\"", true);

  // --- id: length, emptiness, non-digits
  b.value("id", "overlong-9-digits", "length", "9 digits (ids have 3 to 8)", "123456789");
  b.value("id", "overlong-4096", "overlong", "4096 digits", std::string(4096, '1'));
  b.value("id", "empty", "empty", "empty id", "");
  b.value("id", "two-digits", "length", "2 digits (ids have 3 to 8)", "01");
  b.value("id", "letters", "non-digit", "letters", "abc");
  b.value("id", "known-plus-letter", "non-digit", "known id + a letter", id + "a");
  b.value("id", "negative", "non-digit", "leading minus", "-" + id);
  b.value("id", "plus-sign", "non-digit", "leading plus", "+" + id);
  b.value("id", "exponent", "non-digit", "number with exponent", "1e3");
  b.value("id", "hex", "non-digit", "hexadecimal", "0x1");
  b.value("id", "leading-space", "non-digit", "known id with a leading space", " " + id);
  b.value("id", "trailing-space", "non-digit", "known id with a trailing space", id + " ");
  b.value("id", "decimal", "non-digit", "known id + .0", id + ".0");
  // --- id: shell metacharacters; the canaries exist only if a shell ran them
  b.value("id", "shell-semicolon", "shell", "; command", id + ";touch " + canary_dir + "/semicolon", false,
          canary_dir + "/semicolon");
  b.value("id", "shell-substitution", "shell", "$( ) substitution", "$(touch " + canary_dir + "/substitution)", false,
          canary_dir + "/substitution");
  b.value("id", "shell-backquote", "shell", "` ` substitution", "`touch " + canary_dir + "/backquote`", false,
          canary_dir + "/backquote");
  b.value("id", "shell-pipe", "shell", "| pipe", id + "|touch " + canary_dir + "/pipe", false, canary_dir + "/pipe");
  b.value("id", "shell-and", "shell", "&& list", id + "&&touch " + canary_dir + "/and", false, canary_dir + "/and");
  b.value("id", "shell-redirect", "shell", "> redirection", id + ">" + canary_dir + "/redirect", false,
          canary_dir + "/redirect");
  b.value("id", "shell-glob", "shell", "* glob", "*");
  // --- id: unicode
  b.value("id", "fullwidth-digits", "unicode", "known id in FULLWIDTH digits", lookalike_digits(id, true));
  b.value("id", "arabic-indic-digits", "unicode", "known id in ARABIC-INDIC digits", lookalike_digits(id, false));
  b.value("id", "zero-width-space", "unicode", "known id + U+200B ZERO WIDTH SPACE", id + "\xe2\x80\x8b");
  b.value("id", "bom", "unicode", "U+FEFF BOM + known id", "\xef\xbb\xbf" + id);
  b.value("id", "invalid-utf8", "unicode", "a byte that is not UTF-8 + known id", "\xff" + id);
  // --- id: newlines
  b.value("id", "trailing-newline", "newline", "known id + \\n (declined, or answered as the id: SPEC §2)", id + "\n");
  b.list.back().tolerated_as = std::pair<std::string, std::string>{"id", id};
  b.value("id", "trailing-crlf", "newline", "known id + \\r\\n (declined, or answered as the id: SPEC §2)",
          id + "\r\n");
  b.list.back().tolerated_as = std::pair<std::string, std::string>{"id", id};
  b.value("id", "leading-newline", "newline", "\\n + known id", "\n" + id);
  b.value("id", "second-line", "newline", "known id, newline, a second request", id + "\nid:" + id);
}

// The ip payloads: SQL injection, what is not an address, shell, unicode, newlines.
void add_ip_payloads(Builder& b, const std::string& ip, const std::string& canary_dir) {
  const std::string sql = "sql";
  // --- ip: SQL injection
  b.value("ip", "sqli-quote-or", sql, "quote + OR tautology", "' OR '1'='1", true);
  b.value("ip", "sqli-known-quote-or", sql, "known address + quote + OR tautology", ip + "' OR '1'='1", true);
  b.value("ip", "sqli-known-comment", sql, "known address + quote + -- comment", ip + "' -- ", true);
  b.value("ip", "sqli-union", sql, "UNION SELECT of the whole agent table",
          "' UNION SELECT id,name,ip,agent_key FROM agent --", true);
  b.value("ip", "sqli-stacked", sql, "stacked query", ip + "'; DROP TABLE agent; --", true);
  b.value("ip", "sqli-short-or", sql, "short: 'OR 1-- (7 bytes)", "'OR 1--", true);
  b.value("ip", "sqli-short-eq", sql, "short: 'OR''=' (7 bytes)", "'OR''='", true);
  b.value("ip", "sqli-short-hash", sql, "short: ' OR 1# (7 bytes)", "' OR 1#", true);
  // --- ip: not an address
  b.value("ip", "overlong-4096", "overlong", "4096 characters", std::string(4096, '9'));
  b.value("ip", "empty", "empty", "empty address", "");
  b.value("ip", "octet-out-of-range", "non-address", "octet above 255", "999.1.1.1");
  b.value("ip", "three-octets", "non-address", "three octets", "10.0.1");
  b.value("ip", "hostname", "non-address", "a host name", "localhost");
  b.value("ip", "known-with-prefix", "non-address", "known address + /24 (requests carry no prefix)", ip + "/24");
  b.value("ip", "leading-zeros", "non-address", "leading zeros", "010.000.000.001");
  b.value("ip", "bracketed-v6", "non-address", "bracketed IPv6", "[::1]");
  b.value("ip", "zone-id", "non-address", "IPv6 with a zone id", "fe80::1%lo");
  b.value("ip", "any", "non-address", "the word any (an answer value, not an address)", "any");
  b.value("ip", "leading-space", "non-address", "known address with a leading space", " " + ip);
  b.value("ip", "trailing-space", "non-address", "known address with a trailing space", ip + " ");
  // --- ip: shell, unicode, newline
  b.value("ip", "shell-semicolon", "shell", "; command", ip + ";touch " + canary_dir + "/ip-semicolon", false,
          canary_dir + "/ip-semicolon");
  b.value("ip", "shell-substitution", "shell", "$( ) substitution", "$(touch " + canary_dir + "/ip-substitution)",
          false, canary_dir + "/ip-substitution");
  b.value("ip", "fullwidth-digits", "unicode", "known address in FULLWIDTH digits", lookalike_digits(ip, true));
  b.value("ip", "zero-width-space", "unicode", "known address + U+200B", ip + "\xe2\x80\x8b");
  b.value("ip", "trailing-newline", "newline", "known address + \\n (declined, or answered as the address: SPEC §2)",
          ip + "\n");
  b.list.back().tolerated_as = std::pair<std::string, std::string>{"ip", ip};
  b.value("ip", "second-line", "newline", "known address, newline, a second request", ip + "\nip:" + ip);
}

// Malformed requests as a whole: option words, missing parts, NUL bytes, two at once.
void add_request_payloads(Builder& b, const std::string& id, const std::string& ip) {
  // --- the request as a whole: option word, missing parts, bytes argv cannot carry
  b.request("option-uppercase", "option", "option word ID instead of id", std::vector<std::string>{"ID", id},
            "ID:" + id, "id", id);
  b.request("option-unknown", "option", "option word name", std::vector<std::string>{"name", "agent-" + id},
            "name:agent-" + id, "id", "agent-" + id);
  b.request("option-empty", "option", "empty option word", std::vector<std::string>{"", id}, ":" + id, "id", id);
  b.request("option-dashed", "option", "option word --id", std::vector<std::string>{"--id", id}, "--id:" + id, "id",
            id);
  b.request("missing-everything", "missing", "no request words at all (exec); a lone colon (socket)",
            std::vector<std::string>{}, ":", "id", "");
  b.request("missing-id-value", "missing", "option word id without a value", std::vector<std::string>{"id"}, "id", "id",
            "");
  b.request("missing-ip-value", "missing", "option word ip without a value", std::vector<std::string>{"ip"}, "ip", "ip",
            "");
  b.request("missing-option", "missing", "a value without its option word", std::vector<std::string>{id}, id, "id", id);
  b.request("nul-after-value", "nul", "NUL byte after the known id", std::nullopt, "id:" + id + std::string(1, '\0'),
            "id", id + std::string(1, '\0'));
  b.request("nul-inside-value", "nul", "NUL byte inside the id", std::nullopt,
            "id:" + id.substr(0, 1) + std::string(1, '\0') + id.substr(1), "id",
            id.substr(0, 1) + std::string(1, '\0') + id.substr(1));
  b.request("two-requests", "newline", "two requests in one write", std::nullopt, "id:" + id + "\nip:" + ip, "id",
            id + "\nip:" + ip);
  b.request("overlong-request", "overlong", "a 4096-byte request", std::nullopt, "id:" + std::string(4092, '1'), "id",
            std::string(4092, '1'));
}

}  // namespace

std::vector<Payload> adversarial_payloads(const std::string& id, const std::string& ip, const std::string& canary_dir) {
  Builder b;
  add_id_payloads(b, id, canary_dir);
  add_ip_payloads(b, ip, canary_dir);
  add_request_payloads(b, id, ip);
  return b.list;
}

}  // namespace keyreq::certify
