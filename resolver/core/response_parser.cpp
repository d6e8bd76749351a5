// Compiled once per SIMD kernel (resolver/core/CMakeLists.txt): simdjson
// On-Demand takes its kernel from the compile flags, so this file defines the
// kernel's factory, KEYREQ_PARSE_KERNEL_FACTORY; parse_kernel_dispatch.cpp picks one.
#include "resolver/core/response_parser.hpp"
#include "resolver/core/parse_kernel.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "resolver/core/field_rules.hpp"
#include "resolver/platform/escape.hpp"

namespace keyreq {
namespace od = simdjson::ondemand;

namespace {

constexpr std::size_t kMaxDepth = 64;                // docs/rules.md, D1
constexpr std::uint64_t kMaxErrorCode = 2147483647;  // E1: upstream keeps it in a C int

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 8259 number grammar, and a value that is a finite double.
bool is_finite_json_number(std::string_view token) {
  while (!token.empty() && is_json_space(token.back())) token.remove_suffix(1);
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < token.size() && is_digit(token[i])) ++i;
    return i > start;
  };
  if (i < token.size() && token[i] == '-') ++i;
  if (i < token.size() && token[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < token.size() && token[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    if (i < token.size() && (token[i] == '+' || token[i] == '-')) ++i;
    if (!digits()) return false;
  }
  if (i != token.size()) return false;
  const std::string text(token);
  return std::isfinite(std::strtod(text.c_str(), nullptr));
}

// What simdjson leaves to us: the nesting limit. (Its stage 1 already refuses
// unescaped control characters inside strings.) Counting every '{' and '[' is a
// branch-free loop the compiler vectorises; only a document with more than 64
// of them needs the precise scan that skips strings and tracks depth.
bool too_deep(std::string_view text) {
  // Byte-sized counters per block of 255 keep the vector loop narrow.
  std::size_t opens = 0;
  for (std::size_t start = 0; start < text.size(); start += 255) {
    const std::size_t end = std::min(text.size(), start + 255);
    unsigned char block = 0;
    for (std::size_t i = start; i < end; ++i) {
      block +=
          static_cast<unsigned char>(static_cast<unsigned>(text[i] == '{') | static_cast<unsigned>(text[i] == '['));
    }
    opens += block;
  }
  if (opens <= kMaxDepth) return false;
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped byte cannot close the string; simdjson validates the escape
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return true;
    } else if (c == '}' || c == ']') {
      if (depth > 0) --depth;
    }
  }
  return false;
}

// Everything we learn about the answer in one walk; rules are applied afterwards
// in the fixed order of docs/rules.md.
struct Findings {
  std::string d1;  // non-empty: the first D1 problem
  std::string d2;
  bool top_is_object = false;

  bool has_error = false;
  bool error_is_integer = false;
  std::uint64_t error_code = 0;
  std::string error_detail;

  bool has_message = false;
  std::string_view message;

  bool has_data = false;
  std::string s1;  // non-empty: why data breaks S1
  std::string_view id, name, ip, key;
  unsigned data_fields_seen = 0;  // Walker::kId | kName | kIp | kKey, each first seen as a string
};

std::string simdjson_problem(simdjson::error_code e) { return simdjson::error_message(e); }

// The text of a JSON string without escapes, read in place from the document
// (`quoted` points just past its opening quote); nullopt when it has an
// escape, which only simdjson's unescaping validates and decodes. Stage 1
// has checked that every string is closed (and is UTF-8), so the scan ends.
// Spares the copy into simdjson's string buffer for the common answer.
std::optional<std::string_view> text_without_escapes(const char* quoted) {
  const char* end = quoted;
  while (*end != '"') {
    if (*end == '\\') return std::nullopt;
    ++end;
  }
  return std::string_view(quoted, static_cast<std::size_t>(end - quoted));
}

