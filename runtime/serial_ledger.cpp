#include "runtime/serial_ledger.hpp"

#include <algorithm>

namespace auditree {

namespace {

// Beyond this many events forward or backward, the counter restarted.
constexpr int64_t restart_distance = int64_t{1} << 24;

// The round index_of() starts in, so that serials before the first one seen
// still get an index.
constexpr uint64_t first_round = 1;

} // namespace

serial_ledger::serial_ledger(uint32_t stride, uint32_t window)
  : stride_(stride == 0 ? 1 : stride), window_(window == 0 ? 1 : window) {
}

uint8_t& serial_ledger::seen(uint64_t position) {
  return seen_[(head_ + position) % seen_.size()];
}

uint64_t serial_ledger::index_of(uint32_t serial) const {
  auto round = base_ / per_round_;
  auto base_serial = static_cast<uint32_t>(residue_
                                           + base_ % per_round_ * stride_);
  // Signed 32-bit distance handles the wrap at 2^32.
  auto unwrapped = static_cast<int64_t>(round << 32) + base_serial
                   + static_cast<int32_t>(serial - base_serial);
  return static_cast<uint64_t>(unwrapped >> 32) * per_round_
         + (serial - residue_) / stride_;
}

void serial_ledger::restart(uint32_t serial) {
  if (started_)
    ++num_resets_;
  started_ = true;
  std::fill(seen_.begin(), seen_.end(), 0);
  head_ = 0;
  filled_ = 0;
  base_ = first_round * per_round_ + (serial - residue_) / stride_;
}

void serial_ledger::slide(uint64_t positions) {
  // Past the window every position is unseen: count those at once.
  if (positions > seen_.size()) {
    auto beyond = positions - seen_.size();
    slide(seen_.size());
    num_gaps_ += beyond;
    base_ += beyond;
    return;
  }
  for (uint64_t i = 0; i < positions; ++i) {
    auto& slot = seen(0);
    if (!slot)
      ++num_gaps_;
    slot = 0;
    head_ = (head_ + 1) % seen_.size();
    ++base_;
  }
  filled_ = filled_ > positions ? filled_ - positions : 0;
}

void serial_ledger::observe(uint32_t serial) {
  if (!started_) {
    // Allocated at the first serial: a host never seen costs no window.
    seen_.resize(window_);
    residue_ = serial % stride_;
    per_round_ = (uint64_t{UINT32_MAX} - residue_) / stride_ + 1;
    restart(serial);
  }
  if (serial % stride_ != residue_)
    return; // Not of this ledger's class: not its business.
  auto position = static_cast<int64_t>(index_of(serial) - base_);
  if (position <= -restart_distance || position >= restart_distance) {
    restart(serial);
    position = 0;
  } else if (position < 0) {
    ++num_late_;
    return;
  }
  auto window = static_cast<int64_t>(seen_.size());
  if (position >= window) {
    slide(static_cast<uint64_t>(position - window + 1));
    position = window - 1;
  }
  auto& slot = seen(static_cast<uint64_t>(position));
  if (slot) {
    ++num_late_;
    return;
  }
  slot = 1;
  if (static_cast<uint64_t>(position) + 1 > filled_)
    filled_ = static_cast<uint64_t>(position) + 1;
  // Drop the decided prefix so the window reaches as far ahead as it can.
  while (filled_ > 0 && seen(0)) {
    seen(0) = 0;
    head_ = (head_ + 1) % seen_.size();
    ++base_;
    --filled_;
  }
}

void serial_ledger::finish() {
  slide(filled_);
}

} // namespace auditree
