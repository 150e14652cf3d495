#pragma once

#include <cstdint>
#include <vector>

namespace auditree {

/// Counts missing audit serials: the kernel numbers every event it emits, so
/// a serial that never shows up is a lost event (rate limit, multicast
/// overflow). Events arrive out of order, so a serial counts as missing
/// only once it falls out of a reorder window. Serials wrap at 2^32.
///
/// A ledger may watch one residue class (serial % stride == k) so that each
/// of N assemblers counts the gaps among the serials routed to it.
class serial_ledger {
public:
  explicit serial_ledger(uint32_t stride = 1, uint32_t window = 4096);

  /// Notes that an event with this serial began.
  void observe(uint32_t serial);

  /// The stream ended: every unseen serial below the highest one seen is
  /// missing.
  void finish();

  /// Serials that fell out of the window unseen.
  uint64_t num_gaps() const { return num_gaps_; }
  /// Serials seen again, or after the window had passed them: records that
  /// arrived after their event was closed.
  uint64_t num_late() const { return num_late_; }
  /// Jumps so large that the counter must have restarted (a reboot, or an
  /// input that mixes two machines); counting starts afresh.
  uint64_t num_resets() const { return num_resets_; }

private:
  void restart(uint32_t serial);
  void slide(uint64_t positions);
  uint8_t& seen(uint64_t position);
  /// Numbers the serials of the class 0, 1, 2, ... across wraps: the
  /// serial is taken as the one nearest to the base.
  uint64_t index_of(uint32_t serial) const;

  uint32_t stride_;
  uint32_t window_;
  bool started_ = false;
  /// The class: serial % stride_, fixed by the first serial seen.
  uint32_t residue_ = 0;
  /// Serials of the class in one round of 2^32; unless the stride divides
  /// 2^32, the class does not go on at the old serial + stride after a wrap.
  uint64_t per_round_ = 0;
  /// The index of the lowest serial of the class whose fate is undecided.
  uint64_t base_ = 0;
  /// Ring buffer: seen(i) tells whether the serial of index base_ + i was
  /// seen.
  std::vector<uint8_t> seen_;
  uint64_t head_ = 0;
  /// One past the highest position seen.
  uint64_t filled_ = 0;
  uint64_t num_gaps_ = 0;
  uint64_t num_late_ = 0;
  uint64_t num_resets_ = 0;
};

} // namespace auditree
