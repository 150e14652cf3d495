#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/audit_record.hpp"
#include "runtime/audit_parser.hpp"

namespace auditree {

/// Gathers the records of one read into one batch per assembler, by serial
/// so that every record of an event reaches the same one. Their texts are
/// copied out of the caller's buffer at once, and `take` puts them in one
/// immutable block that all the read's records share.
class record_batcher {
public:
  explicit record_batcher(size_t num_batches) : pending_(num_batches) {}

  /// Copies `record`'s node and text; `sequence` is its place in the arrival order.
  void add(const record_view& record, uint64_t sequence);

  /// One batch per assembler (some may be empty); the batcher starts anew.
  record_batches take();

private:
  struct pending_record {
    uint32_t type;
    event_id id;
    uint64_t sequence;
    size_t offset;
    size_t size;
    uint32_t node_size;
  };

  std::vector<std::vector<pending_record>> pending_;
  /// The texts added since the last `take`, one after the other.
  std::string text_;
};

} // namespace auditree
