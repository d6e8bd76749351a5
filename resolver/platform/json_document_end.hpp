#pragma once
// The one JSON document-end scanner: where the first object or array of a
// stream ends, found without parsing (brackets balanced outside strings). A
// socket reader uses it to stop reading without waiting for EOF; whoever reads
// the bytes still validates them with a real parser.
#include <cstddef>
#include <optional>
#include <string_view>

namespace keyreq {

// Fed the bytes of one stream as they arrive; looks at each byte once.
class JsonDocumentEnd {
 public:
  // Feeds the next bytes. Once the first value (after leading whitespace) is
  // a complete object or array: the offset just past its last byte, counted
  // from the start of the stream. A value that is not an object or array
  // (a scalar, garbage) never completes here: only EOF ends it.
  std::optional<std::size_t> feed(std::string_view bytes);
  bool complete() const { return end_.has_value(); }

 private:
  std::size_t seen_ = 0;
  long depth_ = 0;
  bool started_ = false, in_string_ = false, escaped_ = false, gave_up_ = false;
  std::optional<std::size_t> end_;
};

// The offset just past the first complete object or array of `bytes`.
std::optional<std::size_t> json_document_end(std::string_view bytes);

// True once `bytes` holds one complete object or array (after leading whitespace).
inline bool json_document_complete(std::string_view bytes) { return json_document_end(bytes).has_value(); }

}  // namespace keyreq
