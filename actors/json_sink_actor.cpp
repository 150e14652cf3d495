#include "actors/json_sink_actor.hpp"

#include <caf/all.hpp>

#include "messages/type_ids.hpp"
#include "runtime/ecs_json.hpp"
#include "runtime/log.hpp"

namespace auditree {

caf::behavior json_sink_actor(caf::stateful_actor<json_sink_state>* self,
                              output_writer::options opts) {
  if (auto err = self->state.writer.start(std::move(opts)); !err.empty()) {
    log::error(err);
    self->quit(caf::make_error(caf::sec::cannot_open_file, err));
    return {};
  }
  return {
    [=](const process_event_batch& batch) {
      auto text = self->state.writer.take_buffer();
      for (auto& ev : batch)
        append_ecs_json(text, ev);
      self->state.writer.write(std::move(text), batch.size());
    },
    [=](const container_event_batch& batch) {
      auto text = self->state.writer.take_buffer();
      for (auto& ev : batch)
        append_ecs_json(text, ev);
      self->state.writer.write(std::move(text), batch.size());
    },
    [=](flush_atom) {
      self->state.writer.flush();
      return self->state.writer.num_written();
    },
    [=](stats_atom) {
      return caf::make_message(self->state.writer.num_written(),
                               self->state.writer.num_dropped());
    },
  };
}

} // namespace auditree
