// Case generators (see generators.hpp). Every random choice is a RapidCheck
// pick inside rc::gen::exec, so a case shrinks pick by pick: lengths toward
// their minimum, choices toward the first (plainest) alternative. The JSON
// layout (whitespace, optional escapes, member order) comes from one 64-bit
// style seed that shrinks toward 0, the compact layout.
#include "conformance/generators.hpp"

#include <algorithm>
#include <functional>
#include <utility>

namespace keyreq::conformance {

namespace {

using Bytes16 = std::array<std::uint8_t, 16>;

// ---- picks (valid inside rc::gen::exec) ----------------------------------

int range(int lo, int hi) { return *rc::gen::inRange(lo, hi + 1); }  // inclusive
// True `percent` % of the time; shrinks toward false.
bool chance(int percent) { return *rc::gen::inRange(0, 100) >= 100 - percent; }
template <class T>
T one_of(std::vector<T> v) {
  return *rc::gen::elementOf(std::move(v));
}
std::string one_of_str(std::vector<std::string> v) { return one_of(std::move(v)); }
std::string chars(std::size_t n, const std::string& pool) {
  if (n == 0) return {};
  return *rc::gen::container<std::string>(n, rc::gen::elementOf(pool));
}

const std::string kUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const std::string kLower = "abcdefghijklmnopqrstuvwxyz";
const std::string kDigits = "0123456789";
const std::string kNamePunct = "-_.";
const std::string kNameChars = kUpper + kLower + kDigits + kNamePunct;
const std::string kPrintable = [] {
  std::string s;
  for (char c = 0x20; c < 0x7f; ++c) s += c;
  return s;
}();
const std::string kPrintableNoSpace = kPrintable.substr(1);
// Characters that stress JSON escaping and client.keys lines.
const std::string kKeyEdge = "\"\\{}[]:,/'#!~` ";

// ---- a small JSON model and a styled writer --------------------------------

struct J {
  enum class Kind { raw, string, object, array };
  Kind kind = Kind::raw;
  std::string text;               // raw: literal JSON text; string: the unescaped value
  std::vector<std::string> keys;  // object: keys (unescaped, or literal text when raw_key)
  std::vector<bool> raw_key;      // object: key written as is (quotes included)
  std::vector<J> values;          // object values, array items

  static J raw(std::string t) {
    J j;
    j.text = std::move(t);
    return j;
  }
  static J str(std::string s) {
    J j;
    j.kind = Kind::string;
    j.text = std::move(s);
    return j;
  }
  static J object() {
    J j;
    j.kind = Kind::object;
    return j;
  }
  static J array() {
    J j;
    j.kind = Kind::array;
    return j;
  }
  J& add(std::string key, J v) {
    keys.push_back(std::move(key));
    raw_key.push_back(false);
    values.push_back(std::move(v));
    return *this;
  }
  J& add_raw_key(std::string literal, J v) {
    keys.push_back(std::move(literal));
    raw_key.push_back(true);
    values.push_back(std::move(v));
    return *this;
  }
  J& push(J v) {
    values.push_back(std::move(v));
    return *this;
  }
  J* find(std::string_view key) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!raw_key[i] && keys[i] == key) return &values[i];
    }
    return nullptr;
  }
  bool remove(std::string_view key) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!raw_key[i] && keys[i] == key) {
        keys.erase(keys.begin() + static_cast<std::ptrdiff_t>(i));
        raw_key.erase(raw_key.begin() + static_cast<std::ptrdiff_t>(i));
        values.erase(values.begin() + static_cast<std::ptrdiff_t>(i));
        return true;
      }
    }
    return false;
  }
  bool rename(std::string_view from, std::string to) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!raw_key[i] && keys[i] == from) {
        keys[i] = std::move(to);
        return true;
      }
    }
    return false;
  }
};

