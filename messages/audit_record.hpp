#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace auditree {

/// The stamp `audit(SECONDS.MILLIS:SERIAL)` that all records of one event
/// share. The serial alone identifies an event until it wraps at 2^32; the
/// time disambiguates across wraps and reboots.
struct event_id {
  uint64_t seconds = 0;
  uint32_t millis = 0;
  uint32_t serial = 0;

  friend bool operator==(const event_id& x, const event_id& y) {
    return x.serial == y.serial && x.seconds == y.seconds
           && x.millis == y.millis;
  }
  friend bool operator!=(const event_id& x, const event_id& y) {
    return !(x == y);
  }
  friend bool operator<(const event_id& x, const event_id& y) {
    return std::tie(x.seconds, x.millis, x.serial)
           < std::tie(y.seconds, y.millis, y.serial);
  }
};

/// One audit record. `text` is an owned copy of everything after
/// `audit(...): `, never a view into a source's read buffer, which the next
/// read overwrites.
struct audit_record {
  /// Record type number from linux/audit.h (1300 = SYSCALL, 1320 = EOE, ...).
  uint32_t type = 0;
  event_id id;
  std::string text;
  /// Arrival order at the source (1, 2, ...): the N assemblers' outputs are
  /// merged back into this order, so the tree sees events as one assembler
  /// would have closed them.
  uint64_t sequence = 0;
};

/// Records travel from sources to assemblers in batches. With each batch
/// goes the source's watermark: the highest sequence it has sent to any
/// assembler so far.
using record_batch = std::vector<audit_record>;

/// One batch per assembler, from one read of the kernel socket.
using record_batches = std::vector<record_batch>;

} // namespace auditree
