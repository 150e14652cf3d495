#include "actors/assembler_actor.hpp"

#include <caf/all.hpp>

#include "actors/fault.hpp"
#include "messages/type_ids.hpp"
#include "runtime/event_interpreter.hpp"
#include "runtime/log.hpp"
#include "runtime/terminal_text.hpp"

namespace auditree {

namespace {

using self_pointer = caf::stateful_actor<assembler_state>*;

// The watermark goes along even without events: it lets the tree release
// what the other assemblers sent. An open event may still close at its
// last record's place, so it holds the watermark below that.
uint64_t current_watermark(const assembler_state& st) {
  auto lowest_open = st.assembler.lowest_open_sequence();
  return lowest_open == UINT64_MAX ? st.watermark
                                   : std::min(st.watermark, lowest_open - 1);
}

// Interprets closed events and sends the process events downstream.
void forward(self_pointer self, std::vector<audit_event>& closed) {
  auto& st = self->state;
  process_event_batch out;
  out.reserve(closed.size());
  // The oldest record behind an event sent: until a tree checkpoint covers
  // the event, the source keeps the records from there on.
  auto first = UINT64_MAX;
  for (auto& ev : closed) {
    auto result = interpret(ev);
    if (result.error != nullptr) {
      ++st.num_malformed_events;
      log::warning("event ", ev.id.seconds, ".", ev.id.millis, ":",
                   ev.id.serial, ": ", result.error);
    }
    if (!result.event) {
      if (result.error != nullptr)
        ++st.malformed_events[result.error];
      else
        ++st.skipped_events[result.skipped ? result.skipped
                                           : "no process event"];
    } else {
      // Every record of an event comes from one host (the assembler
      // groups by node and serial).
      result.event->host = std::string{ev.records.front().node()};
      out.push_back(std::move(*result.event));
      first = std::min(first, ev.records.front().sequence);
    }
  }
  closed.clear();
  st.num_process_events += out.size();
  auto watermark = current_watermark(st);
  if (out.empty()) {
    if (st.downstream.peer())
      self->send(st.downstream.peer(), std::move(out), watermark, st.index);
    return;
  }
  // Kept even while no tree is there (it is being replaced).
  auto last = out.back().sequence;
  st.downstream.send(self,
                     caf::make_message(std::move(out), watermark, st.index),
                     last, first);
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

// A flood of host names must not flood the log too.
void log_refused(assembler_state& st, std::string_view node,
                 size_t max_hosts) {
  auto n = ++st.num_hosts_refused;
  if ((n & (n - 1)) == 0)
    log::warning("record of host ", terminal_safe(node),
                 " refused: already ", max_hosts,
                 " hosts (max-hosts); ", n, " refused so far");
}

assembler_stats collect(const assembler_state& st) {
  auto result = st.assembler.stats();
  result.num_malformed_events = st.num_malformed_events;
  result.num_process_events = st.num_process_events;
  for (auto& [reason, n] : st.skipped_events)
    result.skipped_events[reason] += n;
  for (auto& [reason, n] : st.malformed_events)
    result.skipped_events[std::string{"malformed: "} + reason] += n;
  return result;
}

// The counters, after the ledger took them.
assembler_stats report(const assembler_state& st) {
  auto result = collect(st);
  if (st.ledger)
    st.ledger->report(st.index, result);
  return result;
}

} // namespace

assembler_state::~assembler_state() {
  if (ledger)
    ledger->retire(index, collect(*this));
}

caf::behavior assembler_actor(self_pointer self, caf::actor downstream,
                              event_assembler::options opts, uint32_t index,
                              fault_injector faults,
                              std::shared_ptr<counter_ledger> ledger) {
  log_exceptions(self);
  self->state.ledger = std::move(ledger);
  self->state.assembler = event_assembler{opts};
  self->state.downstream = reliable_link{std::move(downstream)};
  self->state.index = index;
  self->state.faults = std::move(faults);
  return {
    [=](record_batch& batch, uint64_t watermark) -> caf::message {
      auto& st = self->state;
      auto last = batch.empty() ? 0 : batch.back().sequence;
      if (inject_fault(self, st.faults.advance_to(last)))
        return caf::message{};
      std::vector<audit_event> closed;
      auto now = self->clock().now();
      for (auto& record : batch) {
        st.last_sequence = std::max(st.last_sequence, record.sequence);
        // Into the batch's block, which a refused record leaves alone.
        auto node = record.node();
        if (!st.assembler.add(std::move(record), now, closed))
          log_refused(st, node, opts.max_hosts);
      }
      st.watermark = std::max(st.watermark, watermark);
      forward(self, closed);
      arm_tick(self);
      // Records of open events, and of events sent but not checkpointed,
      // are needed again if this assembler is lost.
      auto retain_from = std::min({st.assembler.oldest_held_sequence(),
                                   st.downstream.oldest_input(),
                                   st.last_sequence + 1});
      return caf::make_message(ack_atom::value, st.index, retain_from);
    },
    [=](tick_atom) {
      self->state.tick_pending = false;
      std::vector<audit_event> closed;
      self->state.assembler.expire(self->clock().now(), closed);
      forward(self, closed);
      arm_tick(self);
    },
    [=](trim_atom, uint64_t sequence) {
      self->state.downstream.release_below(sequence + 1);
    },
    [=](rewire_atom, const std::string& name, const caf::actor& tree) {
      if (name != "tree")
        return;
      auto& st = self->state;
      st.downstream.rewire(self, tree);
      // The new tree starts without this input's watermark.
      self->send(tree, process_event_batch{}, current_watermark(st),
                 st.index);
    },
    [=](flush_atom) {
      std::vector<audit_event> closed;
      self->state.assembler.flush(closed);
      forward(self, closed);
      return report(self->state);
    },
    [=](stats_atom) { return report(self->state); },
    [=](crash_atom) { throw injected_fault{"assembler"}; },
    [=](mailbox_atom) { return uint64_t{self->mailbox().size()}; },
  };
}

} // namespace auditree
