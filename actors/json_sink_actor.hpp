#pragma once

#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/output_writer.hpp"
#include "runtime/fault_plan.hpp"

namespace auditree {

/// State of the JSON lines sink.
struct json_sink_state {
  static inline const char* name = "json_sink";

  output_writer writer;
  /// The highest sequence written, per kind: a tree resumed from a
  /// checkpoint sends again what came after it.
  uint64_t process_sequence = 0;
  uint64_t container_sequence = 0;
  uint64_t num_duplicates = 0;
  fault_injector faults;
  /// Keeps the sequences written for a replacement; may be empty.
  caf::actor supervisor;
};

/// Writes each process event as one ECS JSON line through an
/// `output_writer` (stdout or a file, appended to, rotated by size, with a
/// bounded queue that drops and counts when the consumer is too slow).
/// Events with a sequence at or below one already written are dropped as
/// duplicates.
/// Protocol:
/// - `process_event_batch`, `container_event_batch` -> `ack`: formats the
///   events and queues them; the tree forgets the batch. Then tells
///   `supervisor` how far it wrote (`written, process_sequence,
///   container_sequence`).
/// - `trim, process_sequence, container_sequence`: from the supervisor
///   when this sink replaces one: how far that one wrote.
/// - `flush` -> `uint64_t`: waits until everything queued is written;
///   replies with the number of lines written.
/// - `stats` -> `uint64_t written, uint64_t dropped`.
/// - `crash`: throws (fault injection).
/// - `mailbox` -> `uint64_t`: the messages waiting, for /metrics.
caf::behavior json_sink_actor(caf::stateful_actor<json_sink_state>* self,
                              output_writer::options opts,
                              fault_injector faults, caf::actor supervisor);

} // namespace auditree
