#pragma once

#include <optional>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <string>

#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>

#include "runtime/fault_plan.hpp"
#include "runtime/log.hpp"

namespace auditree {

/// What an actor throws when a fault is injected into it.
struct injected_fault : std::runtime_error {
  explicit injected_fault(const std::string& actor)
    : std::runtime_error("injected fault in " + actor) {
  }
};

/// An exception that escapes a handler ends the actor, and the supervisor
/// restarts it: logged in our format, its text the actor's exit reason.
inline void log_exceptions(caf::scheduled_actor* self) {
  self->set_exception_handler(
    [](caf::scheduled_actor* who, std::exception_ptr& x) -> caf::error {
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(x);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      log::error(who->name(), " failed: ", what);
      return caf::make_error(caf::sec::runtime_error, what);
    });
}

/// Throws, quits at once (reason kill) or blocks (hang) when `due` says a fault fell
/// due. Returns true when the caller must drop the message.
template <class Self>
bool inject_fault(Self* self, std::optional<fault_spec::action_t> due) {
  if (!due)
    return false;
  std::string name = self->name();
  log::warning("fault injection: ", name,
               *due == fault_spec::raise  ? " throws"
               : *due == fault_spec::kill ? " is killed"
                                          : " hangs");
  if (*due == fault_spec::raise)
    throw injected_fault{name};
  if (*due == fault_spec::hang) {
    // Blocks the worker thread, as a handler stuck in a system call would.
    std::this_thread::sleep_for(std::chrono::seconds(hang_duration_seconds));
    return true;
  }
  self->quit(caf::exit_reason::kill);
  return true;
}

} // namespace auditree