// Duplicate keys within one object (D2). Objects here are tiny: a linear scan
// over a small inline array, a vector beyond that.
class KeySet {
 public:
  bool insert(std::string_view key) {
    for (std::size_t i = 0; i < inline_count_; ++i)
      if (size_[i] == key.size() && std::memcmp(data_[i], key.data(), key.size()) == 0) return false;
    if (!overflow_.empty() && std::find(overflow_.begin(), overflow_.end(), key) != overflow_.end()) return false;
    if (inline_count_ < kInline) {
      data_[inline_count_] = key.data();
      size_[inline_count_++] = key.size();
    } else {
      overflow_.push_back(key);
    }
    return true;
  }

 private:
  static constexpr std::size_t kInline = 8;
  // Left uninitialised on purpose: only the first inline_count_ entries are
  // ever read, and zeroing them for every object showed up in profiles.
  const char* data_[kInline];
  std::size_t size_[kInline];
  std::size_t inline_count_ = 0;
  std::vector<std::string_view> overflow_;
};

class Walker {
 public:
  explicit Walker(Findings& f) : f_(f) {}

  // Validates a value of any type completely (so D1 and D2 hold everywhere).
  bool walk(od::value v) {
    od::json_type type;
    if (auto e = v.type().get(type)) return fail(e);
    switch (type) {
      case od::json_type::object: {
        od::object obj;
        if (auto e = v.get_object().get(obj)) return fail(e);
        return walk_object(obj);
      }
      case od::json_type::array: {
        od::array arr;
        if (auto e = v.get_array().get(arr)) return fail(e);
        for (auto element : arr) {
          od::value child;
          if (auto e = std::move(element).get(child)) return fail(e);
          if (!walk(child)) return false;
        }
        return true;
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto e = v.get_string().get(s)) return fail(e);
        return true;
      }
      case od::json_type::number: {
        std::string_view token;
        return read_number(v, token);
      }
      case od::json_type::boolean: {
        bool b;
        if (auto e = v.get_bool().get(b)) return fail(e);
        return true;
      }
      case od::json_type::null: {
        bool is_null;
        if (auto e = v.is_null().get(is_null)) return fail(e);
        if (!is_null) return fail(simdjson::INCORRECT_TYPE);
        return true;
      }
    }
    return fail(simdjson::TAPE_ERROR);
  }

  // Calls on_field(key, known, first, value) for each field in order:
  // `known` is the key's bit from `known_bit` (0: a key the caller does not
  // look for), `first` false for a key seen before in this object (D2
  // noted). Known keys are told apart by their bits, so only other keys go
  // through the KeySet. Stops at the first false on_field returns or at
  // broken JSON.
  template <typename KnownBit, typename OnField>
  bool each_field(od::object obj, KnownBit&& known_bit, OnField&& on_field) {
    KeySet keys;
    unsigned seen = 0;
    for (auto field_result : obj) {
      od::field field;
      if (auto e = std::move(field_result).get(field)) return fail(e);
      std::string_view key;
      if (auto plain = text_without_escapes(field.key().raw())) {
        key = *plain;
      } else if (auto e = field.unescaped_key().get(key)) {
        return fail(e);
      }
      const unsigned known = known_bit(key);
      const bool first = known != 0 ? note_known(seen, known, key) : note_duplicate(keys, key);
      if (!on_field(key, known, first, field.value())) return false;
    }
    return true;
  }

  bool walk_object(od::object obj) {
    return each_field(
        obj, [](std::string_view) { return 0u; },
        [this](std::string_view, unsigned, bool, od::value value) { return walk(value); });
  }

  // The top-level object: collects error, message, data on the way.
  bool walk_top(od::object obj) {
    return each_field(obj, top_field_bit, [this](std::string_view, unsigned known, bool first, od::value value) {
      if (first && known == kError) return read_error(value);
      if (first && known == kMessage) return read_message(value);
      if (first && known == kData) return read_data(value);
      return walk(value);
    });
  }

 private:
  bool fail(simdjson::error_code e) {
    if (f_.d1.empty()) f_.d1 = "not valid JSON: " + simdjson_problem(e);
    return false;
  }

  // Validates a number anywhere in the document; `token` gets its text without
  // trailing whitespace. simdjson 3.0 refuses integers beyond 64 bits and some
  // extreme exponents that are valid JSON and a finite double (docs/rules.md).
  bool read_number(od::value v, std::string_view& token) {
    token = v.raw_json_token();
    while (!token.empty() && is_json_space(token.back())) token.remove_suffix(1);
    od::number n;
    if (auto e = v.get_number().get(n)) {
      if (!is_finite_json_number(token)) return fail(e);
    }
    return true;
  }

  bool note_duplicate(KeySet& keys, std::string_view key) {
    if (keys.insert(key)) return true;
    return note_twice(key);
  }
  bool note_known(unsigned& seen, unsigned bit, std::string_view key) {
    if ((seen & bit) == 0) {
      seen |= bit;
      return true;
    }
    return note_twice(key);
  }
  bool note_twice(std::string_view key) {
    if (f_.d2.empty()) f_.d2 = "key \"" + escape_bytes(key) + "\" appears twice in one object";
    return false;
  }

  // The keys walk_top and read_data look for, one bit each.
  static constexpr unsigned kError = 1, kMessage = 2, kData = 4;
  static unsigned top_field_bit(std::string_view key) {
    if (key == "error") return kError;
    if (key == "message") return kMessage;
    if (key == "data") return kData;
    return 0;
  }
  static constexpr unsigned kId = 1, kName = 2, kIp = 4, kKey = 8;
  static unsigned data_field_bit(std::string_view key) {
    if (key == "id") return kId;
    if (key == "name") return kName;
    if (key == "ip") return kIp;
    if (key == "key") return kKey;
    return 0;
  }

  // The type gate of a known field: nullopt when `v` is a `want`. Otherwise
  // `problem` (when given) says what came instead, and the value is still
  // walked so that D1 and D2 hold inside it: the walk's result is returned.
  std::optional<bool> unless_type(od::value v, od::json_type want, std::string* problem, std::string_view what) {
    od::json_type type;
    if (auto e = v.type().get(type)) return fail(e);
    if (type == want) return std::nullopt;
    if (problem != nullptr) *problem = std::string(what) + ", got a JSON " + type_name(type);
    return walk(v);
  }

  bool read_error(od::value v) {
    f_.has_error = true;
    if (auto done = unless_type(v, od::json_type::number, &f_.error_detail, "\"error\" must be an integer")) {
      return *done;
    }
    std::string_view token;
    if (!read_number(v, token)) return false;
    if (token.empty() || !std::all_of(token.begin(), token.end(), is_digit)) {
      f_.error_detail =
          "\"error\" must be a non-negative integer without fraction or exponent, got " + escape_bytes(token, 40);
      return true;
    }
    // At most 10 digits, so the value fits in 64 bits before the range check.
    std::uint64_t code = kMaxErrorCode + 1;
    if (token.size() <= 10) {
      code = 0;
      for (const char c : token) code = code * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (code > kMaxErrorCode) {
      f_.error_detail = "\"error\" is larger than 2147483647: " + escape_bytes(token, 40);
      return true;
    }
    f_.error_is_integer = true;
    f_.error_code = code;
    return true;
  }

  bool read_message(od::value v) {
    if (auto done = unless_type(v, od::json_type::string, nullptr, {})) return *done;
    if (auto e = v.get_string().get(f_.message)) return fail(e);
    f_.has_message = true;
    return true;
  }

  bool read_data(od::value v) {
    f_.has_data = true;
    if (auto done = unless_type(v, od::json_type::object, &f_.s1, "\"data\" must be an object")) return *done;
    od::object obj;
    if (auto e = v.get_object().get(obj)) return fail(e);
    const bool walked =
        each_field(obj, data_field_bit, [this](std::string_view key, unsigned known, bool first, od::value value) {
          if (known == 0) {
            if (f_.s1.empty()) f_.s1 = "unexpected field \"data." + escape_bytes(key, 40) + "\"";
            return walk(value);
          }
          od::json_type field_type;
          if (auto e = value.type().get(field_type)) return fail(e);
          if (field_type != od::json_type::string) {
            if (f_.s1.empty())
              f_.s1 = "\"data." + std::string(key) + "\" must be a string, got a JSON " + type_name(field_type);
            return walk(value);
          }
          std::string_view s;
          if (auto e = value.get_string().get(s)) return fail(e);
          if (first) {
            std::string_view* slots[] = {&f_.id, &f_.name, &f_.ip, &f_.key};  // bit 0 (kId) to bit 3 (kKey)
            *slots[std::countr_zero(known)] = s;
            f_.data_fields_seen |= known;
          }
          return true;
        });
    if (!walked) return false;
    if (f_.s1.empty() && f_.data_fields_seen != (kId | kName | kIp | kKey)) {
      f_.s1 = "\"data\" lacks";
      if (!(f_.data_fields_seen & kId)) f_.s1 += " \"id\"";
      if (!(f_.data_fields_seen & kName)) f_.s1 += " \"name\"";
      if (!(f_.data_fields_seen & kIp)) f_.s1 += " \"ip\"";
      if (!(f_.data_fields_seen & kKey)) f_.s1 += " \"key\"";
    }
    return true;
  }

  static std::string type_name(od::json_type t) {
    switch (t) {
      case od::json_type::array: return "array";
      case od::json_type::object: return "object";
      case od::json_type::number: return "number";
      case od::json_type::string: return "string";
      case od::json_type::boolean: return "boolean";
      case od::json_type::null: return "null";
    }
    return "value";
  }

  Findings& f_;
};

