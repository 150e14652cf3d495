#include "actors/agent_config.hpp"

#include <thread>

#include <caf/config_option_adder.hpp>

#include "messages/type_ids.hpp"

namespace auditree {

agent_config::agent_config() {
  opt_group{custom_options_, "auditree"}
    .add(assemblers, "assemblers",
         "assembler actors (0 = one per hardware thread)")
    .add(event_timeout, "event-timeout",
         "close an event without EOE this long after its first record")
    .add(output, "output", "JSON event stream: '-' (stdout) or a file")
    .add(log_level, "log-level", "error, warning, info or debug");
}

std::string agent_config::validate() const {
  if (assemblers > 256)
    return "auditree.assemblers=" + std::to_string(assemblers)
           + ": at most 256";
  if (event_timeout <= caf::timespan{0})
    return "auditree.event-timeout=" + std::to_string(event_timeout.count())
           + "ns: must be positive";
  if (log_level != "error" && log_level != "warning" && log_level != "info"
      && log_level != "debug")
    return "auditree.log-level=" + log_level
           + ": one of error, warning, info, debug";
  if (output.empty())
    return "auditree.output is empty: use '-' for stdout";
  return {};
}

size_t agent_config::num_assemblers() const {
  if (assemblers > 0)
    return assemblers;
  auto n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

} // namespace auditree
