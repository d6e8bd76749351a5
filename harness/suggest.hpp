#pragma once
// "Did you mean": the closest known name to a mistyped one, for unknown
// subcommands (`keyreq bnech` -> bench).
#include <string>
#include <string_view>
#include <vector>

namespace keyreq::harness {

// Optimal string alignment distance: insertions, deletions, substitutions
// and swaps of two adjacent characters cost 1 each ("bnech" -> "bench": 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `typed`, "" when none is within
// max(2, typed.size() / 3) edits (no suggestion for a word unlike any).
std::string closest(std::string_view typed, const std::vector<std::string>& candidates);

}  // namespace keyreq::harness
