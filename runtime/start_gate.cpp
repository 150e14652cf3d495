#include "runtime/start_gate.hpp"

#include "runtime/log.hpp"

namespace auditree {

namespace {

constexpr uint64_t clone_thread = 0x10000;

bool makes_thread(const process_event& ev) {
  return ev.clone_flags_known && (ev.clone_flags & clone_thread) != 0;
}

// Names the child the table placed: its host pid, its namespace pid when
// the caller reported that one, and its parent when not the caller.
void place(process_event& ev, const process_start& start) {
  if (start.vpid > 0 || ev.child != start.key.pid)
    ev.vpid = start.vpid > 0 ? start.vpid : ev.child;
  ev.child = start.key.pid;
  if (start.parent > 0 && start.parent != ev.pid)
    ev.fork_parent = start.parent;
}

} // namespace

bool belongs_in_stream(const process_event& ev) {
  switch (ev.source) {
  case fact_source::audit:
    return true;
  case fact_source::proc_connector:
    return ev.action == process_action::exit && ev.signal != 0;
  case fact_source::proc_scan:
    return false;
  }
  return false;
}

start_gate::start_gate() : start_gate(options{}) {}

start_gate::start_gate(options opts)
    // Waits are milliseconds to seconds: 1 ms buckets up to 1 s, then 100 ms.
    : opts_(opts), hold_latency_(1000, 1000) {}

void start_gate::pass(process_event&& ev,
                      const std::vector<process_start>& starts, time_point now,
                      process_event_batch& out) {
  const process_start* own = nullptr;
  for (auto& s : starts) {
    if (s.fork == ev.id && ev.action == process_action::fork
        && ev.source == fact_source::audit) {
      own = &s;
      continue;
    }
    auto i = held_.find(held_key{ev.host, s.fork});
    if (i == held_.end()) {
      ++stats_.num_too_late;
      continue;
    }
    release(i->second, s, now, ev.sequence, out);
    held_.erase(i);
  }
  if (!belongs_in_stream(ev))
    return;
  if (ev.action != process_action::fork || ev.source != fact_source::audit) {
    out.push_back(std::move(ev));
    return;
  }
  if (own != nullptr) {
    place(ev, *own);
    out.push_back(std::move(ev));
  } else if (makes_thread(ev)) {
    ++stats_.num_threads;
  } else {
    held_key id{ev.host, ev.id};
    if (held_.try_emplace(id, held_fork{std::move(ev), now}).second) {
      ++stats_.num_held;
      order_.emplace_back(now, id);
    }
  }
}

void start_gate::release(held_fork& held, const process_start& start,
                         time_point now, uint64_t sequence,
                         process_event_batch& out) {
  auto waited =
      std::chrono::duration_cast<std::chrono::microseconds>(now - held.since);
  hold_latency_.add(waited.count());
  ++stats_.num_confirmed;
  auto& ev = held.event;
  place(ev, start);
  ev.sequence = sequence;
  out.push_back(std::move(ev));
}

void start_gate::resolve(const process_event& ev) {
  if (ev.clone_flags_known) {
    ++stats_.num_unresolved;
    log::debug("fork ", ev.id.seconds, ".", ev.id.millis, ":", ev.id.serial,
               " by ", ev.pid, " (exit=", ev.child,
               ") placed by nothing: not reported");
  } else {
    ++stats_.num_threads;
  }
}

void start_gate::expire(time_point now) {
  while (!order_.empty()) {
    auto [since, id] = order_.front();
    bool late = now - since >= opts_.hold;
    bool over = held_.size() > opts_.max_held;
    if (!late && !over)
      break;
    order_.pop_front();
    auto i = held_.find(id);
    // An entry of a fork released since: the key may be held again, later.
    if (i == held_.end() || i->second.since != since)
      continue;
    if (late)
      resolve(i->second.event);
    else
      ++stats_.num_evicted;
    held_.erase(i);
  }
}

} // namespace auditree
