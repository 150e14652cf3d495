#pragma once

#include <map>
#include <memory>
#include <unordered_map>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/reliable_link.hpp"
#include "messages/pipeline_stats.hpp"
#include "runtime/counter_ledger.hpp"
#include "runtime/event_assembler.hpp"
#include "runtime/fault_plan.hpp"

namespace auditree {

/// State of an assembler: a thin shell over `event_assembler` that turns
/// closed events into process events and sends them downstream.
struct assembler_state {
  static inline const char* name = "assembler";

  /// Hands the counters to the ledger, however the actor ends.
  ~assembler_state();

  event_assembler assembler{{}};
  /// To the tree, which receives `process_event_batch` messages; the
  /// batches stay here until a tree checkpoint covers them (`trim`), so a
  /// new tree gets them again. May have no peer.
  reliable_link downstream;
  /// Which of the N assemblers this is, and the source's watermark.
  uint32_t index = 0;
  uint64_t watermark = 0;
  /// The highest record sequence received.
  uint64_t last_sequence = 0;
  /// Whether a `tick` for the next timeout is scheduled.
  bool tick_pending = false;
  uint64_t num_malformed_events = 0;
  uint64_t num_process_events = 0;
  /// Records refused for max-hosts: logged at 1, 2, 4, 8, ...
  uint64_t num_hosts_refused = 0;
  /// Events without a process event, by reason: the interpreter's
  /// literals, counted by address (no string built per event), and the
  /// malformed ones by their error.
  std::unordered_map<const char*, uint64_t> skipped_events;
  std::unordered_map<const char*, uint64_t> malformed_events;
  fault_injector faults;
  /// Where this assembler's counters outlive it; may be null.
  std::shared_ptr<counter_ledger> ledger;
};

/// Assembles the records of the serials routed to it (serial % stride).
/// Sends `process_event_batch, watermark, index` downstream after every
/// input, so the tree can merge the N assemblers back into arrival order;
/// the watermark is the source's, held below the place of any open event.
/// Protocol (see messages/type_ids.hpp):
/// - `record_batch, watermark` -> `ack, index, retain_from`: adds records;
///   the source may forget the records below `retain_from` (the oldest
///   record of an open event or of an event no tree checkpoint covers
///   yet) and send more.
/// - `tick` (self): closes events whose timeout passed.
/// - `trim, sequence`: the tree checkpointed everything up to `sequence`.
/// - `rewire, "tree", handle`: a new tree; it gets every batch kept.
/// - `flush` -> `assembler_stats`: the stream ended; closes every event.
/// - `stats` -> `assembler_stats`.
/// Its counters go to `ledger` (when given) with every `flush` and `stats`
/// and as it ends.
/// - `crash`: throws (fault injection).
/// - `mailbox` -> `uint64_t`: the messages waiting, for /metrics.
caf::behavior assembler_actor(caf::stateful_actor<assembler_state>* self,
                              caf::actor downstream,
                              event_assembler::options opts, uint32_t index,
                              fault_injector faults,
                              std::shared_ptr<counter_ledger> ledger);

} // namespace auditree
