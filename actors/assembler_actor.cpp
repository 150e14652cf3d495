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
  out.reserve(closed.size());
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
  // The watermark goes along even without events: it lets the tree release
  // what the other assemblers sent. An open event may still close at its
  // last record's place, so it holds the watermark below that.
  auto lowest_open = st.assembler.lowest_open_sequence();
  auto watermark = lowest_open == UINT64_MAX
                     ? st.watermark
                     : std::min(st.watermark, lowest_open - 1);
  if (st.downstream)
    self->send(st.downstream, std::move(out), watermark, st.index);
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
                              event_assembler::options opts, uint32_t index) {
  self->state.assembler = event_assembler{opts};
  self->state.downstream = std::move(downstream);
  self->state.index = index;
  return {
    [=](record_batch& batch, uint64_t watermark) {
      auto& st = self->state;
      std::vector<audit_event> closed;
      auto now = self->clock().now();
      for (auto& record : batch)
        st.assembler.add(std::move(record), now, closed);
      st.watermark = std::max(st.watermark, watermark);
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
