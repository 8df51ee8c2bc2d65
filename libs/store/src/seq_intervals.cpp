#include "seq_intervals.hpp"

#include <iterator>

namespace kelvin::store {

bool SeqIntervals::contains(std::uint64_t seq) const {
  auto after = runs_.upper_bound(seq);
  if (after == runs_.begin()) return false;
  return std::prev(after)->second >= seq;
}

void SeqIntervals::insert(std::uint64_t seq) {
  if (contains(seq)) return;
  auto after = runs_.upper_bound(seq);  // first run starting above seq
  std::uint64_t first = seq;
  std::uint64_t last = seq;
  if (after != runs_.begin()) {
    auto before = std::prev(after);
    if (before->second + 1 == seq) {  // extends the run below
      first = before->first;
      runs_.erase(before);
    }
  }
  if (after != runs_.end() && after->first == seq + 1) {  // joins the run above
    last = after->second;
    runs_.erase(after);
  }
  runs_[first] = last;
}

std::uint64_t SeqIntervals::insert_range(std::uint64_t first, std::uint64_t last) {
  const std::uint64_t added = (last - first + 1) - count_between(first, last);
  // Every run that overlaps [first, last] or touches it is absorbed into one run.
  auto it = runs_.upper_bound(first);
  if (it != runs_.begin()) {
    auto before = std::prev(it);
    if (before->second >= first || before->second + 1 == first) it = before;
  }
  std::uint64_t merged_first = first;
  std::uint64_t merged_last = last;
  while (it != runs_.end() && (it->first <= last || it->first == last + 1)) {
    if (it->first < merged_first) merged_first = it->first;
    if (it->second > merged_last) merged_last = it->second;
    it = runs_.erase(it);
  }
  runs_[merged_first] = merged_last;
  return added;
}

std::uint64_t SeqIntervals::advance(std::uint64_t watermark) {
  while (!runs_.empty()) {
    auto lowest = runs_.begin();
    if (lowest->first > watermark + 1) break;  // a gap remains
    if (lowest->second > watermark) watermark = lowest->second;
    runs_.erase(lowest);
  }
  return watermark;
}

std::uint64_t SeqIntervals::count_between(std::uint64_t first, std::uint64_t last) const {
  std::uint64_t count = 0;
  for (const auto& [run_first, run_last] : runs_) {
    if (run_first > last) break;
    std::uint64_t low = run_first > first ? run_first : first;
    std::uint64_t high = run_last < last ? run_last : last;
    if (low <= high) count += high - low + 1;
  }
  return count;
}

}  // namespace kelvin::store
