#include "actors/json_sink_actor.hpp"

#include <caf/all.hpp>

#include "actors/fault.hpp"
#include "messages/type_ids.hpp"
#include "runtime/ecs_json.hpp"
#include "runtime/log.hpp"

namespace auditree {

namespace {

using self_pointer = caf::stateful_actor<json_sink_state>*;

// Writes the events of `batch` above `written`, the highest sequence
// written before this batch (events without a sequence always go).
template <class Batch>
void write(json_sink_state& st, const Batch& batch,
           std::atomic<uint64_t>& written) {
  auto before = written.load();
  auto highest = before;
  auto text = st.writer.take_buffer();
  size_t lines = 0;
  for (auto& ev : batch) {
    if (ev.sequence != 0 && ev.sequence <= before) {
      ++st.num_duplicates;
      continue;
    }
    highest = std::max(highest, ev.sequence);
    append_ecs_json(text, ev);
    ++lines;
  }
  if (lines > 0)
    st.writer.write(std::move(text), lines);
  written = highest;
}

sink_counters counters_of(const output_writer& writer) {
  return {writer.num_written(), writer.num_dropped()};
}

} // namespace

json_sink_state::~json_sink_state() {
  if (!ledger)
    return;
  // The writer writes what is queued before it stops: count those too.
  writer.flush();
  ledger->retire(counters_of(writer));
}

caf::behavior json_sink_actor(self_pointer self, output_writer::options opts,
                              fault_injector faults,
                              std::shared_ptr<sink_progress> progress,
                              std::shared_ptr<counter_ledger> ledger) {
  log_exceptions(self);
  self->state.ledger = std::move(ledger);
  self->state.faults = std::move(faults);
  self->state.progress = std::move(progress);
  if (auto err = self->state.writer.start(std::move(opts)); !err.empty()) {
    log::error(err);
    self->quit(caf::make_error(caf::sec::cannot_open_file, err));
    return {};
  }
  return {
    [=](const process_event_batch& batch) -> caf::message {
      auto& st = self->state;
      if (inject_fault(self, st.faults.step(batch.size())))
        return {};
      write(st, batch, st.progress->process_sequence);
      return caf::make_message(ack_atom::value);
    },
    [=](const container_event_batch& batch) {
      auto& st = self->state;
      write(st, batch, st.progress->container_sequence);
      return ack_atom::value;
    },
    [=](flush_atom) {
      auto& st = self->state;
      st.writer.flush();
      if (st.ledger)
        st.ledger->report(counters_of(st.writer));
      return st.writer.num_written();
    },
    [=](stats_atom) {
      auto& st = self->state;
      auto counters = counters_of(st.writer);
      if (st.ledger)
        st.ledger->report(counters);
      return caf::make_message(counters.lines_written,
                               counters.lines_dropped);
    },
    [=](crash_atom) { throw injected_fault{"json_sink"}; },
    [=](mailbox_atom) { return uint64_t{self->mailbox().size()}; },
  };
}

} // namespace auditree
