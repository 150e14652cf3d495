#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace auditree {

/// The supervisor's clock: monotonic, so a wall-clock step never spends or
/// refunds a restart budget. The policy never reads it; callers pass `now`.
using restart_clock = std::chrono::steady_clock;

/// Limits of one-for-one supervision, the same for every child.
struct restart_options {
  /// Restarts a child may use within `window`; the next failure escalates.
  size_t max_restarts = 5;
  /// The sliding window of the budget, and the time a restarted child must
  /// run without failing before its backoff starts again from the initial
  /// delay.
  restart_clock::duration window = std::chrono::seconds{60};
  /// Delay before the first restart of a child; doubles with every
  /// consecutive restart so that a child failing at once on start does not
  /// spin.
  restart_clock::duration initial_backoff = std::chrono::milliseconds{100};
  /// The doubling stops here.
  restart_clock::duration max_backoff = std::chrono::seconds{10};
};

/// What the supervisor does about one failure.
struct restart_decision {
  /// True: spawn a replacement after `delay`. False: the budget is spent
  /// and the agent stops with a non-zero exit.
  bool restart = false;
  restart_clock::duration delay{};
  /// A log line naming the child and the counts, for either outcome.
  std::string reason;
};

/// Decides restarts for the supervisor: one-for-one, each child (a name
/// such as "assembler-0" or "tree") with its own budget and backoff.
///
/// Pure: no actors, no clock. The supervisor calls on_failure() when a child
/// goes down and respawns it `delay` later; tests drive time by hand.
class restart_policy {
public:
  explicit restart_policy(restart_options options = {});

  /// A child died at `now`: restart it after a backoff while it has budget
  /// left in the window, otherwise give up. Assumes the previous restart
  /// happened when it was due, which is when the child's healthy run begins.
  restart_decision on_failure(const std::string& child,
                              restart_clock::time_point now);

  /// Children whose next failure within the window would escalate, sorted
  /// by name; empty when all is well. For /healthz: one crash away from
  /// stopping the agent is worth reporting before it happens.
  std::vector<std::string> near_exhaustion(restart_clock::time_point now) const;

  /// Restarts granted so far per child that has ever failed, sorted by
  /// name; a counter for /metrics, so it never decreases.
  std::vector<std::pair<std::string, uint64_t>> restarts() const;

  const restart_options& options() const { return options_; }

private:
  struct child_state {
    /// Times of the restarts granted within the window, oldest first.
    std::deque<restart_clock::time_point> recent;
    /// Restarts since the child last ran healthy for a whole window; the
    /// exponent of the backoff.
    uint32_t consecutive = 0;
    /// When the last replacement was due to start.
    restart_clock::time_point restarted_at{};
    uint64_t num_restarts = 0;
  };

  /// Restarts of `state` still inside the window at `now`.
  size_t used(const child_state& state, restart_clock::time_point now) const;
  restart_clock::duration backoff(uint32_t consecutive) const;

  restart_options options_;
  /// Ordered so that restarts() and near_exhaustion() read the same on
  /// every call.
  std::map<std::string, child_state> children_;
};

/// The supervisor's name of assembler `index`: `assembler-INDEX`.
std::string assembler_name(size_t index);

/// The index in an assembler's name; SIZE_MAX for any other name.
size_t assembler_index(std::string_view name);

} // namespace auditree
