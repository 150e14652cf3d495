#pragma once

// Fault injection for tests of supervision: which actor fails, how, and
// after how much work. Pure; the actors count their work and ask.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace auditree {

/// One fault, written `ACTOR:ACTION:at=N` (once, when the actor's work
/// reaches N units) or `ACTOR:ACTION:every=N` (each time it passes a
/// multiple of N). ACTION is `throw` (the handler throws), `kill` (the
/// actor quits at once with reason kill) or `hang` (the handler blocks its
/// thread for `hang_duration`: a wedged actor, for the bounded stop). A unit is a record for sources
/// and assemblers (counted by position: records sent again after a
/// restart do not count twice) and an event for the tree and the sink.
struct fault_spec {
  enum action_t { raise, kill, hang };

  std::string actor;
  action_t action = raise;
  bool repeat = false;
  uint64_t units = 0;
};

/// How long a `hang` fault blocks: far longer than any stop may take.
constexpr auto hang_duration_seconds = 600;

/// Parses one fault; returns nullopt and sets `error` when malformed.
std::optional<fault_spec> parse_fault(std::string_view text,
                                      std::string& error);

/// The faults of one child, counting its work across restarts: copies
/// share the count, so a fault `at=N` fires once however often the child
/// is replaced. Default-constructed: no faults, nothing counted.
class fault_injector {
public:
  fault_injector() = default;
  explicit fault_injector(std::vector<fault_spec> specs);

  /// The child did `units` more work: returns the fault due now, if any.
  std::optional<fault_spec::action_t> step(uint64_t units);

  /// Like step(), for work numbered by position (record sequences): only
  /// progress past the furthest position any copy reached counts, so work
  /// done again after a restart does not bring the next fault closer.
  std::optional<fault_spec::action_t> advance_to(uint64_t position);

  /// How many faults fired so far.
  uint64_t num_fired() const;

private:
  struct shared {
    std::atomic<uint64_t> done{0};
    std::atomic<uint64_t> fired{0};
    std::atomic<uint64_t> furthest{0};
  };
  std::vector<fault_spec> specs_;
  std::shared_ptr<shared> counts_;
};

} // namespace auditree
