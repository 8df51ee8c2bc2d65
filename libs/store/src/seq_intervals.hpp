#pragma once
// The seqs a device has consumed above its watermark (readings that arrived ahead of a gap), kept
// as disjoint runs [first, last]. Readings normally arrive in order, so this is empty or holds one
// run per gap: advancing the watermark past 200 in-order readings costs no query and no per-seq
// work, and a long-lived gap costs one run, not one entry per reading behind it.

#include <cstddef>
#include <cstdint>
#include <map>

namespace kelvin::store {

class SeqIntervals {
 public:
  bool contains(std::uint64_t seq) const;
  // Adds `seq`, merging with adjacent runs.
  void insert(std::uint64_t seq);
  // Adds every seq in [first, last] (first <= last), merging with overlapping and adjacent runs;
  // returns how many of them were not held before.
  std::uint64_t insert_range(std::uint64_t first, std::uint64_t last);
  // The runs, ascending: first -> last.
  const std::map<std::uint64_t, std::uint64_t>& runs() const { return runs_; }
  // The watermark after consuming every run that continues contiguously from `watermark`; runs at
  // or below the result are dropped.
  std::uint64_t advance(std::uint64_t watermark);
  // How many seqs in [first, last] the runs hold.
  std::uint64_t count_between(std::uint64_t first, std::uint64_t last) const;
  // The highest seq held; 0 (not a seq) when empty.
  std::uint64_t highest() const { return runs_.empty() ? 0 : runs_.rbegin()->second; }
  bool empty() const { return runs_.empty(); }
  std::size_t run_count() const { return runs_.size(); }

 private:
  std::map<std::uint64_t, std::uint64_t> runs_;  // first -> last, disjoint and non-adjacent
};

}  // namespace kelvin::store
