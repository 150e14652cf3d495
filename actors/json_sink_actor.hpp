#pragma once

#include <cstdio>
#include <string>

#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>

namespace auditree {

/// State of the JSON lines sink.
struct json_sink_state {
  static inline const char* name = "json_sink";

  ~json_sink_state();

  std::FILE* out = nullptr;
  /// Whether `out` was opened here (and must be closed here).
  bool owns_out = false;
  std::string buffer;
  uint64_t num_written = 0;
};

/// Writes each process event as one ECS JSON line to `path` (`-` for
/// stdout; appends to a file).
/// Protocol:
/// - `process_event_batch`: formats and writes the events.
/// - `flush` -> `uint64_t`: flushes the output; replies with the number of
///   lines written so far.
/// - `stats` -> `uint64_t`: the number of lines written so far.
caf::behavior json_sink_actor(caf::stateful_actor<json_sink_state>* self,
                              std::string path);

} // namespace auditree
