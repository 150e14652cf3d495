#include "actors/tree_actor.hpp"

#include <caf/all.hpp>

#include "actors/fault.hpp"
#include "messages/type_ids.hpp"
#include "runtime/entity_id.hpp"
#include "runtime/event_lineage.hpp"
#include "runtime/log.hpp"
#include "runtime/tree_render.hpp"

namespace auditree {

namespace {

using self_pointer = caf::stateful_actor<tree_state>*;
using time_point = process_tree::time_point;

time_point stream_point(const event_id& id) {
  return time_point{} + std::chrono::milliseconds{stamp_ms(id)};
}

time_point now_of(self_pointer self) {
  auto& st = self->state;
  return st.stream_time ? st.stream_now : self->clock().now();
}

// Live: one timer, for the earliest reap (all are due `exit_grace` after
// they were asked for, so later ones never come earlier).
void arm_reap_timer(self_pointer self) {
  auto& st = self->state;
  if (st.stream_time || st.reap_timer || st.reaps.empty())
    return;
  st.reap_timer = true;
  auto delay = std::max(st.reaps.begin()->first - self->clock().now(),
                        time_point::duration{0});
  self->delayed_send(self, delay + st.reap_slack, reap_atom::value);
}

void schedule(self_pointer self, std::vector<reap_request>& reaps) {
  for (auto& r : reaps)
    self->state.reaps.emplace(r.due, r);
  reaps.clear();
  arm_reap_timer(self);
}

void run_due_reaps(tree_state& st, time_point now) {
  while (!st.reaps.empty() && st.reaps.begin()->first <= now) {
    auto& r = st.reaps.begin()->second;
    st.tree.of(r.host).reap(r.key, r.generation);
    st.reaps.erase(st.reaps.begin());
  }
}

// From the audit stamp (the syscall's entry, in milliseconds) to now on
// the wall clock, in microseconds.
int64_t latency_us(const event_id& id) {
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(
    std::chrono::system_clock::now().time_since_epoch());
  return now.count() - static_cast<int64_t>(stamp_ms(id)) * 1000;
}

// Whether the memory budget acted (for /healthz), logged at 1, 2, 4, ...
void note_budget(tree_state& st, time_point now) {
  auto s = st.tree.stats().budget;
  if (st.budget.observe(s, now))
    log::warning("memory budget (max-processes): ", s.num_evicted,
                 " ended processes evicted, ", s.num_bare,
                 " execs kept without argv (only running ones left)");
}

template <class Batch>
void send_downstream(self_pointer self, Batch&& batch) {
  auto& st = self->state;
  if (st.has_sink && !batch.empty())
    st.downstream.send(self, caf::make_message(std::move(batch)), 0);
}

// Fills an event's lineage from its host's table; live, the local host's
// events also name the machine and its boot.
void stamp_lineage(tree_state& st, process_event& ev, const process_tree& tree,
                   const std::string& boot) {
  fill_lineage(ev, tree, boot, st.ancestors_depth);
  if (!st.local_host.empty() && ev.host == st.local_host) {
    ev.lineage.host_id = st.local_machine_id;
    ev.lineage.boot_id = st.local_boot_id;
    if (!ev.container.empty()) {
      auto& labels = st.containers.of(ev.container, ev.lineage.container_runtime);
      ev.lineage.container_name = labels.name;
      ev.lineage.container_image = labels.image;
    }
  }
}

// The tree's refused container claims, one log line a second at most.
void log_claims(self_pointer self, process_tree& tree) {
  auto notes = tree.take_claim_notes();
  if (notes.empty())
    return;
  auto& st = self->state;
  st.claims_unlogged += notes.size();
  auto now = self->clock().now();
  if (now < st.claims_logged + std::chrono::seconds{1})
    return;
  log::warning(notes.front(), " (", st.claims_unlogged,
               " refused since the last line)");
  st.claims_logged = now;
  st.claims_unlogged = 0;
}

// Applies events in the order given and forwards them downstream, each
// container start or stop after the event that showed it, and each fork
// once the table placed the process it made.
void apply_batch(self_pointer self, process_event_batch& batch) {
  auto& st = self->state;
  std::vector<reap_request> reaps;
  container_event_batch containers;
  process_event_batch stream;
  stream.reserve(batch.size());
  for (auto& ev : batch) {
    if (st.stream_time)
      st.stream_now = std::max(st.stream_now, stream_point(ev.id));
    // Live, auditd's name_format=hostname names this machine in node=: its
    // records share the table of /proc, the connector and the bootstrap.
    if (!st.stream_time && !ev.host.empty() && ev.host == st.local_host)
      ev.host.clear();
    auto& tree = st.tree.of(ev.host);
    auto boot = boot_of_host(ev.host, st.local_boot_id);
    auto first_reap = reaps.size();
    tree.cap_args(ev);
    tree.apply(ev, now_of(self), reaps);
    for (auto i = first_reap; i < reaps.size(); ++i)
      reaps[i].host = ev.host;
    log_claims(self, tree);
    if (!st.stream_time && ev.source == fact_source::audit)
      st.latency.add(latency_us(ev.id));
    if (auto container = tree.container_of(ev.pid))
      ev.container = *container;
    // Live, the stream names the machine for the records without node=.
    if (ev.host.empty())
      ev.host = st.local_host;
    for (auto& c : tree.take_container_events()) {
      c.sequence = ev.sequence;
      c.host = ev.host;
      if (!st.local_host.empty() && c.host == st.local_host) {
        auto& labels = st.containers.of(c.id, c.runtime);
        c.name = labels.name;
        c.image = labels.image;
      }
      containers.push_back(std::move(c));
    }
    auto first_out = stream.size();
    st.gate.pass(std::move(ev), tree.take_starts(), now_of(self), stream);
    // What leaves the tree now carries the table's lineage as it stands.
    for (auto i = first_out; i < stream.size(); ++i)
      stamp_lineage(st, stream[i], tree, boot);
  }
  st.gate.expire(now_of(self));
  note_budget(st, now_of(self));
  schedule(self, reaps);
  if (st.stream_time)
    run_due_reaps(st, st.stream_now);
  send_downstream(self, std::move(stream));
  send_downstream(self, std::move(containers));
}

void checkpoint(self_pointer self) {
  auto& st = self->state;
  st.since_checkpoint = 0;
  st.argv_since_checkpoint = 0;
  auto cp = std::make_shared<tree_checkpoint>();
  cp->tree = st.tree;
  cp->gate = st.gate;
  cp->stream_now = st.stream_now;
  cp->reaps = st.reaps;
  cp->applied = st.applied;
  cp->connector_applied = st.connector_applied;
  cp->unacked_stream = st.downstream.kept();
  self->send(st.supervisor, checkpoint_atom::value,
             tree_checkpoint_ptr{std::move(cp)});
}

// The tree's counters, the checkpointed ones included.
tree_counters counters_of(tree_state& st) {
  auto& tree = st.tree;
  auto s = tree.stats();
  tree_counters result;
  result.num_processes = tree.size();
  for (auto& key : tree.hosts())
    for (auto& c : tree.of(key).containers())
      result.num_containers += c.num_running > 0 ? 1 : 0;
  result.num_events = s.num_events;
  result.num_created = s.num_created;
  result.num_vanished = s.num_vanished;
  result.num_reaped = s.num_reaped;
  result.num_ignored = s.num_ignored;
  for (size_t i = 0; i < num_claim_rejections; ++i)
    if (s.claims_rejected[i] > 0)
      result.claims_rejected[to_string(static_cast<claim_rejection>(i))] =
        s.claims_rejected[i];
  result.num_containers_dropped = s.num_containers_dropped;
  result.budget = s.budget;
  result.num_duplicates = st.num_duplicates;
  auto& gate = st.gate;
  result.num_starts_held = gate.stats().num_held;
  result.num_starts_confirmed = gate.stats().num_confirmed;
  result.num_starts_threads = gate.stats().num_threads;
  result.num_starts_unresolved = gate.stats().num_unresolved;
  result.num_starts_too_late = gate.stats().num_too_late;
  result.num_starts_evicted = gate.stats().num_evicted;
  result.num_starts_waiting = gate.num_waiting();
  auto& hold = gate.hold_latency();
  result.start_hold_count = hold.count();
  result.start_hold_p50_us = hold.percentile_us(0.5);
  result.start_hold_p99_us = hold.percentile_us(0.99);
  result.start_hold_max_us = hold.max_us();
  result.latency_count = st.latency.count();
  result.latency_p50_us = st.latency.percentile_us(0.5);
  result.latency_p99_us = st.latency.percentile_us(0.99);
  result.latency_max_us = st.latency.max_us();
  return result;
}

// A checkpoint copies the table: never more often than its size in
// events, so that its cost per event stays bounded on a large host.
void maybe_checkpoint(self_pointer self) {
  auto& st = self->state;
  // A checkpoint copies the table: never more often than its size in
  // events, so that its cost per event stays bounded on a large host; or
  // once the records kept for a new tree hold checkpoint_argv_bytes.
  if (st.supervisor && st.checkpoint_interval > 0
      && (st.since_checkpoint >= std::max<uint64_t>(st.checkpoint_interval,
                                                    st.tree.size())
          || st.argv_since_checkpoint >= checkpoint_argv_bytes))
    checkpoint(self);
}

// Takes one assembler's batch into the merge and applies what every
// watermark has passed.
void merge(self_pointer self, process_event_batch& batch, uint64_t watermark,
           uint32_t input) {
  auto& st = self->state;
  st.watermarks[input] = std::max(st.watermarks[input], watermark);
  for (auto& ev : batch) {
    // A sequence is one record's: seen before means sent again.
    if (ev.sequence <= st.applied
        || !st.held.try_emplace(ev.sequence, std::move(ev)).second)
      ++st.num_duplicates;
  }
  // Events up to the lowest watermark can no longer be overtaken by
  // another assembler's: apply them in arrival order.
  auto low = *std::min_element(st.watermarks.begin(), st.watermarks.end());
  process_event_batch ready;
  auto end = st.held.upper_bound(low);
  ready.reserve(static_cast<size_t>(std::distance(st.held.begin(), end)));
  for (auto i = st.held.begin(); i != end; ++i)
    ready.push_back(std::move(i->second));
  st.held.erase(st.held.begin(), end);
  if (ready.empty())
    return;
  st.applied = ready.back().sequence;
  st.since_checkpoint += ready.size();
  for (auto& ev : ready)
    st.argv_since_checkpoint += joined_size(ev.argv); // before the cut
  apply_batch(self, ready);
  maybe_checkpoint(self);
}

// A numbered batch of the proc connector: applied once, whichever tree
// it is sent to.
void apply_connector_batch(self_pointer self, process_event_batch& batch,
                           uint64_t number) {
  auto& st = self->state;
  if (number <= st.connector_applied) {
    st.num_duplicates += batch.size();
    return;
  }
  st.connector_applied = number;
  st.since_checkpoint += batch.size();
  apply_batch(self, batch);
  maybe_checkpoint(self);
}

// What the tree or ps view of one container or all, of one host or all,
// shows.
tree_view select_processes(tree_state& st, const std::string& container,
                           const std::string& host) {
  auto keys = select_hosts(st.tree, host, st.local_host);
  process_selector select = [&](const process_tree& tree) {
    return container.empty() ? tree.snapshot()
                             : tree.container_tree(container);
  };
  return select_view(st.tree, keys, st.local_host, select,
                     st.local_boot_id);
}

template <class Render>
std::string render_view(tree_state& st, const std::string& container,
                        const std::string& host, bool json, Render render) {
  auto view = select_processes(st, container, host);
  return json ? render_view_json(view) : render_view_text(view, render);
}

} // namespace

tree_state::~tree_state() {
  if (ledger)
    ledger->retire(counted_since(counters_of(*this), resumed_with));
}

caf::behavior tree_actor(self_pointer self, tree_actor_options opts,
                         caf::actor downstream, caf::actor supervisor,
                         tree_checkpoint_ptr resume) {
  log_exceptions(self);
  auto& st = self->state;
  st.tree = host_trees{opts.tree};
  st.local_host = opts.local_host;
  st.local_boot_id = opts.local_boot_id;
  st.local_machine_id = opts.local_machine_id;
  st.ancestors_depth = opts.ancestors_depth;
  st.gate = start_gate{opts.gate};
  st.has_sink = opts.has_sink || downstream;
  st.downstream = reliable_link{std::move(downstream)};
  st.supervisor = std::move(supervisor);
  st.stream_time = opts.stream_time;
  st.watermarks.assign(opts.num_inputs, 0);
  st.checkpoint_interval = opts.checkpoint_interval;
  st.reap_slack = opts.reap_slack;
  st.faults = std::move(opts.faults);
  st.ledger = std::move(opts.ledger);
  if (resume) {
    st.tree = resume->tree;
    st.gate = resume->gate;
    st.stream_now = resume->stream_now;
    st.reaps = resume->reaps;
    st.applied = resume->applied;
    st.connector_applied = resume->connector_applied;
    st.resumed_with = counters_of(st);
    st.budget.baseline(st.tree.stats().budget);
    // The sink drops what it already wrote of these.
    for (auto& x : resume->unacked_stream)
      st.downstream.send(self, x.content, x.last_sequence);
    arm_reap_timer(self);
    log::info("tree resumed from its checkpoint: ", st.tree.size(),
              " processes, events up to ", st.applied);
  } else if (!opts.bootstrap.empty()) {
    apply_batch(self, opts.bootstrap);
  }
  return {
    [=](process_event_batch& batch) {
      if (!inject_fault(self, self->state.faults.step(batch.size())))
        apply_batch(self, batch);
    },
    [=](process_event_batch& batch, uint64_t number) {
      if (!inject_fault(self, self->state.faults.step(batch.size())))
        apply_connector_batch(self, batch, number);
    },
    [=](process_event_batch& batch, uint64_t watermark, uint32_t input) {
      auto last = batch.empty() ? 0 : batch.back().sequence;
      if (inject_fault(self, self->state.faults.advance_to(last)))
        return;
      if (input < self->state.watermarks.size())
        merge(self, batch, watermark, input);
      else
        apply_batch(self, batch);
    },
    [=](ack_atom) { self->state.downstream.release_oldest(); },
    [=](rewire_atom, const std::string& name, const caf::actor& sink) {
      if (name == "sink")
        self->state.downstream.rewire(self, sink);
    },
    [=](reconcile_atom, uint64_t scan_ms, const proc_snapshot& live) {
      auto& st = self->state;
      std::vector<reap_request> reaps;
      auto at = event_id{scan_ms / 1000, static_cast<uint32_t>(scan_ms % 1000),
                         0};
      // /proc shows the local host only.
      auto& local = st.tree.local();
      auto r = local.reconcile(live, at, now_of(self), reaps);
      note_budget(st, now_of(self));
      schedule(self, reaps);
      log_claims(self, local);
      auto containers = local.take_container_events();
      for (auto& c : containers)
        c.host = st.local_host;
      send_downstream(self, std::move(containers));
      if (r.num_ended + r.num_added + r.num_parents_corrected > 0)
        log::info("reconciled with /proc: ", r.num_ended, " ended, ",
                  r.num_added, " added, ", r.num_parents_corrected,
                  " parents corrected");
    },
    [=](reap_atom) {
      auto& st = self->state;
      st.reap_timer = false;
      run_due_reaps(st, self->clock().now());
      arm_reap_timer(self);
    },
    [=](host_atom, const std::string& host) {
      // Whether --host selects a host, and the names it takes, for a
      // message refusing an unknown one.
      auto& st = self->state;
      std::string names;
      for (auto& key : st.tree.hosts()) {
        names += names.empty() ? "" : ", ";
        names += display_host(key, st.local_host);
      }
      bool known = !select_hosts(st.tree, host, st.local_host).empty();
      return std::make_tuple(known, std::move(names));
    },
    [=](tree_atom, const std::string& container, const std::string& host,
        bool json) {
      return render_view(self->state, container, host, json, render_pstree);
    },
    [=](ps_atom, const std::string& container, const std::string& host,
        bool json) {
      return render_view(self->state, container, host, json, render_ps);
    },
    [=](view_atom, const std::string& container, const std::string& host) {
      return tree_view_ptr{std::make_shared<const tree_view>(
        select_processes(self->state, container, host))};
    },
    [=](process_atom, int32_t pid, const std::string& host, bool json) {
      auto& st = self->state;
      for (auto& key : select_hosts(st.tree, host, st.local_host))
        if (auto ancestry = st.tree.of(key).ancestry(pid); !ancestry.empty())
          return render_process(ancestry, json,
                                boot_of_host(key, st.local_boot_id));
      return std::string{};
    },
    [=](process_atom, const std::string& entity, const std::string& host,
        bool json) {
      auto& st = self->state;
      for (auto& key : select_hosts(st.tree, host, st.local_host)) {
        auto& tree = st.tree.of(key);
        auto boot = boot_of_host(key, st.local_boot_id);
        if (auto found = find_entity(tree, boot, entity))
          return render_process(ancestry_of(tree, *found), json, boot);
      }
      return std::string{};
    },
    [=](containers_atom, bool json) {
      auto& st = self->state;
      std::vector<container_info> all;
      for (auto& key : st.tree.hosts())
        for (auto& c : st.tree.of(key).containers())
          all.push_back(std::move(c));
      return render_containers(all, json);
    },
    [=](containers_atom) {
      container_candidates out;
      auto& tree = self->state.tree;
      for (auto& key : tree.hosts())
        for (auto& c : tree.of(key).containers())
          out.push_back({c.id, c.runtime, {}, c.num_running});
      return out;
    },
    [=](stats_atom) {
      auto& st = self->state;
      auto result = counters_of(st);
      result.budget_pressed = st.budget.recent(now_of(self));
      if (st.ledger)
        st.ledger->report(counted_since(result, st.resumed_with));
      return result;
    },
    [=](flush_atom) { return uint64_t{self->state.tree.size()}; },
    [=](crash_atom) { throw injected_fault{"tree"}; },
    [=](mailbox_atom) { return uint64_t{self->mailbox().size()}; },
  };
}

} // namespace auditree
