#pragma once
// Shrinking a failing case to a minimal one: RapidCheck's shrink tree first
// (structure-aware: shorter fields, plainer choices, compact layout), then
// delta debugging over the output bytes with the request kept.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "conformance/generators.hpp"

namespace keyreq::conformance {

struct ShrinkStats {
  std::size_t evaluations = 0;  // predicate calls
  std::size_t rc_steps = 0;     // accepted RapidCheck shrinks
  std::size_t byte_steps = 0;   // accepted byte removals
};

// Smallest case found for which `still_fails` holds; `start` must fail.
// At most `budget` predicate calls.
Case shrink_case(const rc::Shrinkable<Case>& start, const std::function<bool(const Case&)>& still_fails,
                 std::size_t budget = 20000, ShrinkStats* stats = nullptr);

// Delta debugging (ddmin) over bytes: removes chunks while `still_fails` holds.
std::string shrink_bytes(std::string bytes, const std::function<bool(std::string_view)>& still_fails,
                         std::size_t budget, ShrinkStats* stats = nullptr);

}  // namespace keyreq::conformance
