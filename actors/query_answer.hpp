#pragma once

// The query API's answers (tree, ps, containers, metrics, stats, health,
// crash), asked of the pipeline's actors on the query server's thread.

#include <chrono>
#include <mutex>

#include <caf/fwd.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/timespan.hpp>

#include "actors/pipeline.hpp"
#include "actors/query_server.hpp"
#include "runtime/counter_ledger.hpp"
#include "runtime/metrics.hpp"
#include "runtime/query_route.hpp"

namespace auditree {

/// How long one question to an actor may wait.
constexpr auto query_timeout = std::chrono::seconds(2);

/// The rates `auditree stats` shows, sampled by the agent's main loop.
struct rate_board {
  std::mutex mutex;
  decltype(agent_metrics::rates) rates;
};

/// A request timeout that ends by `deadline`, and never beyond
/// query_timeout (at least 1 ms: CAF takes no zero timeout).
caf::timespan wait_until(std::chrono::steady_clock::time_point deadline);

/// Every actor's counters over the agent's life (asked of the actors, read
/// from `ledger`, so that none goes down when an actor is replaced) and
/// mailbox sizes; an actor that does not answer by `deadline` adds its
/// last report.
agent_metrics gather(caf::scoped_actor& self, const pipeline& h,
                     bool from_stdin, const counter_ledger& ledger,
                     std::chrono::steady_clock::time_point deadline
                     = std::chrono::steady_clock::time_point::max());

/// Answers one request of the query API.
/// `api`: the query server's own counters, for /metrics and stats.
query_reply answer(caf::actor_system& sys, const caf::actor& supervisor,
                   bool from_stdin, const counter_ledger& ledger,
                   rate_board& board, const query_api_stats& api,
                   query_route route);

} // namespace auditree