RuleViolation violation(const char* rule, std::string detail) { return RuleViolation{rule, std::move(detail)}; }

std::string quoted(std::string_view field, std::string_view value) {
  return "data." + std::string(field) + " = \"" + escape_bytes(value, 160) + "\"";
}

// D1 and D2 findings, then the rest in docs/rules.md order.
ResponseVerdict judge(const Findings& f, const Request& request) {
  if (!f.d1.empty()) return violation("D1", f.d1);
  if (!f.top_is_object) return violation("D2", "top-level JSON value is not an object");
  if (!f.d2.empty()) return violation("D2", f.d2);
  if (!f.has_error) return violation("E1", "\"error\" is missing");
  if (!f.error_is_integer) return violation("E1", f.error_detail);
  if (f.error_code != 0) {
    return ProviderDecline{static_cast<std::int64_t>(f.error_code),
                           f.has_message ? escape_bytes(f.message, 1024) : std::string()};
  }
  if (!f.has_data) return violation("S1", "\"error\" is 0 but \"data\" is missing");
  if (!f.s1.empty()) return violation("S1", f.s1);
  if (!rules::is_agent_id(f.id)) return violation("S2", quoted("id", f.id) + ": must be 3 to 8 digits");
  if (!rules::is_agent_name(f.name))
    return violation("S3", quoted("name", f.name) + ": must be 1 to 128 of A-Z a-z 0-9 - _ .");
  if (!rules::is_agent_ip(f.ip))
    return violation("S4", quoted("ip", f.ip) + ": must be any, or an address with optional prefix or netmask");
  if (!rules::is_agent_key(f.key))
    return violation("S5", quoted("key", f.key) + ": must be 1 to 128 printable ASCII, no edge spaces");
  if (request.kind == RequestKind::id && f.id != request.value)
    return violation("C1", quoted("id", f.id) + " answers request id:" + request.value);
  if (request.kind == RequestKind::ip && !rules::network_contains(f.ip, request.value))
    return violation("C2", quoted("ip", f.ip) + " does not cover request ip:" + request.value);
  // Built in the variant's storage (the conversion's prvalue initializes it
  // directly): an AgentRecord returned and then moved in costs four string
  // moves, about 110 instructions of the 3,300 a parse takes.
  struct Record {
    const Findings& f;
    operator AgentRecord() const {
      return AgentRecord{std::string(f.id), std::string(f.name), std::string(f.ip), std::string(f.key)};
    }
  };
  return ResponseVerdict(std::in_place_type<AgentRecord>, Record{f});
}

}  // namespace

