#pragma once

// Runs actors under CAF's test_coordinator: deterministic scheduling and
// virtual time. Messages are delivered only by run(); timers fire only when
// a test calls advance(). (CAF's own test DSL crashes under Catch2.)

#include <chrono>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "messages/type_ids.hpp"

namespace auditree::test {

struct actor_fixture {
  static caf::actor_system_config& configure(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.set("logger.inline-output", true);
    cfg.set("middleman.network-backend", caf::atom("testing"));
    cfg.set("middleman.manual-multiplexing", true);
    cfg.set("middleman.workers", size_t{0});
    return cfg;
  }

  actor_fixture()
    : sys(configure(cfg)),
      self(sys, true),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
  }

  ~actor_fixture() {
    for (auto& x : spawned)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    run();
  }

  /// Delivers messages until every mailbox is empty; no timer fires.
  size_t run() {
    size_t n = 0;
    while (sched.try_run_once())
      ++n;
    return n;
  }

  /// Moves virtual time forward, fires due timers and delivers messages.
  void advance(caf::timespan t) {
    sched.advance_time(t);
    run();
  }

  /// Remembers an actor so the fixture stops it at the end.
  caf::actor keep(caf::actor x) {
    spawned.push_back(x);
    return x;
  }

  /// The next message in the test's own mailbox as T; fails if absent.
  template <class T>
  T receive_one() {
    T result{};
    bool got = false;
    self->receive([&](T& x) {
      result = std::move(x);
      got = true;
    },
                  caf::after(std::chrono::seconds(0)) >> [] {});
    if (!got)
      throw std::runtime_error("expected message not in mailbox");
    return result;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  caf::scheduler::test_coordinator& sched;
  std::vector<caf::actor> spawned;
};

/// Collects every process event sent to it.
struct collector_state {
  static inline const char* name = "collector";
  std::vector<process_event>* events = nullptr;
};

inline caf::behavior
collector(caf::stateful_actor<collector_state>* self,
          std::vector<process_event>* events) {
  self->state.events = events;
  return {
    [=](process_event_batch& batch) {
      for (auto& ev : batch)
        self->state.events->push_back(std::move(ev));
    },
    // From an assembler: its watermark and index ride along.
    [=](process_event_batch& batch, uint64_t, uint32_t) {
      for (auto& ev : batch)
        self->state.events->push_back(std::move(ev));
    },
  };
}

} // namespace auditree::test
