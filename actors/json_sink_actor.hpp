#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/output_writer.hpp"
#include "runtime/counter_ledger.hpp"
#include "runtime/fault_plan.hpp"

namespace auditree {

/// The highest sequence written, per kind. It outlives a sink, so that its
/// replacement drops what it already wrote when a tree resumed from a
/// checkpoint sends again what came after it. One sink at a time uses it.
struct sink_progress {
  std::atomic<uint64_t> process_sequence{0};
  std::atomic<uint64_t> container_sequence{0};
};

/// State of the JSON lines sink.
struct json_sink_state {
  static inline const char* name = "json_sink";

  /// Writes what is queued, then hands the counters to the ledger,
  /// however the actor ends.
  ~json_sink_state();

  output_writer writer;
  std::shared_ptr<sink_progress> progress;
  uint64_t num_duplicates = 0;
  fault_injector faults;
  /// Where the sink's counters outlive it; may be null.
  std::shared_ptr<counter_ledger> ledger;
};

/// Writes each process event as one ECS JSON line through an
/// `output_writer` (stdout or a file, appended to, rotated by size, with a
/// bounded queue that drops and counts when the consumer is too slow).
/// Events with a sequence at or below one already written (`progress`) are
/// dropped as duplicates.
/// Protocol:
/// - `process_event_batch`, `container_event_batch` -> `ack`: formats the
///   events and queues them; the tree forgets the batch.
/// - `flush` -> `uint64_t`: waits until everything queued is written;
///   replies with the number of lines written.
/// - `stats` -> `uint64_t written, uint64_t dropped` (this sink's; the
///   ledger, when given, gets them too, and a last time as the sink ends).
/// - `crash`: throws (fault injection).
/// - `mailbox` -> `uint64_t`: the messages waiting, for /metrics.
caf::behavior json_sink_actor(caf::stateful_actor<json_sink_state>* self,
                              output_writer::options opts,
                              fault_injector faults,
                              std::shared_ptr<sink_progress> progress,
                              std::shared_ptr<counter_ledger> ledger);

} // namespace auditree
