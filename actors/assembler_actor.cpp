#include "actors/assembler_actor.hpp"

#include <caf/all.hpp>

#include "messages/type_ids.hpp"
#include "runtime/event_interpreter.hpp"
#include "runtime/log.hpp"

namespace auditree {

namespace {

using self_pointer = caf::stateful_actor<assembler_state>*;

// Interprets closed events and sends the process events downstream.
void forward(self_pointer self, std::vector<audit_event>& closed) {
  auto& st = self->state;
  process_event_batch out;
  for (auto& ev : closed) {
    auto result = interpret(ev);
    if (result.error != nullptr) {
      ++st.num_malformed_events;
      log::warning("event ", ev.id.seconds, ".", ev.id.millis, ":",
                   ev.id.serial, ": ", result.error);
    }
    if (result.event)
      out.push_back(std::move(*result.event));
  }
  closed.clear();
  st.num_process_events += out.size();
  if (!out.empty() && st.downstream)
    self->send(st.downstream, std::move(out));
}

// Schedules one tick for the earliest open event's timeout.
void arm_tick(self_pointer self) {
  auto& st = self->state;
  if (st.tick_pending)
    return;
  if (auto deadline = st.assembler.next_deadline()) {
    st.tick_pending = true;
    auto delay = std::max(*deadline - self->clock().now(),
                          caf::actor_clock::duration_type{0});
    self->delayed_send(self, delay, tick_atom::value);
  }
}

assembler_stats collect(self_pointer self) {
  auto& st = self->state;
  auto result = st.assembler.stats();
  result.num_malformed_events = st.num_malformed_events;
  result.num_process_events = st.num_process_events;
  return result;
}

} // namespace

caf::behavior assembler_actor(self_pointer self, caf::actor downstream,
                              event_assembler::options opts) {
  self->state.assembler = event_assembler{opts};
  self->state.downstream = std::move(downstream);
  return {
    [=](record_batch& batch) {
      std::vector<audit_event> closed;
      auto now = self->clock().now();
      for (auto& record : batch)
        self->state.assembler.add(std::move(record), now, closed);
      forward(self, closed);
      arm_tick(self);
      return ack_atom::value;
    },
    [=](tick_atom) {
      self->state.tick_pending = false;
      std::vector<audit_event> closed;
      self->state.assembler.expire(self->clock().now(), closed);
      forward(self, closed);
      arm_tick(self);
    },
    [=](flush_atom) {
      std::vector<audit_event> closed;
      self->state.assembler.flush(closed);
      forward(self, closed);
      return collect(self);
    },
    [=](stats_atom) { return collect(self); },
  };
}

} // namespace auditree