// Layout choices drawn from one seed: 0 is compact JSON with minimal escapes.
class Style {
 public:
  explicit Style(std::uint64_t seed) : state_(seed) {
    if (seed != 0) {
      ws_level_ = static_cast<int>(next() % 4);
      escape_level_ = static_cast<int>(next() % 4);
      upper_hex_ = next() % 2 == 0;
    }
  }
  std::uint64_t next() {  // splitmix64
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  bool percent(unsigned p) { return next() % 100 < p; }
  std::string ws(int depth) {
    switch (ws_level_) {
      case 1: return percent(25) ? " " : "";
      case 2: {
        std::string s;
        const int n = static_cast<int>(next() % 3);
        for (int i = 0; i < n; ++i) s += " \t\n\r"[next() % 4];
        return s;
      }
      case 3: return "\n" + std::string(static_cast<std::size_t>(depth) * 2, ' ');
      default: return "";
    }
  }
  bool escape_optional() {
    static constexpr unsigned kPercent[] = {0, 3, 15, 50};
    return escape_level_ > 0 && percent(kPercent[escape_level_]);
  }
  bool upper_hex() const { return upper_hex_; }
  int ws_level() const { return ws_level_; }

 private:
  std::uint64_t state_;
  int ws_level_ = 0;
  int escape_level_ = 0;
  bool upper_hex_ = false;
};

// Length of the UTF-8 sequence at s[i] and its code point; 0 when invalid.
std::size_t utf8_at(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (len == 0 || i + len > s.size() || !valid_utf8(s.substr(i, len))) return 0;
  cp = len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (b(i + k) & 0x3F);
  return len;
}

void append_u_escape(std::string& out, unsigned v, bool upper) {
  const char* hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += hex[(v >> shift) & 0xF];
}

void write_string(std::string_view s, Style& st, std::string& out) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    char32_t cp = 0;
    std::size_t len = utf8_at(s, i, cp);
    if (len == 0) {  // invalid UTF-8: written raw (only faults put it there)
      out += s[i++];
      continue;
    }
    const char c = s[i];
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (cp < 0x20) {
      const char* shorts = nullptr;
      switch (c) {
        case '\b': shorts = "\\b"; break;
        case '\f': shorts = "\\f"; break;
        case '\n': shorts = "\\n"; break;
        case '\r': shorts = "\\r"; break;
        case '\t': shorts = "\\t"; break;
        default: break;
      }
      if (shorts != nullptr && !st.escape_optional())
        out += shorts;
      else
        append_u_escape(out, cp, st.upper_hex());
    } else if (st.escape_optional()) {
      if (c == '/' && st.percent(50)) {
        out += "\\/";
      } else if (cp > 0xFFFF) {
        const unsigned v = static_cast<unsigned>(cp) - 0x10000;
        append_u_escape(out, 0xD800 + (v >> 10), st.upper_hex());
        append_u_escape(out, 0xDC00 + (v & 0x3FF), st.upper_hex());
      } else {
        append_u_escape(out, static_cast<unsigned>(cp), st.upper_hex());
      }
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  out += '"';
}

void write_json(const J& j, Style& st, std::string& out, int depth) {
  switch (j.kind) {
    case J::Kind::raw: out += j.text; return;
    case J::Kind::string: write_string(j.text, st, out); return;
    case J::Kind::object:
    case J::Kind::array: {
      const bool obj = j.kind == J::Kind::object;
      out += obj ? '{' : '[';
      for (std::size_t i = 0; i < j.values.size(); ++i) {
        if (i > 0) out += ',';
        out += st.ws(depth + 1);
        if (obj) {
          if (j.raw_key[i])
            out += j.keys[i];
          else
            write_string(j.keys[i], st, out);
          out += st.ws(depth + 1);
          out += ':';
          out += st.ws(depth + 1);
        }
        write_json(j.values[i], st, out, depth + 1);
      }
      if (!j.values.empty()) out += st.ws(depth);
      out += obj ? '}' : ']';
      return;
    }
  }
}

std::string write_document(const J& j, std::uint64_t style_seed, bool surround) {
  Style st(style_seed);
  std::string out;
  if (surround && st.ws_level() > 0) out += st.ws(0);
  write_json(j, st, out, 0);
  if (surround && st.ws_level() > 0) out += st.ws(0);
  if (surround && st.percent(30)) out += '\n';
  return out;
}

// ---- addresses -------------------------------------------------------------

bool bit_of(const Bytes16& b, int bit) { return (b[bit / 8] >> (7 - bit % 8)) & 1; }
void set_bit(Bytes16& b, int bit, bool v) {
  const auto mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
  if (v)
    b[bit / 8] = static_cast<std::uint8_t>(b[bit / 8] | mask);
  else
    b[bit / 8] = static_cast<std::uint8_t>(b[bit / 8] & ~mask);
}

std::uint8_t gen_octet() {
  return static_cast<std::uint8_t>(chance(50) ? one_of<int>({0, 1, 9, 10, 99, 100, 199, 200, 249, 250, 255})
                                              : range(0, 255));
}

Bytes16 gen_v4_bytes() {
  Bytes16 b{};
  for (int i = 0; i < 4; ++i) b[i] = gen_octet();
  return b;
}

Bytes16 gen_v6_bytes() {
  Bytes16 b{};
  const int zero_from = range(0, 8);  // a run of zero groups, often at the start or the middle
  const int zero_len = range(0, 8 - zero_from);
  for (int g = 0; g < 8; ++g) {
    unsigned v = 0;
    if (g < zero_from || g >= zero_from + zero_len) {
      switch (range(0, 3)) {
        case 0: v = 0; break;
        case 1: v = static_cast<unsigned>(range(1, 255)); break;
        case 2: v = 0xffff; break;
        default: v = static_cast<unsigned>(range(0, 0xffff)); break;
      }
    }
    b[2 * g] = static_cast<std::uint8_t>(v >> 8);
    b[2 * g + 1] = static_cast<std::uint8_t>(v & 0xff);
  }
  return b;
}

// A random valid textual form of an IPv6 address.
std::string gen_v6_text(const Bytes16& b) {
  const bool v4_tail = chance(15);
  const int hex_groups = v4_tail ? 6 : 8;
  std::vector<int> zeros;
  for (int g = 0; g < hex_groups; ++g) {
    if (b[2 * g] == 0 && b[2 * g + 1] == 0) zeros.push_back(g);
  }
  int at = 0, len = 0;
  if (!zeros.empty() && chance(75)) {
    at = one_of(zeros);
    int max_len = 0;
    while (at + max_len < hex_groups && b[2 * (at + max_len)] == 0 && b[2 * (at + max_len) + 1] == 0) ++max_len;
    len = range(1, max_len);
  }
  const bool upper = chance(20);
  const int width = chance(70) ? 1 : range(1, 4);
  return ipv6_text(b, at, len, v4_tail, upper, width);
}

std::string address_text(int family, const Bytes16& b) { return family == 4 ? ipv4_text(b) : gen_v6_text(b); }

std::string netmask_text(int prefix) {
  Bytes16 m{};
  for (int bit = 0; bit < prefix; ++bit) set_bit(m, bit, true);
  return ipv4_text(m);
}

int gen_prefix(int family) {
  const int max = family == 4 ? 32 : 128;
  switch (range(0, 3)) {
    case 0: return 0;
    case 1: return max;
    case 2: return family == 4 ? one_of<int>({8, 16, 24, 31}) : one_of<int>({48, 56, 64, 127});
    default: return range(0, max);
  }
}

// A network (no suffix when prefix is the full length and `bare`) text.
std::string network_text(int family, const Bytes16& b, int prefix, bool bare) {
  const int max = family == 4 ? 32 : 128;
  std::string text = address_text(family, b);
  if (prefix == max && bare) return text;
  if (family == 4 && chance(35)) return text + "/" + netmask_text(prefix);
  return text + "/" + std::to_string(prefix);
}

// ---- the answer being built --------------------------------------------------

struct Draft {
  OracleRequest request;
  J doc = J::object();
  std::string intent = "accept";
  std::uint64_t style = 0;
  std::function<std::string(std::string)> post;  // byte-level change after writing (D1 faults)
};

J* data_of(Draft& d) {
  J* data = d.doc.find("data");
  return data != nullptr && data->kind == J::Kind::object ? data : nullptr;
}

J* field_of(Draft& d, std::string_view name) {
  J* data = data_of(d);
  return data == nullptr ? nullptr : data->find(name);
}

void set_field(Draft& d, std::string_view name, J value) {
  if (J* f = field_of(d, name)) *f = std::move(value);
}

std::string unicode_piece() {
  return one_of_str({"\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80", "\xc2\xa0", "\xe2\x80\xa8",
                     "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\x7f", "\x01", "\x1f", "\"", "\\", "/"});
}

// Free text for messages and unknown members: printable ASCII, control
// characters and multi-byte UTF-8 (the writer escapes what JSON needs).
std::string gen_text(int max_len) {
  const int n = range(0, max_len);
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (chance(15))
      s += unicode_piece();
    else
      s += chars(1, kPrintable);
  }
  return s;
}

// Valid JSON number texts, some at the edges of what a double holds.
std::string gen_valid_number() {
  return one_of_str({"0",
                     "-0",
                     "1",
                     "-1",
                     "1.5",
                     "-0.0",
                     "1e10",
                     "1E+2",
                     "1e-7",
                     "0.1e1",
                     "2147483647",
                     "2147483648",
                     "-2147483649",
                     "9007199254740993",
                     "18446744073709551615",
                     "18446744073709551616",
                     "-9223372036854775809",
                     "123456789012345678901234567890",
                     "1.7976931348623157e308",
                     "-1.7976931348623157e308",
                     "5e-324",
                     "1e-400",
                     "4.9e-324",
                     "1E308"});
}

