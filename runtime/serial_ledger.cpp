#include "runtime/serial_ledger.hpp"

namespace auditree {

namespace {

// Beyond this many events forward or backward, the counter restarted.
constexpr int64_t restart_distance = int64_t{1} << 24;

} // namespace

serial_ledger::serial_ledger(uint32_t stride, uint32_t window)
  : stride_(stride == 0 ? 1 : stride), seen_(window == 0 ? 1 : window, 0) {
}

uint8_t& serial_ledger::seen(uint64_t position) {
  return seen_[(head_ + position) % seen_.size()];
}

void serial_ledger::restart(uint32_t serial) {
  if (started_)
    ++num_resets_;
  started_ = true;
  std::fill(seen_.begin(), seen_.end(), 0);
  head_ = 0;
  filled_ = 0;
  base_ = serial;
}

void serial_ledger::slide(uint64_t positions) {
  for (uint64_t i = 0; i < positions; ++i) {
    auto& slot = seen(0);
    if (!slot)
      ++num_gaps_;
    slot = 0;
    head_ = (head_ + 1) % seen_.size();
    base_ += stride_;
  }
  filled_ = filled_ > positions ? filled_ - positions : 0;
}

void serial_ledger::observe(uint32_t serial) {
  if (!started_)
    restart(serial);
  // Signed 32-bit distance handles the wrap at 2^32.
  auto distance = static_cast<int64_t>(static_cast<int32_t>(serial - base_));
  if (distance % stride_ != 0)
    return; // Not of this ledger's class: not its business.
  auto position = distance / static_cast<int64_t>(stride_);
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
    base_ += stride_;
    --filled_;
  }
}

void serial_ledger::finish() {
  slide(filled_);
}

} // namespace auditree
