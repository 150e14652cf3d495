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
void write(self_pointer self, const Batch& batch, uint64_t& written) {
  auto& st = self->state;
  auto before = written;
  auto text = st.writer.take_buffer();
  size_t lines = 0;
  for (auto& ev : batch) {
    if (ev.sequence != 0 && ev.sequence <= before) {
      ++st.num_duplicates;
      continue;
    }
    written = std::max(written, ev.sequence);
    append_ecs_json(text, ev);
    ++lines;
  }
  if (lines > 0)
    st.writer.write(std::move(text), lines);
  if (st.supervisor)
    self->send(st.supervisor, written_atom::value, st.process_sequence,
               st.container_sequence);
}

} // namespace

caf::behavior json_sink_actor(self_pointer self, output_writer::options opts,
                              fault_injector faults, caf::actor supervisor) {
  log_exceptions(self);
  self->state.faults = std::move(faults);
  self->state.supervisor = std::move(supervisor);
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
      write(self, batch, st.process_sequence);
      return caf::make_message(ack_atom::value);
    },
    [=](const container_event_batch& batch) {
      write(self, batch, self->state.container_sequence);
      return ack_atom::value;
    },
    [=](trim_atom, uint64_t process_sequence, uint64_t container_sequence) {
      auto& st = self->state;
      st.process_sequence = std::max(st.process_sequence, process_sequence);
      st.container_sequence = std::max(st.container_sequence,
                                       container_sequence);
    },
    [=](flush_atom) {
      self->state.writer.flush();
      return self->state.writer.num_written();
    },
    [=](stats_atom) {
      return caf::make_message(self->state.writer.num_written(),
                               self->state.writer.num_dropped());
    },
    [=](crash_atom) { throw injected_fault{"json_sink"}; },
    [=](mailbox_atom) { return uint64_t{self->mailbox().size()}; },
  };
}

} // namespace auditree