J gen_extra_value(int depth_budget) {
  const int kind = range(0, depth_budget > 0 ? 7 : 4);
  switch (kind) {
    case 0: return J::str(gen_text(12));
    case 1: return J::raw(gen_valid_number());
    case 2: return J::raw(one_of_str({"true", "false", "null"}));
    case 3: return J::str("");
    case 4: return J::raw(gen_valid_number());
    case 5: {
      J a = J::array();
      const int n = range(0, 3);
      for (int i = 0; i < n; ++i) a.push(gen_extra_value(depth_budget - 1));
      return a;
    }
    default: {
      J o = J::object();
      const int n = range(0, 3);
      for (int i = 0; i < n; ++i) {
        std::string k = one_of_str({"a", "b", "id", "key", "error", "data", "\xc3\xa9", ""});
        if (o.find(k) == nullptr) o.add(k, gen_extra_value(depth_budget - 1));
      }
      return o;
    }
  }
}

// Levels of arrays and objects in j, at least as many as it has: raw text
// counts each bracket it holds as a level.
int nesting_bound(const J& j) {
  if (j.kind == J::Kind::raw)
    return static_cast<int>(std::count_if(j.text.begin(), j.text.end(), [](char c) { return c == '[' || c == '{'; }));
  if (j.kind == J::Kind::string) return 0;
  int deepest = 0;
  for (const J& v : j.values) deepest = std::max(deepest, nesting_bound(v));
  return deepest + 1;
}

// `levels` containers inside each other, arrays or objects, a scalar inside.
J nested(int levels) {
  J inner = J::raw("1");
  const bool objects = chance(30);
  for (int i = 0; i < levels; ++i) {
    J outer = objects ? J::object() : J::array();
    if (objects)
      outer.add("n", std::move(inner));
    else
      outer.push(std::move(inner));
    inner = std::move(outer);
  }
  return inner;
}

// Unknown top-level members (S6 is a SHOULD: they never block registration).
// Names differing from error/data only by case are unknown members too.
void add_extras(Draft& d) {
  if (!chance(35)) return;
  const int n = range(1, 3);
  for (int i = 0; i < n; ++i) {
    std::string k = one_of_str(
        {"message", "status", "meta", "version", "ERROR", "Data", "errors", "x", "", "DATA", "Error", "\xc3\xa9rror"});
    if (d.doc.find(k) != nullptr) continue;
    J v = chance(10) ? nested(range(1, 63)) : gen_extra_value(3);  // 63 inside the root: depth 64 at most
    d.doc.add(std::move(k), std::move(v));
  }
}

// Reorders an object's members by a picked permutation (shrinks to as written).
void permute(J& obj) {
  const std::size_t n = obj.values.size();
  if (n < 2 || !chance(50)) return;
  for (std::size_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::size_t>(range(0, static_cast<int>(i)));
    std::swap(obj.keys[i], obj.keys[j]);
    std::swap(obj.values[i], obj.values[j]);
    const bool t = obj.raw_key[i];
    obj.raw_key[i] = obj.raw_key[j];
    obj.raw_key[j] = t;
  }
}

J data_object(const std::string& id, const std::string& name, const std::string& ip, const std::string& key) {
  J data = J::object();
  data.add("id", J::str(id)).add("name", J::str(name)).add("ip", J::str(ip)).add("key", J::str(key));
  return data;
}

Draft valid_draft() {
  Draft d;
  d.request = *gen_request();
  const std::string id = d.request.kind == "id" ? d.request.value : *gen_agent_id();
  const std::string ip = d.request.kind == "ip" ? *gen_network_covering(d.request) : *gen_agent_ip();
  const std::string name = *gen_agent_name();
  const std::string key = *gen_agent_key();
  d.doc.add("error", J::raw("0")).add("data", data_object(id, name, ip, key));
  if (chance(15)) d.doc.add("message", J::str(gen_text(20)));
  add_extras(d);
  permute(*d.doc.find("data"));
  permute(d.doc);
  d.style = chance(30) ? 0 : *rc::gen::arbitrary<std::uint64_t>();
  return d;
}

Draft decline_draft() {
  Draft d;
  d.request = *gen_request();
  d.intent = "decline";
  const std::string code =
      chance(50) ? one_of_str({"1", "2", "4", "2147483647", "2147483646"}) : std::to_string(range(1, 2147483646));
  d.doc.add("error", J::raw(code));
  switch (range(0, 3)) {
    case 0: break;  // no message
    case 1: d.doc.add("message", J::str(one_of_str({"Agent not found", "DB error", ""}))); break;
    case 2: d.doc.add("message", J::str(gen_text(40))); break;
    default: d.doc.add("message", J::raw(one_of_str({"1", "null", "[]", "{}", "true"}))); break;
  }
  if (chance(30)) {  // E4 is a SHOULD: data beside an error is ignored, whatever it holds
    d.doc.add("data", chance(50) ? data_object(*gen_agent_id(), *gen_agent_name(), *gen_agent_ip(), *gen_agent_key())
                                 : gen_extra_value(2));
  }
  add_extras(d);
  permute(d.doc);
  d.style = chance(30) ? 0 : *rc::gen::arbitrary<std::uint64_t>();
  return d;
}

std::string written(Draft& d) {
  std::string out = write_document(d.doc, d.style, true);
  if (d.post) out = d.post(std::move(out));
  return out;
}

Case finish(Draft& d, std::string family) {
  Case c;
  c.request = d.request;
  c.output = written(d);
  c.family = std::move(family);
  c.intent = d.intent;
  return c;
}

std::string trim_right_ws(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  return s;
}

// A string literal (raw JSON text) holding `inner` bytes between valid text.
// ("zz" after it: no hex digit may complete a cut-off \u escape).
J raw_string_with(const std::string& inner) { return J::raw("\"ab" + inner + "zz\""); }

// ---- one fault per rule, each breaking that rule and no earlier one ----------

// What fault_D1 puts inside strings, numbers and values: invalid UTF-8, bad
// escapes, numbers outside the JSON grammar, broken literals and structure.
const std::vector<std::string> kBadUtf8 = {"\x80",
                                           "\xbf",
                                           "\xc0\x80",
                                           "\xc1\xbf",
                                           "\xe0\x80\x80",
                                           "\xed\xa0\x80",
                                           "\xf4\x90\x80\x80",
                                           "\xf5\x80\x80\x80",
                                           "\xff",
                                           "\xfe",
                                           "\xc3",
                                           "\xe2\x82",
                                           "\xf0\x9f\x98",
                                           "\xf8\x88\x80\x80\x80"};
const std::vector<std::string> kBadEscapes = {
    "\\x41",    "\\'",     "\\u12", "\\u12G4", "\\ud800",        "\\udc00", "\\ud800\\u0041",
    "\\ud800x", "\\U0041", "\\a",   "\\0",     "\\udbff\\udbff", "\\u-123", "\\ "};
const std::vector<std::string> kBadNumbers = {
    "01",        "1.",   ".5",  "+1",    "-",      "1e", "1e+", "0x10",  "NaN",  "Infinity",
    "-Infinity", "1.e5", "--1", "1e999", "-1e999", "00", "-01", "1E400", "0.0e", "1" + std::string(400, '0')};
