#pragma once

#include <cstdint>
#include <vector>

namespace auditree {

/// Latencies in fixed-width buckets: constant memory and a constant-time
/// `add`, so the tree can time every event it applies. Percentiles are the
/// upper bound of the bucket that holds them (never optimistic); past the
/// last bucket the exact maximum stands in. Pure: the caller measures.
class latency_histogram {
public:
  /// `bucket_us` wide buckets covering [0, bucket_us * num_buckets).
  explicit latency_histogram(int64_t bucket_us = 100,
                             uint32_t num_buckets = 1000);

  /// Adds one latency in microseconds. A negative one (the two clocks
  /// disagree) counts as 0 and is counted in `num_negative`.
  void add(int64_t micros);

  /// The latency below which a `fraction` (0..1] of the samples fall, in
  /// microseconds: a bucket's upper bound, or `max_us` for the overflow.
  /// 0 without samples.
  int64_t percentile_us(double fraction) const;

  uint64_t count() const { return count_; }
  int64_t max_us() const { return max_; }
  uint64_t num_negative() const { return num_negative_; }

private:
  int64_t bucket_us_;
  std::vector<uint64_t> buckets_;
  /// Samples at or past the last bucket's end.
  uint64_t num_overflow_ = 0;
  uint64_t count_ = 0;
  uint64_t num_negative_ = 0;
  int64_t max_ = 0;
};

} // namespace auditree
