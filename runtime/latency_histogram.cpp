#include "runtime/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace auditree {

namespace {

constexpr int64_t coarse_factor = 100;

} // namespace

latency_histogram::latency_histogram(int64_t bucket_us, uint32_t num_buckets)
  : bucket_us_(std::max<int64_t>(bucket_us, 1)),
    buckets_(2 * size_t{std::max<uint32_t>(num_buckets, 1)}),
    num_fine_(std::max<uint32_t>(num_buckets, 1)) {
}

void latency_histogram::add(int64_t micros) {
  if (micros < 0) {
    ++num_negative_;
    micros = 0;
  }
  ++count_;
  max_ = std::max(max_, micros);
  auto fine = static_cast<uint64_t>(micros / bucket_us_);
  if (fine < num_fine_) {
    ++buckets_[fine];
    return;
  }
  // Coarse bucket k covers [k, k + 1) * bucket_us * coarse_factor; the
  // first ones overlap the fine range and stay empty.
  auto coarse = static_cast<uint64_t>(micros / (bucket_us_ * coarse_factor));
  if (coarse < num_fine_)
    ++buckets_[num_fine_ + coarse];
  // Past the last bucket only the maximum remembers it.
}

int64_t latency_histogram::percentile_us(double fraction) const {
  if (count_ == 0)
    return 0;
  // The rank of the sample asked for, 1-based: the smallest that covers
  // the fraction.
  auto rank = static_cast<uint64_t>(
    std::ceil(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen < rank)
      continue;
    auto upper = i < num_fine_
                   ? static_cast<int64_t>(i + 1) * bucket_us_
                   : static_cast<int64_t>(i - num_fine_ + 1) * bucket_us_
                       * coarse_factor;
    return std::min(upper, max_);
  }
  return max_;
}

} // namespace auditree