const std::vector<std::string> kBadValues = {
    "tru",     "nul",   "True",  "NULL",    "undefined",  "'x'",    "{\"a\" 1}", "{\"a\":1 \"b\":2}",
    "{'a':1}", "{a:1}", "[1 2]", "[1,]",    "{\"a\":1,}", "/*c*/1", "1 //c\n",   "[",
    "{",       "]",     "\"abc", "{\"a\"}", "{,}",        "[,1]",   "{\"a\":}"};

void fault_D1(Draft& d) {
  // When an earlier fault left no object (D2) only byte-level faults apply;
  // on a top-level scalar only those that break any value (variant 3): a
  // number cut short, doubled or given a digit more is still a number.
  const int pick = range(0, 12);
  const int variant = d.doc.kind == J::Kind::object ? pick : d.doc.kind == J::Kind::array ? pick % 4 : 3;
  // A broken string goes into a field when there is one, else into a new member.
  const auto place = [&d](std::string_view field, J value) {
    if (J* f = field_of(d, field))
      *f = std::move(value);
    else
      d.doc.add("note", std::move(value));
  };
  switch (variant) {
    case 0: {  // truncated
      d.post = [cut = range(0, 1000)](std::string s) {
        s = trim_right_ws(std::move(s));
        return s.substr(0, s.size() * static_cast<std::size_t>(cut) / 1001);
      };
      break;
    }
    case 1: {  // trailing bytes after the document
      const std::string tail = one_of_str(
          {"x", "}", "]", "0", "{}", "null", std::string(1, '\0'), ",", "\"\"", "/", "#", "\x1a", "\xef\xbb\xbf"});
      const std::string gap = one_of_str({"", " ", "\n", "\r\n"});
      d.post = [tail, gap](std::string s) { return trim_right_ws(std::move(s)) + gap + tail; };
      break;
    }
    case 2: {  // several documents
      const bool same = chance(50);
      d.post = [same](std::string s) { return same ? s + s : s + "\n{}"; };
      break;
    }
    case 3: {  // byte order mark, empty, whitespace only, non-JSON whitespace around
      const int k = range(0, 6);
      d.post = [k](std::string s) -> std::string {
        switch (k) {
          case 0: return "\xef\xbb\xbf" + s;
          case 1: return "";
          case 2: return " \n\t\r";
          case 3: return "\f" + s;
          case 4: return s + "\v";
          case 5: return "\xc2\xa0" + s;
          default: return std::string(1, '\0') + s;
        }
      };
      break;
    }
    case 4:  // invalid UTF-8 inside a string: an unknown member or a field
    case 5: {
      const std::string bad = one_of(kBadUtf8);
      if (chance(50))
        place(one_of_str({"name", "key", "ip", "id"}), raw_string_with(bad));
      else
        d.doc.add("note", raw_string_with(bad));
      break;
    }
    case 6: {  // an unescaped control character inside a string
      const std::string ctl(1, static_cast<char>(range(0, 31)));
      if (chance(50))
        place(one_of_str({"name", "key"}), raw_string_with(ctl));
      else
        d.doc.add("note", raw_string_with(ctl));
      break;
    }
    case 7: {  // a bad escape
      const std::string esc = one_of(kBadEscapes);
      if (chance(50))
        place(one_of_str({"name", "key"}), raw_string_with(esc));
      else
        d.doc.add("note", raw_string_with(esc));
      break;
    }
    case 8: {  // nesting one level past 64 (the root object is level 1)
      J deep = nested(64);
      d.doc.add("deep", std::move(deep));
      break;
    }
    case 9: {  // number grammar, or a number too large for a double
      const std::string n = one_of(kBadNumbers);
      J* e = d.doc.find("error");
      if (e != nullptr && chance(30))
        *e = J::raw(n);
      else
        d.doc.add("n", J::raw(n));
      break;
    }
    case 10: {  // broken literals and structure
      d.doc.add("v", J::raw(one_of(kBadValues)));
      break;
    }
    case 11: {  // an invalid byte between tokens
      const std::string bad = one_of_str({"\x80", "\xff", std::string(1, '\0'), "\x01", "\xc3\xa9"});
      d.post = [bad](std::string s) {
        s = trim_right_ws(std::move(s));
        return s.substr(0, 1) + bad + s.substr(1);  // right after the opening brace
      };
      break;
    }
    default: {  // a trailing comma at the top level
      d.post = [](std::string s) {
        s = trim_right_ws(std::move(s));
        if (!s.empty()) s.pop_back();
        return s + ",}";
      };
      break;
    }
  }
}

// Any object in the tree, root first.
void objects_in(J& j, std::vector<J*>& out) {
  if (j.kind == J::Kind::object) out.push_back(&j);
  if (j.kind == J::Kind::object || j.kind == J::Kind::array) {
    for (auto& v : j.values) objects_in(v, out);
  }
}

// One object of the document (the document itself is one), drawn at random.
J* any_object(J& doc) {
  std::vector<J*> objects;
  objects_in(doc, objects);
  return one_of(objects);
}

// A key position of a non-empty object, drawn at random.
std::size_t any_key_index(const J& o) {
  return static_cast<std::size_t>(range(0, static_cast<int>(o.keys.size()) - 1));
}

void fault_D2(Draft& d) {
  switch (range(0, 4)) {
    case 0: {  // top level not an object
      int k = range(0, 9);
      // Wrapped in an array, a document already 64 levels deep would be 65 (D1).
      if (k == 0 && nesting_bound(d.doc) >= 64) k = range(1, 9);
      if (k == 0) {
        J wrapped = J::array();
        wrapped.push(std::move(d.doc));
        d.doc = std::move(wrapped);
      } else {
        d.doc =
            J::raw(std::vector<std::string>{"", "\"text\"", "0", "true", "null", "[]", "\"{\\\"error\\\":0}\"", "false",
                                            "-1.5e3", "123456789012345678901234567890"}[static_cast<std::size_t>(k)]);
      }
      break;
    }
    case 1: {  // a top-level key twice, with the same value
      const std::string k = one_of_str({"error", "data", "error"});
      J* v = d.doc.find(k);
      if (v != nullptr)
        d.doc.add(k, *v);
      else
        d.doc.add("x", J::raw("0")).add("x", J::raw("0"));
      break;
    }
    case 2: {  // a data field twice
      J* data = data_of(d);
      if (data == nullptr) data = &d.doc;
      if (data->keys.empty()) {
        data->add("a", J::raw("1")).add("a", J::raw("1"));
        break;
      }
      const std::size_t i = any_key_index(*data);
      if (data->raw_key[i])
        data->add_raw_key(data->keys[i], data->values[i]);
      else
        data->add(data->keys[i], data->values[i]);
      break;
    }
    case 3: {  // a clash only visible after unescaping: "error" and "\u0065rror"
      const std::string k = one_of_str({"error", "data"});
      J* v = d.doc.find(k);
      if (v == nullptr) {
        d.doc.add("x", J::raw("1")).add_raw_key("\"\\u0078\"", J::raw("2"));
        break;
      }
      J copy = *v;
      d.doc.add_raw_key(k == "error" ? "\"\\u0065rror\"" : "\"d\\u0061ta\"", std::move(copy));
      break;
    }
    default: {  // a duplicate deep inside an unknown member
      J inner = J::object();
      inner.add("k", J::raw("1")).add("k", J::raw(chance(50) ? "1" : "2"));
      J outer = J::array();
      outer.push(std::move(inner));
      d.doc.add("deep", std::move(outer));
      break;
    }
  }
}

