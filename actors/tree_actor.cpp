#include "actors/tree_actor.hpp"

#include <caf/all.hpp>

#include "messages/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/tree_render.hpp"

namespace auditree {

namespace {

using self_pointer = caf::stateful_actor<tree_state>*;
using time_point = process_tree::time_point;

time_point stream_point(const event_id& id) {
  return time_point{} + std::chrono::milliseconds{stamp_ms(id)};
}

void schedule(self_pointer self, std::vector<reap_request>& reaps,
              time_point now) {
  auto& st = self->state;
  for (auto& r : reaps) {
    if (st.stream_time) {
      st.pending_reaps.emplace(r.due, r);
    } else {
      auto delay = std::max(r.due - now, time_point::duration{0});
      self->delayed_send(self, delay, reap_atom::value, r.key.pid,
                         r.key.first_seen, r.generation);
    }
  }
  reaps.clear();
}

// The stream reports what audit saw, plus the deaths only the connector
// sees (signals); its forks, execs and normal exits would repeat audit's.
// A /proc scan states what exists; it is no event at all.
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

// From the audit stamp (the syscall's entry, in milliseconds) to now on
// the wall clock, in microseconds.
int64_t latency_us(const event_id& id) {
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(
    std::chrono::system_clock::now().time_since_epoch());
  return now.count() - static_cast<int64_t>(stamp_ms(id)) * 1000;
}

void run_due_reaps(tree_state& st) {
  while (!st.pending_reaps.empty()
         && st.pending_reaps.begin()->first <= st.stream_now) {
    auto& r = st.pending_reaps.begin()->second;
    st.tree.reap(r.key, r.generation);
    st.pending_reaps.erase(st.pending_reaps.begin());
  }
}

// Tells downstream which containers started or stopped.
void announce_containers(self_pointer self) {
  auto& st = self->state;
  auto events = st.tree.take_container_events();
  if (st.downstream && !events.empty())
    self->send(st.downstream, std::move(events));
}

// Applies events in the order given and forwards them downstream.
void apply_batch(self_pointer self, process_event_batch& batch) {
  auto& st = self->state;
  std::vector<reap_request> reaps;
  for (auto& ev : batch) {
    if (st.stream_time)
      st.stream_now = std::max(st.stream_now, stream_point(ev.id));
    auto now = st.stream_time ? st.stream_now : self->clock().now();
    st.tree.apply(ev, now, reaps);
    if (!st.stream_time && ev.source == fact_source::audit)
      st.latency.add(latency_us(ev.id));
    schedule(self, reaps, now);
    if (auto container = st.tree.container_of(ev.pid))
      ev.container = *container;
  }
  if (st.stream_time)
    run_due_reaps(st);
  batch.erase(std::remove_if(batch.begin(), batch.end(),
                             [](const process_event& ev) {
                               return !belongs_in_stream(ev);
                             }),
              batch.end());
  if (st.downstream && !batch.empty())
    self->send(st.downstream, std::move(batch));
  announce_containers(self);
}

} // namespace

caf::behavior tree_actor(self_pointer self, tree_actor_options opts,
                         caf::actor downstream) {
  auto& st = self->state;
  st.tree = process_tree{opts.tree};
  st.downstream = std::move(downstream);
  st.stream_time = opts.stream_time;
  st.watermarks.assign(opts.num_inputs, 0);
  return {
    [=](process_event_batch& batch) { apply_batch(self, batch); },
    [=](process_event_batch& batch, uint64_t watermark, uint32_t input) {
      auto& st = self->state;
      if (input >= st.watermarks.size()) {
        apply_batch(self, batch);
        return;
      }
      st.watermarks[input] = std::max(st.watermarks[input], watermark);
      for (auto& ev : batch)
        st.held.emplace(ev.sequence, std::move(ev));
      // Events up to the lowest watermark can no longer be overtaken by
      // another assembler's: apply them in arrival order.
      auto low = *std::min_element(st.watermarks.begin(), st.watermarks.end());
      process_event_batch ready;
      auto end = st.held.upper_bound(low);
      ready.reserve(static_cast<size_t>(std::distance(st.held.begin(), end)));
      for (auto i = st.held.begin(); i != end; ++i)
        ready.push_back(std::move(i->second));
      st.held.erase(st.held.begin(), end);
      if (!ready.empty())
        apply_batch(self, ready);
    },
    [=](reconcile_atom, uint64_t scan_ms, const proc_snapshot& live) {
      auto& st = self->state;
      auto now = self->clock().now();
      std::vector<reap_request> reaps;
      auto at = event_id{scan_ms / 1000, static_cast<uint32_t>(scan_ms % 1000),
                         0};
      auto r = st.tree.reconcile(live, at, now, reaps);
      schedule(self, reaps, now);
      announce_containers(self);
      if (r.num_ended + r.num_added + r.num_parents_corrected > 0)
        log::info("reconciled with /proc: ", r.num_ended, " ended, ",
                  r.num_added, " added, ", r.num_parents_corrected,
                  " parents corrected");
    },
    [=](reap_atom, int32_t pid, const event_id& first_seen,
        uint64_t generation) {
      self->state.tree.reap(process_key{pid, first_seen}, generation);
    },
    [=](tree_atom, const std::string& container, bool json) {
      auto& tree = self->state.tree;
      auto procs = container.empty() ? tree.snapshot()
                                     : tree.container_tree(container);
      return json ? render_json(procs) : render_pstree(procs);
    },
    [=](ps_atom, const std::string& container, bool json) {
      auto& tree = self->state.tree;
      auto procs = container.empty() ? tree.snapshot()
                                     : tree.container_tree(container);
      return json ? render_json(procs) : render_ps(procs);
    },
    [=](process_atom, int32_t pid, bool json) {
      return render_process(self->state.tree.ancestry(pid), json);
    },
    [=](containers_atom, bool json) {
      return render_containers(self->state.tree.containers(), json);
    },
    [=](stats_atom) {
      auto& tree = self->state.tree;
      auto& s = tree.stats();
      tree_counters result;
      result.num_processes = tree.size();
      for (auto& c : tree.containers())
        result.num_containers += c.num_running > 0 ? 1 : 0;
      result.num_events = s.num_events;
      result.num_created = s.num_created;
      result.num_vanished = s.num_vanished;
      result.num_reaped = s.num_reaped;
      result.num_ignored = s.num_ignored;
      return result;
    },
    [=](flush_atom) { return uint64_t{self->state.tree.size()}; },
    [=](latency_atom) {
      auto& h = self->state.latency;
      return std::make_tuple(h.count(), h.percentile_us(0.5),
                             h.percentile_us(0.99), h.max_us());
    },
  };
}

} // namespace auditree