namespace {

class SimdjsonKernel final : public ParseKernel {
 public:
  ResponseVerdict parse(std::string_view output, const Request& request) override;

 private:
  od::parser parser_;
  std::string padded_;  // the output copied with simdjson's padding behind it
};

// "[" output "]" must be an array of exactly one valid value with nothing after it.
ResponseVerdict judge_wrapped_scalar(od::parser& parser, std::string& padded, std::string_view output,
                                     const Request& request) {
  padded.assign("[");
  padded.append(output);
  padded.append("]");
  const std::size_t length = padded.size();
  padded.append(simdjson::SIMDJSON_PADDING, ' ');
  Findings findings;
  Walker walker(findings);
  od::document doc;
  od::array arr;
  if (auto e = parser.iterate(padded.data(), length, padded.size()).get(doc)) {
    return violation("D1", "not valid JSON: " + simdjson_problem(e));
  }
  if (auto e = doc.get_array().get(arr)) return violation("D1", "not valid JSON: " + simdjson_problem(e));
  std::size_t count = 0;
  for (auto element : arr) {
    od::value v;
    if (auto e = std::move(element).get(v)) return violation("D1", "not valid JSON: " + simdjson_problem(e));
    if (!walker.walk(v)) return violation("D1", findings.d1.empty() ? "not valid JSON" : findings.d1);
    ++count;
  }
  const char* rest = nullptr;
  if (count != 1 || doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
    return violation("D1", "trailing data after the JSON document");
  }
  findings.top_is_object = false;
  return judge(findings, request);
}

ResponseVerdict SimdjsonKernel::parse(std::string_view output, const Request& request) {
  if (too_deep(output)) return violation("D1", "nesting deeper than 64 levels");

  // The copy is needed (simdjson reads up to SIMDJSON_PADDING bytes past the
  // end); only the padding is written fresh, and the buffer keeps its capacity.
  auto& padded = padded_;
  padded.resize(output.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(padded.data(), output.data(), output.size());
  std::memset(padded.data() + output.size(), ' ', simdjson::SIMDJSON_PADDING);

  Findings findings;
  od::document doc;
  if (auto e = parser_.iterate(padded.data(), output.size(), padded.size()).get(doc)) {
    return violation("D1", "not valid JSON: " + simdjson_problem(e));
  }
  Walker walker(findings);
  od::json_type type;
  if (auto e = doc.type().get(type)) return violation("D1", "not valid JSON: " + simdjson_problem(e));

  bool walked = false;
  if (type == od::json_type::object) {
    findings.top_is_object = true;
    od::object obj;
    if (auto e = doc.get_object().get(obj)) return violation("D1", "not valid JSON: " + simdjson_problem(e));
    walked = walker.walk_top(obj);
  } else {
    od::value v;
    if (type == od::json_type::array) {
      od::array arr;
      if (auto e = doc.get_array().get(arr)) return violation("D1", "not valid JSON: " + simdjson_problem(e));
      walked = true;
      for (auto element : arr) {
        if (auto e = std::move(element).get(v)) {
          findings.d1 = "not valid JSON: " + simdjson_problem(e);
          walked = false;
          break;
        }
        if (!walker.walk(v)) {
          walked = false;
          break;
        }
      }
    } else {
      // A top-level scalar (D2 at best). simdjson's root-scalar getters judge
      // trailing bytes and big integers differently from docs/rules.md, so the
      // scalar is validated as the only element of an array instead.
      return judge_wrapped_scalar(parser_, padded_, output, request);
    }
  }
  // Past the end of the document, simdjson reports OUT_OF_BOUNDS for the location.
  const char* rest = nullptr;
  if (walked && doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
    findings.d1 = "trailing data after the JSON document";
  }
  if (!walked && findings.d1.empty()) findings.d1 = "not valid JSON";
  return judge(findings, request);
}

}  // namespace

std::unique_ptr<ParseKernel> KEYREQ_PARSE_KERNEL_FACTORY() { return std::make_unique<SimdjsonKernel>(); }

}  // namespace keyreq