void fault_E1(Draft& d) {
  if (chance(25)) {  // error absent, or only under another name (names are case-sensitive)
    const std::string to = one_of_str({"", "Error", "ERROR", "errors", "error ", " error", "err", "eRROR"});
    if (to.empty()) {
      d.doc.remove("error");
    } else {
      d.doc.remove(to);  // an unknown member of that name would make a duplicate (D2)
      d.doc.rename("error", to);
    }
    return;
  }
  J* e = d.doc.find("error");
  const std::string v = one_of_str({"2147483648",
                                    "\"0\"",
                                    "0.0",
                                    "0e0",
                                    "-0",
                                    "-1",
                                    "true",
                                    "false",
                                    "null",
                                    "[]",
                                    "{}",
                                    "[0]",
                                    "1e0",
                                    "1.0",
                                    "0.5",
                                    "-2147483648",
                                    "\"1\"",
                                    "4294967296",
                                    "18446744073709551615",
                                    "18446744073709551616",
                                    "100000000000000000000000",
                                    "-0.0",
                                    "0E+0",
                                    "\"\"",
                                    "-9223372036854775809",
                                    "2.147483647e9"});
  if (e != nullptr)
    *e = J::raw(v);
  else
    d.doc.add("error", J::raw(v));
}

void fault_S1(Draft& d) {
  switch (range(0, 5)) {
    case 0: d.doc.remove("data"); break;
    case 1: {
      J* data = d.doc.find("data");
      const std::string v = one_of_str({"[]", "null", "\"x\"", "0", "true", "[{\"id\":\"001\"}]", "\"{}\""});
      if (data != nullptr) *data = J::raw(v);
      break;
    }
    case 2: {  // a field missing
      if (J* data = data_of(d)) data->remove(one_of_str({"id", "name", "ip", "key"}));
      break;
    }
    case 3: {  // a field too many
      if (J* data = data_of(d)) {
        const std::string k = one_of_str({"extra", "ID", "id2", "", "keys", "Key", "group"});
        data->add(k, chance(50) ? J::str("x") : J::raw("1"));
      }
      break;
    }
    case 4: {  // a field's name in another case
      if (J* data = data_of(d)) {
        const std::string from = one_of_str({"id", "name", "ip", "key"});
        std::string to = from;
        to[0] = static_cast<char>(to[0] - 'a' + 'A');
        if (chance(30))
          std::transform(to.begin(), to.end(), to.begin(),
                         [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; });
        data->rename(from, to);
      }
      break;
    }
    default: {  // a field not a string
      const std::string v = one_of_str({"1", "1.0", "null", "true", "[]", "{}", "[\"001\"]", "false", "0"});
      set_field(d, one_of_str({"id", "name", "ip", "key"}), J::raw(v));
      break;
    }
  }
}

void fault_S2(Draft& d) {
  std::string id;
  switch (range(0, 3)) {
    case 0: id = chars(one_of<std::size_t>({2, 9}), kDigits); break;  // just past the length bounds
    case 1: id = one_of_str({"", "0", "12"}); break;
    case 2: {  // one byte that is not an ASCII digit
      id = chars(static_cast<std::size_t>(range(3, 8)), kDigits);
      const std::string bad = one_of_str(
          {"a", " ", "-", "+", ".", "/", ":", "\xd9\xa0", "\xef\xbc\x91", std::string(1, '\0'), "\n", "x", "e"});
      id.replace(static_cast<std::size_t>(range(0, static_cast<int>(id.size()) - 1)), 1, bad);
      break;
    }
    default: id = one_of_str({"0x1", "1e5", "-001", "+001", "001 ", " 001", "１２３"}); break;
  }
  set_field(d, "id", J::str(id));
}

void fault_S3(Draft& d) {
  std::string name;
  switch (range(0, 2)) {
    case 0: name = ""; break;
    case 1: name = chars(129, kNameChars); break;
    default: {
      name = chars(static_cast<std::size_t>(range(1, 127)), kNameChars);
      const std::string bad =
          one_of_str({" ",    "!", "#", "@", "/",  "+",  ":",  "\t", "\xc3\xa9", std::string(1, '\0'),
                      "\x7f", "~", "*", ",", "\n", "\"", "\\", "%",  "=",        "\xe2\x80\x8b"});
      name.insert(static_cast<std::size_t>(range(0, static_cast<int>(name.size()))), bad);
      break;
    }
  }
  set_field(d, "name", J::str(name));
}

void fault_S4(Draft& d) {
  const Bytes16 v4 = gen_v4_bytes();
  const std::string a4 = ipv4_text(v4);
  const std::string a6 = gen_v6_text(gen_v6_bytes());
  std::string ip;
  switch (range(0, 8)) {
    case 8: {  // a valid address or network, then a NUL and maybe more
      const std::string nul(1, '\0');
      ip = one_of_str({a4, a6, a4 + "/255.255.255.0", a4 + "/24", a6 + "/64", "any"}) +
           one_of_str({nul, nul + "x", nul + "1", nul + nul});
      break;
    }
    case 0:  // an octet just past 255, or a leading zero
      ip = one_of_str({"256", "01", "00", "1000", "-1", "0x1"}) + a4.substr(a4.find('.'));
      break;
    case 1: {  // prefix just past the length
      if (chance(50))
        ip = a4 + "/" + one_of_str({"33", "024", "/24", "", "+8", "-1", "1a", "320", " 24"});
      else
        ip = a6 + "/" + one_of_str({"129", "064", "", "+64", "-0", "1000", "64/64"});
      break;
    }
    case 2: {  // a netmask that is not contiguous, or not a valid address
      // The lowest bit set makes any mask but all-ones non-contiguous.
      std::uint32_t m = *rc::gen::arbitrary<std::uint32_t>() | 1u;
      if (m == 0xffffffffu) m = 0xff00ff01u;
      Bytes16 mb{};
      for (int i = 0; i < 4; ++i) mb[i] = static_cast<std::uint8_t>(m >> (24 - 8 * i));
      ip = a4 + "/" +
           (chance(50) ? ipv4_text(mb)
                       : one_of_str({"255.0.255.0", "255.255.255.1", "0.0.0.1", "254.255.255.0", "255.255.255.00",
                                     "255.255.255", "255.255.256.0", "128.0.0.1"}));
      break;
    }
    case 3:  // wrong number of octets
      ip = one_of_str({"1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3", "1.2.3.4.", ""});
      break;
    case 4:  // IPv6 forms inet_pton refuses
      ip = one_of_str({":::",
                       "1::2::3",
                       "1:2:3:4:5:6:7:8:9",
                       "1:2:3:4:5:6:7",
                       "1:2:3:4:5:6:7::8",
                       "12345::",
                       "::g",
                       "1:2:3:4:5:6:7:8:",
                       ":1::",
                       "::1.2.3",
                       "::1.2.3.04",
                       "::1.2.3.4:1",
                       "1.2.3.4::",
                       "[::1]",
                       "fe80::1%eth0",
                       "::ffff:1.2.3.256",
                       "1:2:3:4:5:6::1.2.3.4",
                       ":1:2:3:4:5:6:7:8",
                       "1:2:3:4:5:6:1.2.3.4:1",
                       "::1 ",
                       "0:0:0:0:0:0:0:0:0"});
      break;
    case 5:  // IPv6 with a dotted netmask
      ip = a6 + "/255.255.255.0";
      break;
    case 6:  // "any" in another spelling
      ip = one_of_str({"ANY", "Any", "any/0", " any", "any ", "*", "all", "0"});
      break;
    default:  // stray characters
      ip = chance(50) ? one_of_str({" ", "\t", "x", "/"}) + a4 : a4 + one_of_str({" ", "\n", "x", "/", "."});
      break;
  }
  set_field(d, "ip", J::str(ip));
}

