#pragma once

// The process table's hard memory budget: argv cut to max-args-bytes, and
// at max-processes the ended lifetimes leave first, oldest first. A running
// lifetime (and so every ancestor of one) is never evicted: when only
// running ones remain, new execs are kept bare (no argv, no cwd) so the
// tree stays exact and the cost per process small. Pure: no CAF, time is a
// parameter.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "messages/pipeline_stats.hpp"
#include "messages/process_event.hpp"

namespace auditree {

/// The budget's limits; config keys max-processes and max-args-bytes take
/// their defaults from here.
struct memory_limits {
  /// Lifetimes one host's table holds between events.
  size_t max_processes = 262144;
  /// Bytes of one process's argv, its arguments joined with NUL bytes (as
  /// in /proc/PID/cmdline, without the last NUL).
  size_t max_args_bytes = 4096;
};

/// The assemblers keep an event's records until a tree checkpoint covers
/// it, every checkpoint-interval events: under a flood of long argv that
/// is hundreds of MB. A checkpoint also comes once the events since the
/// last one carried this many argv bytes (their records hold about that).
constexpr uint64_t checkpoint_argv_bytes = 32u << 20;

/// /healthz says degraded this long after the budget last evicted or kept
/// an exec bare.
constexpr std::chrono::seconds budget_health_window{60};

/// Bytes of `argv` joined with NUL bytes.
size_t joined_size(const std::vector<std::string>& argv);

/// Cuts `argv` to at most `max_bytes` joined: whole arguments while they
/// fit, then the first that does not, cut before a UTF-8 sequence so no
/// character is split, and none after it. Returns whether it cut.
bool cap_argv(std::vector<std::string>& argv, size_t max_bytes);

/// Caps an exec's argv and marks the event with what it had
/// (`args_original_bytes`, `args_original_count`). Returns whether it cut.
bool cap_event_args(process_event& ev, size_t max_bytes);

/// `argv` joined with NUL bytes and cut like cap_argv; `argc` is set to the
/// number of arguments kept.
std::string join_capped(const std::vector<std::string>& argv, size_t max_bytes,
                        uint32_t& argc);

/// Ended lifetimes in the order the table learnt their end: the eviction
/// order. Entries go stale (the lifetime was reaped or came back to life);
/// `evict` sorts them out.
template <class Key>
class ended_queue {
public:
  void push(const Key& key) { keys_.push_back(key); }

  /// While `held()` (the table's size) exceeds `max`, offers the oldest
  /// entry to `evict`, which removes its lifetime and returns true, or
  /// returns false for a stale entry or one that must stay. Returns the
  /// lifetimes removed.
  template <class Held, class Evict>
  uint64_t enforce(size_t max, Held held, Evict evict) {
    uint64_t removed = 0;
    while (held() > max && !keys_.empty()) {
      auto key = keys_.front();
      keys_.pop_front();
      if (evict(key))
        ++removed;
    }
    return removed;
  }

  /// Drops the entries `stale` names once they outnumber twice the table
  /// (`held`), so reaps done in time never grow the queue: amortised O(1).
  template <class Stale>
  void compact(size_t held, Stale stale) {
    if (keys_.size() <= 2 * held + 1024)
      return;
    std::deque<Key> kept;
    for (auto& key : keys_)
      if (!stale(key))
        kept.push_back(key);
    keys_.swap(kept);
  }

  size_t size() const { return keys_.size(); }

private:
  std::deque<Key> keys_;
};

/// Remembers when the budget last had to act, for /healthz: `observe` the
/// counters after each batch, ask `recent` when asked.
class budget_watch {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// `now` is when `stats` was read. Returns true when evictions and bare
  /// execs together passed a power of two (1, 2, 4, ...): time to log.
  bool observe(const budget_stats& stats, time_point now);

  /// Takes `stats` as already seen: a table resumed from a checkpoint did
  /// not act now.
  void baseline(const budget_stats& stats) {
    seen_ = stats.num_evicted + stats.num_bare;
  }

  /// Evictions or bare execs within `budget_health_window` before `now`.
  bool recent(time_point now) const;

private:
  uint64_t seen_ = 0;
  bool acted_ = false;
  time_point last_{};
};

/// The counters summed (host tables).
budget_stats& operator+=(budget_stats& x, const budget_stats& y);

} // namespace auditree
