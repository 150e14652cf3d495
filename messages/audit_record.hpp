#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
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

/// One audit record. Its text (everything after `audit(...): `) is an owned
/// copy, never a view into a source's read buffer, which the next read
/// overwrites. The records of one read share one immutable block of text:
/// copying a record (CAF copies a message whose sender keeps it for
/// redelivery) copies a reference, not the text.
class audit_record {
public:
  /// Record type number from linux/audit.h (1300 = SYSCALL, 1320 = EOE, ...).
  uint32_t type = 0;
  event_id id;
  /// Arrival order at the source (1, 2, ...): the N assemblers' outputs are
  /// merged back into this order, so the tree sees events as one assembler
  /// would have closed them.
  uint64_t sequence = 0;

  audit_record() = default;

  /// A record with a block of its own for a copy of `node` and `text`.
  audit_record(uint32_t type, event_id id, std::string_view text,
               uint64_t sequence = 0, std::string_view node = {})
    : type(type), id(id), sequence(sequence),
      block_(std::make_shared<const std::string>(std::string{node}
                                                 .append(text))),
      offset_(node.size()), size_(text.size()),
      node_size_(static_cast<uint32_t>(node.size())) {}

  /// A record whose text is `size` bytes at `offset` in `block`, right
  /// after its node's `node_size` bytes.
  audit_record(uint32_t type, event_id id, uint64_t sequence,
               std::shared_ptr<const std::string> block, size_t offset,
               size_t size, uint32_t node_size = 0)
    : type(type), id(id), sequence(sequence), block_(std::move(block)),
      offset_(offset), size_(size), node_size_(node_size) {}

  std::string_view text() const {
    if (!block_)
      return {};
    return std::string_view{*block_}.substr(offset_, size_);
  }

  /// The host that wrote the record (its `node=` prefix); empty for the
  /// local host.
  std::string_view node() const {
    if (!block_ || node_size_ == 0)
      return {};
    return std::string_view{*block_}.substr(offset_ - node_size_, node_size_);
  }

private:
  std::shared_ptr<const std::string> block_;
  size_t offset_ = 0;
  size_t size_ = 0;
  uint32_t node_size_ = 0;
};

/// Records travel from sources to assemblers in batches. With each batch
/// goes the source's watermark: the highest sequence it has sent to any
/// assembler so far.
using record_batch = std::vector<audit_record>;

/// One batch per assembler, from one read of the kernel socket.
using record_batches = std::vector<record_batch>;

} // namespace auditree
