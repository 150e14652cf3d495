#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include <caf/exit_reason.hpp>

#include "runtime/fault_plan.hpp"
#include "runtime/log.hpp"

namespace auditree {

/// What an actor throws when a fault is injected into it.
struct injected_fault : std::runtime_error {
  explicit injected_fault(const std::string& actor)
    : std::runtime_error("injected fault in " + actor) {
  }
};

/// Throws or quits at once (reason kill) when `due` says a fault fell
/// due. Returns true when the caller must drop the message.
template <class Self>
bool inject_fault(Self* self, std::optional<fault_spec::action_t> due) {
  if (!due)
    return false;
  std::string name = self->name();
  log::warning("fault injection: ", name,
               *due == fault_spec::raise ? " throws" : " is killed");
  if (*due == fault_spec::raise)
    throw injected_fault{name};
  self->quit(caf::exit_reason::kill);
  return true;
}

} // namespace auditree