void fault_S5(Draft& d) {
  std::string key;
  switch (range(0, 3)) {
    case 0: key = ""; break;
    case 1: key = chars(1, kPrintableNoSpace) + chars(127, kPrintable) + chars(1, kPrintableNoSpace); break;
    case 2: {  // a space at an edge
      key = chars(static_cast<std::size_t>(range(1, 127)), kPrintableNoSpace);
      key = chance(50) ? " " + key : key + " ";
      break;
    }
    default: {
      key = chars(static_cast<std::size_t>(range(2, 127)), kPrintableNoSpace);
      const std::string bad =
          one_of_str({"\t", "\n", std::string(1, '\0'), "\x7f", "\xc3\xa9", "\xc2\xa0", "\r", "\x1b", "\xe2\x82\xac"});
      key.insert(static_cast<std::size_t>(range(0, static_cast<int>(key.size()))), bad);
      break;
    }
  }
  set_field(d, "key", J::str(key));
}

// Another valid id than the one asked for (needs an id request).
void fault_C1(Draft& d) {
  const std::string& asked = d.request.value;
  std::string id;
  switch (range(0, 2)) {
    case 0: id = asked.size() < 8 ? "0" + asked : asked.substr(1); break;
    case 1: {
      id = asked;
      char& last = id.back();
      last = last == '9' ? '0' : static_cast<char>(last + 1);
      break;
    }
    default:
      id = *gen_agent_id();
      if (id == asked) id = asked.size() < 8 ? asked + "0" : asked.substr(0, 7);
      break;
  }
  set_field(d, "id", J::str(id));
}

// A valid network that does not hold the address asked for (needs an ip request).
void fault_C2(Draft& d) {
  const auto asked = parse_address(d.request.value);
  if (!asked) return;
  const int max = asked->family == 4 ? 32 : 128;
  std::string ip;
  if (chance(25)) {  // the other family
    if (asked->family == 4) {
      ip = one_of_str({"::/0", "::ffff:" + d.request.value, "::" + d.request.value, "::ffff:0:0/96"});
    } else {
      ip = one_of_str({"0.0.0.0/0", "0.0.0.0/0.0.0.0", "127.0.0.1"});
    }
  } else {  // same family, one bit inside the prefix differs
    const int prefix = chance(40) ? max : range(1, max);
    Bytes16 b = asked->bytes;
    const int flip = chance(50) ? prefix - 1 : range(0, prefix - 1);
    set_bit(b, flip, !bit_of(b, flip));
    for (int bit = prefix; bit < max; ++bit) {
      if (chance(5)) set_bit(b, bit, !bit_of(b, bit));
    }
    ip = network_text(asked->family, b, prefix, true);
  }
  set_field(d, "ip", J::str(ip));
}

using Fault = void (*)(Draft&);

Fault fault_for(std::string_view rule) {
  if (rule == "D1") return fault_D1;
  if (rule == "D2") return fault_D2;
  if (rule == "E1") return fault_E1;
  if (rule == "S1") return fault_S1;
  if (rule == "S2") return fault_S2;
  if (rule == "S3") return fault_S3;
  if (rule == "S4") return fault_S4;
  if (rule == "S5") return fault_S5;
  if (rule == "C1") return fault_C1;
  return fault_C2;
}

// The rules a fault can be made for, given the request kind.
std::vector<std::string> rules_for(const OracleRequest& r) {
  std::vector<std::string> rules = {"D1", "D2", "E1", "S1", "S2", "S3", "S4", "S5"};
  rules.push_back(r.kind == "id" ? "C1" : "C2");
  return rules;
}

// ---- structural mutations ----------------------------------------------------

void values_in(J& j, std::vector<J*>& out) {
  if (j.kind == J::Kind::object || j.kind == J::Kind::array) {
    for (auto& v : j.values) {
      out.push_back(&v);
      values_in(v, out);
    }
  }
}

// A post step that inserts `bytes` at at/1001 of the document (0 <= at <= 1000).
std::function<std::string(std::string)> insert_at_fraction(std::string bytes, int at) {
  return [bytes = std::move(bytes), at](std::string s) {
    return s.insert(s.size() * static_cast<std::size_t>(at) / 1001, bytes);
  };
}

// Each mutation changes the draft and returns the verdict it intends: the
// draft's own (d.intent) when the mutation keeps it, "" when it cannot know.
std::string mutate_truncate(Draft& d) {
  d.post = [cut = range(0, 1000)](std::string s) {
    s = trim_right_ws(std::move(s));
    return s.substr(0, s.size() * static_cast<std::size_t>(cut) / 1001);
  };
  return "D1";
}

std::string mutate_duplicate_key(Draft& d) {
  J* o = any_object(d.doc);
  if (o->keys.empty()) {
    o->add("k", J::raw("1")).add("k", J::raw("2"));
  } else {
    const std::size_t i = any_key_index(*o);
    J v = chance(50) ? o->values[i] : gen_extra_value(1);
    if (o->raw_key[i])
      o->add_raw_key(o->keys[i], std::move(v));
    else
      o->add(o->keys[i], std::move(v));
  }
  return "D2";
}

std::string mutate_swap_type(Draft& d) {
  std::vector<J*> values;
  values_in(d.doc, values);
  if (!values.empty())
    *one_of(values) =
        J::raw(one_of_str({"1", "\"1\"", "null", "true", "[]", "{}", "-0", "0.0", "\"\"", "[\"x\"]", "{\"a\":1}"}));
  return "";
}

