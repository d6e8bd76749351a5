#include "conformance/shrink.hpp"

#include <algorithm>

namespace keyreq::conformance {

std::string shrink_bytes(std::string bytes, const std::function<bool(std::string_view)>& still_fails,
                         std::size_t budget, ShrinkStats* stats) {
  ShrinkStats local;
  ShrinkStats& st = stats != nullptr ? *stats : local;
  const std::size_t limit = st.evaluations + budget;
  std::size_t chunks = 2;
  while (bytes.size() >= 1 && st.evaluations < limit) {
    chunks = std::min(chunks, bytes.size());
    const std::size_t chunk = (bytes.size() + chunks - 1) / chunks;
    bool reduced = false;
    for (std::size_t start = 0; start < bytes.size() && st.evaluations < limit; start += chunk) {
      std::string candidate = bytes.substr(0, start) + bytes.substr(std::min(bytes.size(), start + chunk));
      ++st.evaluations;
      if (still_fails(candidate)) {
        bytes = std::move(candidate);
        ++st.byte_steps;
        reduced = true;
        break;
      }
    }
    if (reduced) {
      chunks = std::max<std::size_t>(chunks - 1, 2);
      continue;
    }
    if (chunk == 1) break;  // every single byte is needed
    chunks = std::min(chunks * 2, bytes.size());
  }
  return bytes;
}

Case shrink_case(const rc::Shrinkable<Case>& start, const std::function<bool(const Case&)>& still_fails,
                 std::size_t budget, ShrinkStats* stats) {
  ShrinkStats local;
  ShrinkStats& st = stats != nullptr ? *stats : local;
  const std::size_t limit = st.evaluations + budget;

  // RapidCheck: take the first shrink that still fails, until none does.
  rc::Shrinkable<Case> current = start;
  bool progress = true;
  while (progress && st.evaluations < limit / 2) {
    progress = false;
    auto shrinks = current.shrinks();
    while (auto next = shrinks.next()) {
      if (st.evaluations >= limit / 2) break;
      ++st.evaluations;
      Case candidate;
      try {
        candidate = next->value();
      } catch (...) {  // a generation failure is no counterexample
        continue;
      }
      if (still_fails(candidate)) {
        current = std::move(*next);
        ++st.rc_steps;
        progress = true;
        break;
      }
    }
  }
  Case best = current.value();

  // Then the bytes, request kept.
  const OracleRequest request = best.request;
  const Case shape = best;
  best.output = shrink_bytes(
      best.output,
      [&](std::string_view bytes) {
        Case c = shape;
        c.output.assign(bytes.data(), bytes.size());
        return still_fails(c);
      },
      limit > st.evaluations ? limit - st.evaluations : 0, &st);
  return best;
}

}  // namespace keyreq::conformance
