#pragma once

#include <string>

#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/output_writer.hpp"

namespace auditree {

/// State of the JSON lines sink.
struct json_sink_state {
  static inline const char* name = "json_sink";

  output_writer writer;
};

/// Writes each process event as one ECS JSON line through an
/// `output_writer` (stdout or a file, rotated by size, with a bounded queue
/// that drops and counts when the consumer is too slow).
/// Protocol:
/// - `process_event_batch`, `container_event_batch`: formats the events
///   and queues them.
/// - `flush` -> `uint64_t`: waits until everything queued is written;
///   replies with the number of lines written.
/// - `stats` -> `uint64_t written, uint64_t dropped`.
caf::behavior json_sink_actor(caf::stateful_actor<json_sink_state>* self,
                              output_writer::options opts);

} // namespace auditree
