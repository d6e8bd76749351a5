#include "conformance/certify/redact.hpp"

#include <cctype>

namespace keyreq::certify {

std::string redact_keys(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && std::isxdigit(static_cast<unsigned char>(text[j]))) ++j;
    const std::size_t run = j - i;
    if (run >= kMinKeyHexDigits) {
      out.append(text.substr(i, 4));
      out += "...";
      out.append(text.substr(j - 4, 4));
      out += "(" + std::to_string(run) + " hex)";
    } else {
      out.append(text.substr(i, run));
    }
    if (j < text.size()) out += text[j];
    i = j + 1;
  }
  return out;
}

namespace {
void redact_in_place(std::string& s) { s = redact_keys(s); }
}  // namespace

Certificate redacted(Certificate cert) {
  redact_in_place(cert.provider);
  redact_in_place(cert.dataset);
  for (auto& p : cert.probes) {
    redact_in_place(p.title);
    redact_in_place(p.skip_reason);
    for (auto& n : p.notes) redact_in_place(n);
    for (auto& f : p.findings) redact_in_place(f.message);
    for (auto& ex : p.evidence) {
      for (auto& w : ex.argv) redact_in_place(w);
      for (auto& piece : ex.pieces) redact_in_place(piece);
      redact_in_place(ex.output);
      redact_in_place(ex.stderr_bytes);
      redact_in_place(ex.start_error);
      redact_in_place(ex.io_error);
    }
  }
  return cert;
}

}  // namespace keyreq::certify
