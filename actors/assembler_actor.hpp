#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>

#include "messages/pipeline_stats.hpp"
#include "runtime/event_assembler.hpp"

namespace auditree {

/// State of an assembler: a thin shell over `event_assembler` that turns
/// closed events into process events and sends them downstream.
struct assembler_state {
  static inline const char* name = "assembler";

  event_assembler assembler{{}};
  /// Receives `process_event_batch` messages; may be empty.
  caf::actor downstream;
  /// Which of the N assemblers this is, and the source's watermark.
  uint32_t index = 0;
  uint64_t watermark = 0;
  /// Whether a `tick` for the next timeout is scheduled.
  bool tick_pending = false;
  uint64_t num_malformed_events = 0;
  uint64_t num_process_events = 0;
};

/// Assembles the records of the serials routed to it (serial % stride).
/// Sends `process_event_batch, watermark, index` downstream after every
/// input, so the tree can merge the N assemblers back into arrival order;
/// the watermark is the source's, held below the place of any open event.
/// Protocol (see messages/type_ids.hpp):
/// - `record_batch, watermark` -> `ack`: adds records; replies once they
///   are taken, so a source can bound what it has in flight.
/// - `tick` (self): closes events whose timeout passed.
/// - `flush` -> `assembler_stats`: the stream ended; closes every event.
/// - `stats` -> `assembler_stats`.
caf::behavior assembler_actor(caf::stateful_actor<assembler_state>* self,
                              caf::actor downstream,
                              event_assembler::options opts, uint32_t index);

} // namespace auditree
