#pragma once
// FieldIndex: a compact open-addressing hash index from a field value of a
// client.keys line (id, name or ip identity) to the line's position.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string_view>
#include <vector>

namespace keyreq::keystore_internal {

inline std::uint32_t hash_of(std::string_view s) {
  const std::size_t h = std::hash<std::string_view>{}(s);
  return static_cast<std::uint32_t>(h ^ (static_cast<std::uint64_t>(h) >> 32));
}

inline constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// Hash index from a field value to a line position. The key text is not
// stored: it is read back from the line (key_of), so an index costs 8 bytes
// a slot. Linear probing, backward-shift deletion, load factor ≤ 0.7.
class FieldIndex {
 public:
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

  void reset(std::size_t expected) {
    std::size_t cap = 16;
    while (cap * 7 < (expected + 1) * 10) cap *= 2;
    slots_.assign(cap, Slot{});
    size_ = 0;
  }

  template <class KeyOf>
  std::size_t find(std::string_view key, std::uint32_t h, const KeyOf& key_of) const {
    if (slots_.empty()) return npos;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.pos == kNone) return npos;
      if (s.hash == h && key_of(s.pos) == key) return i;
    }
  }

  std::uint32_t at(std::size_t slot) const { return slots_[slot].pos; }
  void set(std::size_t slot, std::uint32_t pos) { slots_[slot].pos = pos; }

  // The key must be absent.
  void insert(std::uint32_t pos, std::uint32_t h) {
    if (slots_.empty() || (size_ + 1) * 10 > slots_.size() * 7) grow();
    place(Slot{pos, h});
    ++size_;
  }

  void erase(std::size_t slot) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t hole = slot;
    for (std::size_t j = (hole + 1) & mask; slots_[j].pos != kNone; j = (j + 1) & mask) {
      const std::size_t home = slots_[j].hash & mask;
      // Slot j may move into the hole unless its home lies cyclically in (hole, j].
      const bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (stays) continue;
      slots_[hole] = slots_[j];
      hole = j;
    }
    slots_[hole] = Slot{};
    --size_;
  }

 private:
  struct Slot {
    std::uint32_t pos = kNone;
    std::uint32_t hash = 0;
  };

  void place(Slot s) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = s.hash & mask;
    while (slots_[i].pos != kNone) i = (i + 1) & mask;
    slots_[i] = s;
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    for (const Slot& s : old)
      if (s.pos != kNone) place(s);
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace keyreq::keystore_internal
