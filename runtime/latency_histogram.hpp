#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace auditree {

/// Latencies in fixed-width buckets, two tiers: fine buckets for the
/// usual case and 100 times wider ones for a backlog, so that a p99 of
/// seconds still reads as a number. Constant memory and a constant-time
/// `add`, so the tree can time every event it applies. Percentiles are the
/// upper bound of the bucket that holds them (never optimistic, never past
/// the maximum); past the last bucket the exact maximum stands in. Pure:
/// the caller measures.
class latency_histogram {
public:
  /// Fine buckets `bucket_us` wide covering [0, bucket_us * num_buckets),
  /// then as many coarse ones 100 times wider.
  explicit latency_histogram(int64_t bucket_us = 100,
                             uint32_t num_buckets = 1000);

  /// Adds one latency in microseconds. A negative one (the two clocks
  /// disagree) counts as 0 and is counted in `num_negative`.
  void add(int64_t micros);

  /// The latency below which a `fraction` (0..1] of the samples fall, in
  /// microseconds. 0 without samples.
  int64_t percentile_us(double fraction) const;

  uint64_t count() const { return count_; }
  int64_t max_us() const { return max_; }
  uint64_t num_negative() const { return num_negative_; }

private:
  int64_t bucket_us_;
  /// Fine buckets, then coarse ones.
  std::vector<uint64_t> buckets_;
  size_t num_fine_;
  uint64_t count_ = 0;
  uint64_t num_negative_ = 0;
  int64_t max_ = 0;
};

} // namespace auditree
