#include "actors/json_sink_actor.hpp"

#include <cerrno>
#include <cstring>

#include <caf/all.hpp>

#include "messages/type_ids.hpp"
#include "runtime/ecs_json.hpp"
#include "runtime/log.hpp"

namespace auditree {

json_sink_state::~json_sink_state() {
  if (out != nullptr) {
    std::fflush(out);
    if (owns_out)
      std::fclose(out);
  }
}

caf::behavior json_sink_actor(caf::stateful_actor<json_sink_state>* self,
                              std::string path) {
  auto& st = self->state;
  if (path == "-") {
    st.out = stdout;
  } else {
    st.out = std::fopen(path.c_str(), "a");
    if (st.out == nullptr) {
      log::error("cannot open output ", path, ": ", std::strerror(errno));
      self->quit(caf::sec::cannot_open_file);
      return {};
    }
    st.owns_out = true;
  }
  return {
    [=](const process_event_batch& batch) {
      auto& st = self->state;
      st.buffer.clear();
      for (auto& ev : batch)
        append_ecs_json(st.buffer, ev);
      if (std::fwrite(st.buffer.data(), 1, st.buffer.size(), st.out)
          != st.buffer.size())
        log::error("writing events failed: ", std::strerror(errno));
      // Whole lines reach readers (tail -f, a collector) batch by batch.
      std::fflush(st.out);
      st.num_written += batch.size();
    },
    [=](flush_atom) {
      std::fflush(self->state.out);
      return self->state.num_written;
    },
    [=](stats_atom) { return self->state.num_written; },
  };
}

} // namespace auditree
