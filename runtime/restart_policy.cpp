#include "runtime/restart_policy.hpp"

#include <algorithm>

namespace auditree {

namespace {

// Durations for a log line: whole seconds read better than 60000ms.
std::string to_text(restart_clock::duration d) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(d).count();
  if (ms != 0 && ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

} // namespace

restart_policy::restart_policy(restart_options options)
    : options_(std::move(options)) {}

size_t restart_policy::used(const child_state& state,
                            restart_clock::time_point now) const {
  // A restart leaves the window once a whole window has passed since it.
  return static_cast<size_t>(
      std::count_if(state.recent.begin(), state.recent.end(),
                    [&](auto t) { return now - t < options_.window; }));
}

restart_clock::duration restart_policy::backoff(uint32_t consecutive) const {
  auto delay = options_.initial_backoff;
  // Doubling step by step against the cap cannot overflow, unlike a shift
  // by `consecutive`.
  for (uint32_t i = 0; i < consecutive && delay < options_.max_backoff; ++i)
    delay *= 2;
  return std::min(delay, options_.max_backoff);
}

restart_decision restart_policy::on_failure(const std::string& child,
                                            restart_clock::time_point now) {
  auto& state = children_[child];
  while (!state.recent.empty() && now - state.recent.front() >= options_.window)
    state.recent.pop_front();
  // A child that ran a whole window since its restart was not crash-looping:
  // this failure is news, not a repeat, and deserves a quick restart.
  if (state.consecutive > 0 && now - state.restarted_at >= options_.window)
    state.consecutive = 0;
  auto window = to_text(options_.window);
  auto budget = std::to_string(options_.max_restarts);
  if (state.recent.size() >= options_.max_restarts)
    return {false,
            {},
            child + " failed " + std::to_string(state.recent.size() + 1)
                + " times within " + window + ", more than its budget of "
                + budget + " restarts: giving up"};
  auto delay = backoff(state.consecutive);
  state.recent.push_back(now);
  ++state.consecutive;
  state.restarted_at = now + delay;
  ++state.num_restarts;
  return {true, delay,
          "restarting " + child + " in " + to_text(delay) + " (restart "
              + std::to_string(state.recent.size()) + " of " + budget
              + " within " + window + ")"};
}

std::vector<std::string>
restart_policy::near_exhaustion(restart_clock::time_point now) const {
  std::vector<std::string> result;
  // At least one restart used: a child that never restarted is not near,
  // even when the budget is 1 (and with a budget of 0 none ever is).
  auto threshold = std::max<size_t>(options_.max_restarts, 2) - 1;
  for (const auto& [name, state] : children_)
    if (used(state, now) >= threshold)
      result.push_back(name);
  return result;
}

std::vector<std::pair<std::string, uint64_t>> restart_policy::restarts() const {
  std::vector<std::pair<std::string, uint64_t>> result;
  result.reserve(children_.size());
  for (const auto& [name, state] : children_)
    result.emplace_back(name, state.num_restarts);
  return result;
}

std::string assembler_name(size_t index) {
  return "assembler-" + std::to_string(index);
}

size_t assembler_index(std::string_view name) {
  constexpr std::string_view prefix = "assembler-";
  if (name.substr(0, prefix.size()) != prefix || name.size() == prefix.size())
    return SIZE_MAX;
  size_t result = 0;
  for (auto c : name.substr(prefix.size())) {
    if (c < '0' || c > '9' || result > 1000000)
      return SIZE_MAX;
    result = result * 10 + static_cast<size_t>(c - '0');
  }
  return result;
}

} // namespace auditree
