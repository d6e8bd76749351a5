#include "resolver/platform/json_document_end.hpp"

namespace keyreq {

std::optional<std::size_t> JsonDocumentEnd::feed(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size() && !end_ && !gave_up_; ++i) {
    const char c = bytes[i];
    if (in_string_) {
      if (escaped_)
        escaped_ = false;
      else if (c == '\\')
        escaped_ = true;
      else if (c == '"')
        in_string_ = false;
      continue;
    }
    if (!started_) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
      if (c != '{' && c != '[') {
        gave_up_ = true;
        break;
      }
      started_ = true;
    }
    if (c == '"')
      in_string_ = true;
    else if (c == '{' || c == '[')
      ++depth_;
    else if ((c == '}' || c == ']') && --depth_ == 0)
      end_ = seen_ + i + 1;
  }
  seen_ += bytes.size();
  return end_;
}

std::optional<std::size_t> json_document_end(std::string_view bytes) { return JsonDocumentEnd().feed(bytes); }

}  // namespace keyreq