std::string mutate_case_change(Draft& d) {
  J* o = any_object(d.doc);
  if (!o->keys.empty()) {
    const std::size_t i = any_key_index(*o);
    std::string& k = o->keys[i];
    if (!o->raw_key[i] && !k.empty()) {
      const auto at = static_cast<std::size_t>(range(0, static_cast<int>(k.size()) - 1));
      const char c = k[at];
      if (c >= 'a' && c <= 'z')
        k[at] = static_cast<char>(c - 'a' + 'A');
      else if (c >= 'A' && c <= 'Z')
        k[at] = static_cast<char>(c - 'A' + 'a');
    }
  }
  return "";
}

std::string mutate_extra_field(Draft& d) {
  any_object(d.doc)->add(one_of_str({"extra", "id", "error", "data", "key", "x", ""}), gen_extra_value(2));
  return "";
}

std::string mutate_missing_field(Draft& d) {
  J* o = any_object(d.doc);
  if (!o->keys.empty()) {
    const std::size_t i = any_key_index(*o);
    o->keys.erase(o->keys.begin() + static_cast<std::ptrdiff_t>(i));
    o->raw_key.erase(o->raw_key.begin() + static_cast<std::ptrdiff_t>(i));
    o->values.erase(o->values.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return "";
}

std::string mutate_deep_nesting(Draft& d) {
  const int levels = range(60, 70);
  const bool clash = d.doc.find("deep") != nullptr;
  d.doc.add("deep", nested(levels));
  return levels + 1 > 64 ? "D1" : clash ? "D2" : d.intent;
}

std::string mutate_huge_number(Draft& d) {
  const std::string n = one_of_str({"1e308", "1e309", "-1e309", "18446744073709551616", "1" + std::string(30, '0'),
                                    "1" + std::string(309, '0'), "1e-400", "2147483648", "2147483647",
                                    "-9223372036854775809", "1.7976931348623159e308"});
  J* e = d.doc.find("error");
  if (e != nullptr && chance(30))
    *e = J::raw(n);
  else
    d.doc.add("n", J::raw(n));
  return "";
}

std::string mutate_invalid_utf8(Draft& d) {
  const std::string bad = one_of_str(
      {"\x80", "\xc0\xaf", "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xff", "\xc3", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf"});
  d.post = insert_at_fraction(bad, range(0, 1000));
  return "D1";
}

std::string mutate_control_char(Draft& d) {
  const std::string ctl(1, static_cast<char>(one_of<int>({0, 1, 8, 9, 10, 13, 27, 31, 127})));
  d.post = insert_at_fraction(ctl, range(0, 1000));
  return "";
}

std::string mutate_trailing_data(Draft& d) {
  const bool ws_only = chance(30);
  const std::string tail =
      ws_only ? one_of_str({" ", "\n", "\r\n", "\t \n"}) : one_of_str({"x", "0", "}", "\"", "[]", "\x7f", "\xc3\xa9"});
  d.post = [tail](std::string s) { return s + tail; };
  return ws_only ? d.intent : "D1";
}

std::string mutate_several_documents(Draft& d) {
  d.post = [sep = one_of_str({"", "\n", " "})](std::string s) {
    s = trim_right_ws(std::move(s));
    return s + sep + s;
  };
  return "D1";
}

std::string mutate_oversized(Draft& d) {
  const std::size_t pad = static_cast<std::size_t>(range(65 * 1024, 80 * 1024));
  if (chance(50)) {  // whitespace around the document: the verdict stays
    const bool front = chance(50);
    d.post = [pad, front](std::string s) {
      const std::string ws(pad, front ? ' ' : '\n');
      return front ? ws + s : s + ws;
    };
    return d.intent;
  }
  const std::string intent = d.doc.find("pad") == nullptr ? d.intent : "";
  d.doc.add("pad", J::str(std::string(pad, 'p')));
  return intent;
}

std::string mutate_byte_flip(Draft& d) {
  d.post = [at = range(0, 1000), bit = range(0, 7)](std::string s) {
    if (s.empty()) return s;
    const std::size_t pos = std::min(s.size() - 1, s.size() * static_cast<std::size_t>(at) / 1000);
    s[pos] = static_cast<char>(s[pos] ^ (1 << bit));
    return s;
  };
  return "";
}

std::string mutate_byte_delete(Draft& d) {
  d.post = [at = range(0, 1000)](std::string s) {
    if (s.empty()) return s;
    const std::size_t pos = std::min(s.size() - 1, s.size() * static_cast<std::size_t>(at) / 1000);
    return s.erase(pos, 1);
  };
  return "";
}

std::string mutate_byte_insert(Draft& d) {
  const int at = range(0, 1000);
  d.post = insert_at_fraction(std::string(1, static_cast<char>(range(0, 255))), at);
  return "";
}

struct Mutation {
  const char* kind;
  std::string (*apply)(Draft&);
};

// The order is part of the case stream: case_at(seed, index) must stay the same.
constexpr Mutation kMutations[] = {
    {"truncate", mutate_truncate},           {"duplicate_key", mutate_duplicate_key},
    {"swap_type", mutate_swap_type},         {"case_change", mutate_case_change},
    {"extra_field", mutate_extra_field},     {"missing_field", mutate_missing_field},
    {"deep_nesting", mutate_deep_nesting},   {"huge_number", mutate_huge_number},
    {"invalid_utf8", mutate_invalid_utf8},   {"control_char", mutate_control_char},
    {"trailing_data", mutate_trailing_data}, {"several_documents", mutate_several_documents},
    {"oversized", mutate_oversized},         {"byte_flip", mutate_byte_flip},
    {"byte_delete", mutate_byte_delete},     {"byte_insert", mutate_byte_insert},
};

Case mutate(Draft d) {
  const Mutation& m = kMutations[range(0, 15)];
  d.intent = m.apply(d);
  return finish(d, std::string("mutation:") + m.kind);
}

// `d` with the fault of `rule` applied: a case meant to break exactly that rule.
Case violating(Draft& d, const std::string& rule) {
  fault_for(rule)(d);
  d.intent = rule;
  return finish(d, "violation");
}

}  // namespace

// ---- public ------------------------------------------------------------------

std::string ipv4_text(const std::array<std::uint8_t, 16>& b) {
  return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." + std::to_string(b[3]);
}

std::string ipv6_text(const std::array<std::uint8_t, 16>& b, int compress_at, int compress_len, bool v4_tail,
                      bool upper, int width) {
  const char* hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::vector<std::string> tokens;
  const int hex_groups = v4_tail ? 6 : 8;
  for (int g = 0; g < hex_groups; ++g) {
    const unsigned v = (unsigned{b[2 * g]} << 8) | b[2 * g + 1];
    std::string t;
    for (int shift = 12; shift >= 0; shift -= 4) t += hex[(v >> shift) & 0xF];
    const std::size_t first = std::min(t.find_first_not_of('0'), std::size_t{3});
    t = t.substr(std::min(first, static_cast<std::size_t>(4 - std::clamp(width, 1, 4))));
    tokens.push_back(t);
  }
  if (v4_tail) {
    tokens.push_back(std::to_string(b[12]) + "." + std::to_string(b[13]) + "." + std::to_string(b[14]) + "." +
                     std::to_string(b[15]));
  }
  const auto join = [&](std::size_t from, std::size_t to) {
    std::string s;
    for (std::size_t i = from; i < to; ++i) {
      if (i > from) s += ':';
      s += tokens[i];
    }
    return s;
  };
  if (compress_len <= 0) return join(0, tokens.size());
  const auto at = static_cast<std::size_t>(compress_at);
  return join(0, at) + "::" + join(at + static_cast<std::size_t>(compress_len), tokens.size());
}

std::string json_quote(std::string_view s) {
  Style plain(0);
  std::string out;
  write_string(s, plain, out);
  return out;
}

rc::Gen<OracleRequest> gen_request() {
  return rc::gen::exec([] {
    switch (range(0, 3)) {
      case 0:
      case 1: return OracleRequest{"id", *gen_agent_id()};
      case 2: return OracleRequest{"ip", ipv4_text(gen_v4_bytes())};
      default: return OracleRequest{"ip", gen_v6_text(gen_v6_bytes())};
    }
  });
}

rc::Gen<std::string> gen_agent_id() {
  return rc::gen::exec([] {
    const int shape = range(0, 2);
    const std::size_t n = shape == 0 ? 3 : shape == 1 ? 8 : static_cast<std::size_t>(range(3, 8));
    return chars(n, kDigits);
  });
}

rc::Gen<std::string> gen_agent_name() {
  return rc::gen::exec([] {
    const int shape = range(0, 2);
    const std::size_t n = shape == 0 ? 1 : shape == 1 ? 128 : static_cast<std::size_t>(range(1, 128));
    const std::string pools[] = {kNameChars, kUpper, kLower, kDigits, kNamePunct};
    return chars(n, pools[range(0, 4)]);
  });
}

rc::Gen<std::string> gen_agent_key() {
  return rc::gen::exec([] {
    const int shape = range(0, 2);
    const std::size_t n = shape == 0 ? 1 : shape == 1 ? 128 : static_cast<std::size_t>(range(1, 128));
    if (n == 1) return chars(1, kPrintableNoSpace);
    const std::string pools[] = {kPrintable, kKeyEdge, kUpper + kDigits};
    const std::string& middle = pools[range(0, 2)];
    return chars(1, kPrintableNoSpace) + chars(n - 2, middle) + chars(1, kPrintableNoSpace);
  });
}

rc::Gen<std::string> gen_agent_ip() {
  return rc::gen::exec([]() -> std::string {
    switch (range(0, 2)) {
      case 0: return "any";
      case 1: return network_text(4, gen_v4_bytes(), gen_prefix(4), chance(50));
      default: return network_text(6, gen_v6_bytes(), gen_prefix(6), chance(50));
    }
  });
}

rc::Gen<std::string> gen_network_covering(const OracleRequest& r) {
  return rc::gen::exec([r]() -> std::string {
    const auto asked = parse_address(r.value);
    if (r.kind != "ip" || !asked) return "any";
    const int family = asked->family;
    const int max = family == 4 ? 32 : 128;
    switch (range(0, 3)) {
      case 0: return "any";
      case 1: return chance(50) ? r.value : address_text(family, asked->bytes);  // the address itself
      case 2: {  // a network holding it; host bits kept, cleared or random
        const int prefix = gen_prefix(family);
        Bytes16 b = asked->bytes;
        const int host = range(0, 2);
        for (int bit = prefix; bit < max; ++bit) {
          if (host == 1) set_bit(b, bit, false);
          if (host == 2 && chance(50)) set_bit(b, bit, !bit_of(b, bit));
        }
        return network_text(family, b, prefix, chance(50));
      }
      default:
        return family == 4 ? one_of_str({"0.0.0.0/0", "0.0.0.0/0.0.0.0", "255.255.255.255/0"})
                           : one_of_str({"::/0", "ffff::/0"});
    }
  });
}

rc::Gen<Case> gen_valid_case() {
  return rc::gen::exec([] {
    Draft d = valid_draft();
    return finish(d, "valid");
  });
}

rc::Gen<Case> gen_decline_case() {
  return rc::gen::exec([] {
    Draft d = decline_draft();
    return finish(d, "decline");
  });
}

const std::vector<std::string>& violation_rules() {
  static const std::vector<std::string> rules = {"D1", "D2", "E1", "S1", "S2", "S3", "S4", "S5", "C1", "C2"};
  return rules;
}

rc::Gen<Case> gen_violation_case(std::string rule) {
  return rc::gen::exec([rule] {
    Draft d = valid_draft();
    if (rule == "C1" && d.request.kind != "id") {
      d = valid_draft();
      d.request = OracleRequest{"id", *gen_agent_id()};
      set_field(d, "id", J::str(d.request.value));
    }
    if (rule == "C2" && d.request.kind != "ip") {
      d.request = OracleRequest{"ip", chance(50) ? ipv4_text(gen_v4_bytes()) : gen_v6_text(gen_v6_bytes())};
      set_field(d, "ip", J::str(*gen_network_covering(d.request)));
    }
    return violating(d, rule);
  });
}

rc::Gen<Case> gen_violation_case() {
  return rc::gen::exec([] {
    Draft d = valid_draft();
    return violating(d, one_of(rules_for(d.request)));
  });
}

rc::Gen<Case> gen_multi_violation_case() {
  return rc::gen::exec([] {
    Draft d = valid_draft();
    std::vector<std::string> rules = rules_for(d.request);
    if (!chance(15)) rules.erase(rules.begin());  // D1 faults hide everything: less often
    std::string a = one_of(rules);
    std::string b = one_of(rules);
    if (a == b) b = rules[(std::find(rules.begin(), rules.end(), a) - rules.begin() + 1) % rules.size()];
    if (rule_rank(a) > rule_rank(b)) std::swap(a, b);
    fault_for(b)(d);  // the later rule first: the earlier one's fault is applied last and must decide
    fault_for(a)(d);
    d.intent = a;
    return finish(d, "multi");
  });
}

rc::Gen<Case> gen_mutation_case() {
  return rc::gen::exec([] {
    Draft d = chance(80) ? valid_draft() : decline_draft();
    return mutate(std::move(d));
  });
}

rc::Gen<Case> gen_case() {
  return rc::gen::weightedOneOf<Case>({
      {30, gen_valid_case()},
      {8, gen_decline_case()},
      {32, gen_violation_case()},
      {10, gen_multi_violation_case()},
      {20, gen_mutation_case()},
  });
}

rc::Shrinkable<Case> case_at(std::uint64_t seed, std::uint64_t index) {
  // splitmix64 of (seed, index): a Random of its own for each case.
  std::uint64_t z = seed * 0x9e3779b97f4a7c15ull + index + 0x632be59bd9b4e019ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  static const rc::Gen<Case> generator = gen_case();
  return generator(rc::Random(z), rc::kNominalSize);
}

}  // namespace keyreq::conformance
