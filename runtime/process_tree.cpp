#include "runtime/process_tree.hpp"
#include "runtime/orphan_watch.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "runtime/cgroup_container.hpp"
#include "runtime/container_evidence.hpp"
#include "runtime/container_lineage.hpp"
#include "runtime/joined_argv.hpp"
#include "runtime/pid_facts.hpp"
#include "runtime/pid_views.hpp"
#include "runtime/process_name.hpp"
#include "runtime/session_ids.hpp"

namespace auditree {

namespace {

constexpr uint64_t clone_thread = 0x10000;
constexpr uint64_t clone_parent = 0x8000;
constexpr uint64_t forever = std::numeric_limits<uint64_t>::max();
/// Bound on walks up the parent chain; a cycle would be a bug, but a walk
/// must end even then.
constexpr int max_depth = 4096;
/// Bound on namespaced fork children waiting under one parent.
constexpr size_t max_namespaced_per_parent = 256;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

} // namespace

// -- internal state -----------------------------------------------------------

namespace tree_detail {

/// What an exec loaded. Shared between a process and the children it forks
/// before they exec, which run the same image.
struct exec_image {
  std::string exe;
  /// argv joined with NUL bytes, as in /proc/PID/cmdline: one allocation
  /// instead of one per argument.
  std::string args;
  uint32_t argc = 0;
  std::string cwd;
};

struct container_state {
  std::string id;
  std::string runtime;
  process_key init;
  event_id first_seen;
  std::optional<event_id> end;
  /// Every lifetime that joined or inherited the container.
  std::vector<process_key> members;
};

/// The part a process plays for a container runtime. Only runtime
/// processes carry one.
struct runtime_facts {
  enum role_t : uint8_t {
    shim,    ///< A containerd shim; `container` is the task it serves.
    runc,    ///< runc create/run/exec for `container`.
    joining, ///< runc's init lineage: its first real exec joins `container`.
  };
  role_t role = shim;
  std::shared_ptr<container_state> container;
  /// shim: containerd namespace.
  std::string ns;
  /// shim: long-running (its exit ends the container).
  bool serves = false;
  /// runc: `create` or `run` (starts the init) rather than `exec`.
  bool creates = false;
  /// runc: `run`, which lives as long as the container.
  bool foreground = false;
};

struct node {
  process_key key;
  /// The current parent; pid 0 when unknown. The parent's lifetime may be
  /// gone from the table while the pid is still worth reporting.
  process_key parent;
  /// When the parent fact was learnt, so that an older record arriving late
  /// does not undo a newer one.
  event_id parent_at;
  int32_t fork_ppid = 0;
  std::shared_ptr<const exec_image> image;
  std::shared_ptr<container_state> container;
  std::shared_ptr<const runtime_facts> runtime;
  process_name name;
  session_ids ids;
  /// Children, possibly with stale entries (moved away or reaped): a
  /// child belongs here only while its `parent` is this lifetime. Lazy, so
  /// that reaping an orphan of pid 1 costs no scan of pid 1's children.
  std::vector<process_key> children;
  event_id start;
  event_id end;
  /// The stamp of the exec that set `image`; execs applied out of order
  /// must not replace a newer image with an older one.
  event_id last_exec;
  uint64_t reap_generation = 0;
  uint32_t uid = process_event::unset_id;
  uint32_t euid = process_event::unset_id;
  uint32_t auid = process_event::unset_id;
  int32_t exit_code = 0;
  int32_t signal = 0;
  uint32_t threads = 0;
  /// Execs as audit counted them, and as the other sources did: each sees
  /// every exec, so the count is the larger.
  uint32_t audit_execs = 0;
  uint32_t other_execs = 0;
  /// clone3 children of this process still pending.
  uint32_t pending_clones = 0;
  /// Its pid in its own pid namespace (runtime/pid_views); 0: unknown.
  int32_t vpid = 0;
  process_state state = process_state::running;
  vanish_cause cause = vanish_cause::none;
  fact_origin parent_origin = fact_origin::unknown;
  fact_origin exec_origin = fact_origin::unknown;
  fact_origin start_origin = fact_origin::unknown;
  fact_origin end_origin = fact_origin::unknown;
  bool has_start = false;
  bool in_pid_ns = false;
  bool subreaper = false;
  bool container_init = false;
  /// `container` is what this process's own cgroup showed.
  bool container_from_cgroup = false;

  bool running() const { return state == process_state::running; }
  uint64_t end_ms() const { return running() ? forever : stamp_ms(end); }
};

struct pending_clone {
  process_key caller;
  /// Counted as a thread already (its caller had ended when it arrived).
  bool counted = false;
  /// The child's parent: the caller, or the caller's parent (CLONE_PARENT
  /// is invisible for clone3, so this is the caller).
  process_key parent;
  event_id at;
};

struct pending_child {
  process_key caller;
  /// `exit=`: the child's pid in the caller's namespace (for logs only).
  int32_t ns_pid = 0;
  event_id at;
  /// clone3 (may be a thread) rather than a fork known to make a process.
  bool maybe_thread = false;
};

} // namespace tree_detail

using namespace tree_detail;

// -- construction -------------------------------------------------------------

struct process_tree::impl {
  using time_point = process_tree::time_point;

  explicit impl(options opts) : opts_(std::move(opts)) {}

  void apply(const process_event& ev, time_point now,
             std::vector<reap_request>& reaps);
  void apply_fork(const process_event& ev, time_point now,
                  std::vector<reap_request>& reaps);
  void take_fork_vpid(const process_event& ev);
  void apply_exec(const process_event& ev, time_point now,
                  std::vector<reap_request>& reaps);
  void apply_exit(const process_event& ev, time_point now,
                  std::vector<reap_request>& reaps);
  void apply_session(const process_event& ev, time_point now,
                     std::vector<reap_request>& reaps);
  bool reap(const process_key& key, uint64_t generation);

  node* find_node(const process_key& key);
  const node* find_node(const process_key& key) const;
  node* lifetime_at(int32_t pid, uint64_t t,
                    fact_origin from = fact_origin::unknown);
  const node* newest(int32_t pid) const;
  bool ended_recently(int32_t pid, uint64_t t) const;
  node& create(int32_t pid, const event_id& at);
  void set_parent(node& child, node* parent, fact_origin origin);
  void add_child(node& parent, const process_key& child);
  node* parent_for_record(int32_t ppid, const event_id& at,
                          fact_origin from = fact_origin::unknown);
  void inherit_lineage(node& child, const node& creator);
  void inherit(node& child, const node& creator);
  void fill_subject_facts(node& n, const process_event& ev);
  void request_reap(node& n, time_point now, std::vector<reap_request>& reaps);
  node* reaper_for(const node& dead, const event_id& at);
  void reparent_orphans(node& dead, const event_id& at, time_point now);
  void adopt_orphan(node& child, node& dead, const event_id& at);
  void settle_orphans(std::vector<orphan_watch::entry> due);
  void resolve_pending_threads(node& caller);
  void end(node& n, process_state state, const event_id& at, fact_origin origin,
           time_point now, std::vector<reap_request>& reaps);
  void vanish(node& n, vanish_cause cause, const event_id& at, time_point now,
              std::vector<reap_request>& reaps,
              fact_origin origin = fact_origin::inferred);
  void teardown(container_state& c, const event_id& at, const node* except,
                time_point now, std::vector<reap_request>& reaps);
  void correct_parent(node& n, int32_t ppid, const event_id& at,
                      fact_origin from, time_point now,
                      std::vector<reap_request>& reaps);
  void set_start(node& n, const event_id& at, fact_origin o, int32_t vpid = 0);
  bool take_pending_clone(node& n, int32_t ppid, uint64_t earliest,
                          uint64_t latest);
  void link_new(node& n, int32_t ppid, const event_id& at, fact_origin from,
                uint64_t earliest, uint64_t latest);
  bool near(const event_id& x, uint64_t t) const;
  node* twin_fork(int32_t pid, uint64_t t, fact_origin origin);
  void merge_twin(node& x, const process_event& ev, const node& caller,
                  const process_key& parent_key);
  void revive(node& n);
  void adopt_cgroup(node& n, const process_event& ev);
  std::optional<pending_child>
  take_namespaced(int32_t ppid, uint64_t t,
                  uint64_t max_age = std::numeric_limits<uint64_t>::max(),
                  bool nearest_fork = false);
  node* namespaced_twin(int32_t parent_pid, uint64_t t);
  uint64_t window_ms() const {
    return static_cast<uint64_t>(opts_.cross_source_window.count());
  }
  uint64_t tolerance_ms() const {
    return static_cast<uint64_t>(opts_.proc_start_tolerance.count());
  }
  reconcile_result reconcile(const std::vector<proc_process>& live,
                             const event_id& at, time_point now,
                             std::vector<reap_request>& reaps);
  void check_running(
    const std::unordered_map<int32_t, const proc_process*>& alive,
    const event_id& at, time_point now, std::vector<reap_request>& reaps,
    reconcile_result& result);
  bool same_start(const node& n, uint64_t proc_start_ms) const;
  bool newer_than_scan(const node& n, uint64_t scan_ms) const;
  node* running_lifetime(int32_t pid);
  void add_from_proc(const proc_process& p, node& n, const event_id& at,
                     time_point now, std::vector<reap_request>& reaps);
  node* subject(const process_event& ev, time_point now,
                std::vector<reap_request>& reaps);
  std::string shim_namespace(const node& n) const;
  std::shared_ptr<container_state> container_for(const std::string& ns,
                                                 const std::string& id,
                                                 bool plain, bool create_new,
                                                 const event_id& at);
  void recognise_runtime(node& n, const process_event& ev, time_point now,
                         std::vector<reap_request>& reaps);
  bool runtime_refused(const process_event& ev,
                       const std::optional<runc_args>& runc);
  bool id_refused(const process_event& ev, const std::string& ns,
                  const std::string& id);
  void refuse(claim_rejection why, const process_event& ev);
  void watch_container(const std::string& id);
  void drop_unproven(const event_id& at, time_point now);
  bool held_by_runtime(const container_state& c) const;
  bool takes_image(const node& n, const process_event& ev) const;
  void take_image(node& n, const process_event& ev, time_point now,
                  std::vector<reap_request>& reaps);
  process_key newest_key(int32_t pid) const;
  process_info info(const node& n) const;
  void keep_budget();

  options opts_;
  /// Every lifetime, ordered by pid and then first_seen, so that the
  /// lifetimes of one pid are neighbours.
  std::map<process_key, node> nodes_;
  /// clone3 children of host callers, by child pid, awaiting a record that
  /// shows they are processes; and their arrival order, for the bound.
  std::unordered_map<int32_t, pending_clone> pending_clones_;
  std::deque<int32_t> pending_order_;
  /// Fork children of callers inside a pid namespace, by the host pid of
  /// the parent they will have.
  std::unordered_map<int32_t, std::vector<pending_child>> namespaced_;
  size_t num_namespaced_ = 0;
  /// Reaped lifetimes (pid, end in ms), oldest first, and an index by pid.
  std::deque<std::pair<int32_t, uint64_t>> recent_;
  std::unordered_multimap<int32_t, uint64_t> recent_index_;
  /// Containers by full id.
  std::map<std::string, std::shared_ptr<container_state>> containers_;
  /// Container starts and stops not yet taken by the caller.
  std::vector<container_event> container_events_;
  /// Containers to look at once the exit grace passed (id, when): still no
  /// member and no init, and no runtime process holding them: dropped.
  std::deque<std::pair<std::string, time_point>> unproven_;
  /// The latest `now` the table was given.
  time_point now_{};
  /// Refused claims for the caller's log.
  std::vector<std::string> claim_notes_;
  /// Starts from audit forks not yet taken by the caller.
  std::vector<process_start> starts_;
  uint64_t next_generation_ = 0;
  /// The largest host pid any record showed (see is_namespace_pid).
  int32_t highest_pid_ = 0;
  /// Children of ended parents waiting for the word on their own end (by
  /// `now_`).
  orphan_watch orphans_;
  tree_stats stats_;
  /// Ended lifetimes, oldest first, for max-processes; and whether only
  /// running ones were left at the last event (execs are then kept bare).
  ended_queue<process_key> ended_;
  bool budget_full_ = false;
};

// -- lookup -------------------------------------------------------------------

node* process_tree::impl::find_node(const process_key& key) {
  if (key.pid <= 0)
    return nullptr;
  auto i = nodes_.find(key);
  return i == nodes_.end() ? nullptr : &i->second;
}

const node* process_tree::impl::find_node(const process_key& key) const {
  if (key.pid <= 0)
    return nullptr;
  auto i = nodes_.find(key);
  return i == nodes_.end() ? nullptr : &i->second;
}

node* process_tree::impl::lifetime_at(int32_t pid, uint64_t t,
                                      fact_origin from) {
  // Audit stamps a syscall's entry, the connector the moment it read the
  // event: a boundary one source set is blurred by the window for the
  // other.
  auto slack = [&](fact_origin boundary) {
    return from != fact_origin::unknown && boundary != fact_origin::unknown
                   && boundary != from
               ? window_ms()
               : uint64_t{0};
  };
  auto first = nodes_.lower_bound(process_key{pid, event_id{}});
  auto last = nodes_.lower_bound(process_key{pid + 1, event_id{}});
  // Newest first: a pid's lifetimes follow each other in time.
  for (auto i = last; i != first;) {
    --i;
    auto& n = i->second;
    uint64_t begin = stamp_ms(n.key.first_seen);
    if (n.has_start) {
      begin = stamp_ms(n.start);
      begin -= std::min(begin, slack(n.start_origin));
    } else if (i == first) {
      // Seen only through its own records: it existed before them.
      begin = 0;
    } else if (auto& prev = std::prev(i)->second; !prev.running()) {
      begin = prev.end_ms() + 1;
    }
    auto end = n.running() ? forever : n.end_ms() + slack(n.end_origin);
    if (begin <= t && t <= end)
      return &n;
    if (t > end)
      return nullptr;
  }
  return nullptr;
}

process_key process_tree::impl::newest_key(int32_t pid) const {
  auto* n = newest(pid);
  return n != nullptr ? n->key : process_key{};
}

const node* process_tree::impl::newest(int32_t pid) const {
  auto last = nodes_.lower_bound(process_key{pid + 1, event_id{}});
  if (last == nodes_.begin())
    return nullptr;
  auto i = std::prev(last);
  return i->first.pid == pid ? &i->second : nullptr;
}

bool process_tree::impl::ended_recently(int32_t pid, uint64_t t) const {
  auto [first, last] = recent_index_.equal_range(pid);
  for (auto i = first; i != last; ++i)
    if (t <= i->second)
      return true;
  return false;
}

// -- building blocks ----------------------------------------------------------

node& process_tree::impl::create(int32_t pid, const event_id& at) {
  auto [i, added] = nodes_.try_emplace(process_key{pid, at});
  if (added) {
    i->second.key = i->first;
    ++stats_.num_created;
  }
  return i->second;
}

void process_tree::impl::add_child(node& parent, const process_key& child) {
  auto& kids = parent.children;
  // Compact only when the vector would grow: amortised O(1) per child.
  if (!kids.empty() && kids.size() == kids.capacity()) {
    kids.erase(std::remove_if(kids.begin(), kids.end(),
                              [&](const process_key& key) {
                                auto* c = find_node(key);
                                return c == nullptr || c->parent != parent.key;
                              }),
               kids.end());
  }
  kids.push_back(child);
}

void process_tree::impl::set_parent(node& child, node* parent,
                                    fact_origin origin) {
  // A record older than the parent's death (a late fork, an exec's ppid):
  // if the child lives, the kernel has handed it to the parent's reaper.
  if (parent != nullptr && !parent->running() && child.running()) {
    auto rule = orphan_rule_for(opts_.deaths_reported, opts_.orphan_wait);
    auto* reaper = rule == orphan_rule::move ? reaper_for(*parent, parent->end)
                                             : nullptr;
    if (reaper != nullptr && reaper != parent) {
      parent = reaper;
      origin = fact_origin::inferred;
    } else if (rule == orphan_rule::wait) {
      orphans_.watch(child.key, parent->key, now_ + opts_.orphan_wait);
    }
  }
  if (parent != nullptr) {
    child.parent = parent->key;
    add_child(*parent, child.key);
  } else {
    child.parent = process_key{};
  }
  child.parent_origin = origin;
}

node* process_tree::impl::parent_for_record(int32_t ppid, const event_id& at,
                                            fact_origin from) {
  if (ppid <= 0)
    return nullptr;
  auto t = stamp_ms(at);
  if (auto* p = lifetime_at(ppid, t, from))
    return p;
  // The parent's lifetime was reaped since: the record is late, not a sign
  // of a new process with that pid.
  if (ended_recently(ppid, t))
    return nullptr;
  // A process that existed before the table knew of it.
  return &create(ppid, at);
}

void process_tree::impl::inherit_lineage(node& child, const node& creator) {
  // A child shares its creator's cgroup and pid namespace, and runc's init
  // lineage stays on its way into the container.
  if (!child.container && creator.container) {
    child.container = creator.container;
    child.container->members.push_back(child.key);
  }
  child.in_pid_ns = child.in_pid_ns || creator.in_pid_ns;
  if (!child.runtime && creator.runtime
      && creator.runtime->role == runtime_facts::joining)
    child.runtime = creator.runtime;
}

void process_tree::impl::inherit(node& child, const node& creator) {
  // fork copies the caller: same program and credentials until the child
  // execs.
  if (!child.image)
    child.image = creator.image;
  if (child.name.comm.empty())
    child.name.comm = creator.name.comm;
  if (child.uid == process_event::unset_id) {
    child.uid = creator.uid;
    child.euid = creator.euid;
    child.auid = creator.auid;
  }
  child.ids.inherit(creator.ids);
  inherit_lineage(child, creator);
}

void process_tree::impl::fill_subject_facts(node& n, const process_event& ev) {
  n.vpid = vpid_after(n.vpid, ev);
  // comm changes without an exec (prctl, busybox applets): the newest
  // record wins, but never one from before the last exec.
  if (n.name.comm.empty() || !(ev.id < n.last_exec))
    n.name.take(ev.comm, ev.id, ev.action == process_action::rename);
  if (!n.image && !ev.exe.empty()) {
    auto img = std::make_shared<exec_image>();
    img->exe = ev.exe;
    n.image = std::move(img);
  }
  if (n.uid == process_event::unset_id) {
    n.uid = ev.uid;
    n.euid = ev.euid;
    n.auid = ev.auid;
  }
  if (ev.source == fact_source::proc_scan && (ev.pgid > 0 || ev.sid > 0))
    n.ids.take(ev.pgid, ev.sid, ev.id);
}

void process_tree::impl::request_reap(node& n, time_point now,
                                      std::vector<reap_request>& reaps) {
  ended_.push(n.key);
  if (opts_.keep_exited)
    return;
  n.reap_generation = ++next_generation_;
  reaps.push_back(
      reap_request{n.key, n.reap_generation, now + opts_.exit_grace});
}

// -- ends, orphans, teardown --------------------------------------------------

node* process_tree::impl::reaper_for(const node& dead, const event_id& at) {
  auto up = [this](const node& n) { return find_node(n.parent); };
  // Inside a container the walk stops at the namespace's init: the
  // kernel never hands an orphan to a reaper outside its namespace.
  if (dead.in_pid_ns && dead.container && !dead.container_init) {
    int depth = 0;
    for (auto* a = up(dead); a != nullptr && depth < max_depth;
         a = up(*a), ++depth) {
      if (a->running() && (a->subreaper || a->container_init))
        return a;
      if (a->container_init || a->container != dead.container)
        break;
    }
  }
  int depth = 0;
  for (auto* a = up(dead); a != nullptr && depth < max_depth;
       a = up(*a), ++depth)
    if (a->running() && a->subreaper)
      return a;
  return parent_for_record(1, at);
}

void process_tree::impl::reparent_orphans(node& dead, const event_id& at,
                                          time_point now) {
  if (dead.children.empty())
    return;
  auto rule = orphan_rule_for(opts_.deaths_reported, opts_.orphan_wait);
  auto kids = dead.children;
  for (auto& key : kids) {
    auto* child = find_node(key);
    if (child == nullptr || child->parent != dead.key || !child->running())
      continue;
    if (rule == orphan_rule::keep) {
      ++stats_.num_orphans_kept;
    } else if (rule == orphan_rule::wait) {
      orphans_.watch(child->key, dead.key, now + opts_.orphan_wait);
      ++stats_.num_orphans_waited;
    } else {
      adopt_orphan(*child, dead, at);
    }
  }
}

void process_tree::impl::adopt_orphan(node& child, node& dead,
                                      const event_id& at) {
  auto* reaper = reaper_for(dead, at);
  if (reaper == nullptr || reaper == &dead)
    return;
  set_parent(child, reaper, fact_origin::inferred);
  child.parent_at = at;
  ++stats_.num_reparented;
}

void process_tree::impl::settle_orphans(std::vector<orphan_watch::entry> due) {
  // No word of its end came: the child lives and has its reaper by now.
  for (auto& e : due) {
    auto* child = find_node(e.child);
    auto* dead = find_node(e.parent);
    if (child != nullptr && dead != nullptr && child->running()
        && !dead->running() && child->parent == dead->key)
      adopt_orphan(*child, *dead, dead->end);
  }
}

void process_tree::impl::resolve_pending_threads(node& caller) {
  if (caller.pending_clones == 0)
    return;
  // The caller is gone, and so are its threads: a clone3 child that never
  // showed a record of its own was one of them.
  for (auto i = pending_clones_.begin(); i != pending_clones_.end();) {
    if (i->second.caller == caller.key) {
      if (!i->second.counted) {
        ++caller.threads;
        ++stats_.num_threads;
      }
      i = pending_clones_.erase(i);
    } else {
      ++i;
    }
  }
  caller.pending_clones = 0;
}

void process_tree::impl::end(node& n, process_state state, const event_id& at,
                             fact_origin origin, time_point now,
                             std::vector<reap_request>& reaps) {
  n.state = state;
  n.end = at;
  n.end_origin = origin;
  if (n.container_init && n.container)
    teardown(*n.container, at, &n, now, reaps);
  if (n.runtime && n.runtime->container
      && ((n.runtime->role == runtime_facts::runc && n.runtime->foreground)
          || (n.runtime->role == runtime_facts::shim && n.runtime->serves)))
    teardown(*n.runtime->container, at, nullptr, now, reaps);
  reparent_orphans(n, at, now);
  resolve_pending_threads(n);
  // clone3 calls made inside a pid namespace that no record claimed were
  // threads. They stay pending: a late record may still claim one.
  if (auto i = namespaced_.find(n.key.pid); i != namespaced_.end())
    for (auto& p : i->second)
      if (p.maybe_thread && p.caller == n.key) {
        ++n.threads;
        ++stats_.num_threads;
      }
  request_reap(n, now, reaps);
}

void process_tree::impl::vanish(node& n, vanish_cause cause, const event_id& at,
                                time_point now,
                                std::vector<reap_request>& reaps,
                                fact_origin origin) {
  if (!n.running())
    return;
  n.cause = cause;
  // zap_pid_ns_processes() SIGKILLs whatever is left in the namespace.
  if (cause == vanish_cause::namespace_teardown)
    n.signal = 9;
  ++stats_.num_vanished;
  end(n, process_state::vanished, at, origin, now, reaps);
}

void process_tree::impl::teardown(container_state& c, const event_id& at,
                                  const node* except, time_point now,
                                  std::vector<reap_request>& reaps) {
  if (!c.end) {
    c.end = at;
    container_events_.push_back({false, c.id, c.runtime, c.init.pid, at});
  }
  auto members = c.members;
  for (auto& key : members) {
    auto* m = find_node(key);
    if (m != nullptr && m != except && m->running())
      vanish(*m, vanish_cause::namespace_teardown, at, now, reaps);
  }
}

void process_tree::impl::correct_parent(node& n, int32_t ppid,
                                        const event_id& at, fact_origin from,
                                        time_point now,
                                        std::vector<reap_request>& reaps) {
  if (ppid <= 0)
    return;
  if (n.parent.pid == ppid) {
    if (n.parent_origin == fact_origin::inferred)
      n.parent_origin = from;
    if (n.parent_at < at)
      n.parent_at = at;
    return;
  }
  if (n.parent.pid != 0 && at < n.parent_at)
    return; // An older record, overtaken by what we know.
  bool adopted = n.parent.pid != 0;
  if (n.parent.pid != 0) {
    ++stats_.num_parent_corrections;
    // The kernel changes a parent only when it dies. A parent we only
    // guessed proves nothing; one a record or fork showed is dead now.
    auto* old = find_node(n.parent);
    bool old_running = old != nullptr && old->running();
    if (from == fact_origin::proc_scan) {
      // The scan has ended every parent it does not show: one still
      // running is alive, and the table's parent was a wrong guess (an
      // invisible CLONE_PARENT), not an orphan's adoption. A guess made
      // when the real parent died was one.
      adopted = !old_running || n.parent_origin == fact_origin::inferred;
    } else if (old_running && n.parent_origin != fact_origin::inferred) {
      vanish(*old, vanish_cause::orphaned_children, at, now, reaps);
    }
  }
  auto* parent = parent_for_record(ppid, at, from);
  if (parent != nullptr) {
    set_parent(n, parent, from);
    // The new parent adopted an orphan: it is pid 1, its namespace's init,
    // or a subreaper (unless the record predates its death).
    if (adopted && ppid != 1 && !parent->container_init && parent->running())
      parent->subreaper = true;
  } else {
    set_parent(n, nullptr, from);
    n.parent = process_key{ppid, event_id{}};
  }
  n.parent_at = at;
}

// -- pending children ---------------------------------------------------------

void process_tree::impl::set_start(node& n, const event_id& at,
                                   fact_origin origin, int32_t vpid) {
  n.has_start = true;
  n.start = at;
  n.start_origin = origin;
  if (vpid > 0)
    n.vpid = vpid;
  if (origin == fact_origin::audit)
    starts_.push_back(process_start{n.key, at, 0, vpid});
}

bool process_tree::impl::take_pending_clone(node& n, int32_t ppid,
                                            uint64_t earliest,
                                            uint64_t latest) {
  auto i = pending_clones_.find(n.key.pid);
  if (i == pending_clones_.end())
    return false;
  auto pending = i->second;
  pending_clones_.erase(i);
  auto* caller = find_node(pending.caller);
  if (caller != nullptr && caller->pending_clones > 0)
    --caller->pending_clones;
  auto at = stamp_ms(pending.at);
  if (at > latest || at < earliest
      || (ppid > 0 && ppid != pending.parent.pid)) {
    // Not this process: the clone3 made a thread whose id was reused.
    if (!pending.counted) {
      if (caller != nullptr)
        ++caller->threads;
      ++stats_.num_threads;
    }
    return false;
  }
  if (pending.counted) {
    if (caller != nullptr && caller->threads > 0)
      --caller->threads;
    --stats_.num_threads;
  }
  set_start(n, pending.at, fact_origin::audit);
  n.fork_ppid = pending.parent.pid;
  set_parent(n, find_node(pending.parent), fact_origin::audit);
  if (n.parent.pid == 0)
    n.parent = pending.parent;
  n.parent_at = pending.at;
  if (caller != nullptr)
    inherit(n, *caller);
  ++stats_.num_clone3_confirmed;
  return true;
}

std::optional<pending_child>
process_tree::impl::take_namespaced(int32_t ppid, uint64_t t, uint64_t max_age,
                                    bool nearest_fork) {
  auto i = namespaced_.find(ppid);
  if (i == namespaced_.end())
    return std::nullopt;
  auto& list = i->second;
  // Prefer a fork known to make a process over a clone3 that may have made
  // a thread. Within each kind, the oldest: children are linked in the
  // order they were forked.
  auto pick = list.end();
  for (auto j = list.begin(); j != list.end(); ++j) {
    auto at = stamp_ms(j->at);
    if (at > t || t - at > max_age)
      continue;
    if (nearest_fork) {
      // Matching the connector's fork: the latest fork before it, never a
      // clone3 that may have made a thread.
      if (!j->maybe_thread)
        pick = j;
      continue;
    }
    if (!j->maybe_thread) {
      pick = j;
      break;
    }
    if (pick == list.end())
      pick = j;
  }
  if (pick == list.end())
    return std::nullopt;
  auto taken = *pick;
  list.erase(pick);
  --num_namespaced_;
  if (list.empty())
    namespaced_.erase(i);
  return taken;
}

// -- the subject of a record --------------------------------------------------

void process_tree::impl::link_new(node& n, int32_t ppid, const event_id& at,
                                  fact_origin from, uint64_t earliest,
                                  uint64_t latest) {
  // A lifetime the table just opened: its first sight may be the child a
  // pending fork announced (only one stamped within [earliest, latest]
  // can be its own), else its `ppid` is the best parent there is.
  if (take_pending_clone(n, ppid, earliest, latest))
    return;
  if (auto p = take_namespaced(ppid, latest, latest - earliest)) {
    // The fork reported this child by its namespace pid; its own
    // record gives the host pid and the parent.
    set_start(n, p->at, fact_origin::audit, p->ns_pid);
    n.fork_ppid = ppid;
    set_parent(n, parent_for_record(ppid, p->at), fact_origin::audit);
    n.parent_at = p->at;
    if (auto* caller = find_node(p->caller)) {
      inherit(n, *caller);
      if (p->maybe_thread && !caller->running() && caller->threads > 0) {
        --caller->threads;
        --stats_.num_threads;
      }
    }
    ++stats_.num_namespaced_linked;
  } else if (ppid > 0) {
    // Existed before the table knew of it, or its fork is late.
    auto* parent = parent_for_record(ppid, at, from);
    n.fork_ppid = ppid;
    if (parent != nullptr) {
      set_parent(n, parent, from);
      // Not its image: the record itself tells which program runs.
      inherit_lineage(n, *parent);
    } else {
      n.parent = process_key{ppid, event_id{}};
      n.parent_origin = from;
    }
    n.parent_at = at;
  }
}

node* process_tree::impl::subject(const process_event& ev, time_point now,
                                  std::vector<reap_request>& reaps) {
  auto t = stamp_ms(ev.id);
  auto* n = lifetime_at(ev.pid, t, origin_of(ev.source));
  if (n == nullptr) {
    // A record of a lifetime that was reaped already changes nothing.
    if (ended_recently(ev.pid, t))
      return nullptr;
    n = &create(ev.pid, ev.id);
    link_new(*n, ev.ppid, ev.id, origin_of(ev.source), 0, t);
    // Its own record before its fork's: it is still in the group and
    // session fork gave it, its parent's.
    if (auto* parent = find_node(n->parent))
      n->ids.inherit(parent->ids);
  }
  correct_parent(*n, ev.ppid, ev.id, origin_of(ev.source), now, reaps);
  fill_subject_facts(*n, ev);
  return n;
}

// -- events -------------------------------------------------------------------

// The connector read a forked child's vpid from /proc: it replaces what
// pairing the child with audit's namespaced clone guessed.
void process_tree::impl::take_fork_vpid(const process_event& ev) {
  if (ev.source != fact_source::proc_connector || ev.vpid <= 0)
    return;
  if (auto* n = newest(ev.child); n != nullptr && n->running())
    find_node(n->key)->vpid = ev.vpid;
}

void process_tree::impl::apply(const process_event& ev, time_point now,
                               std::vector<reap_request>& reaps) {
  ++stats_.num_events;
  now_ = std::max(now_, now);
  drop_unproven(ev.id, now);
  if (!orphans_.empty())
    settle_orphans(orphans_.take_due(now_));
  if (ev.pid <= 0) {
    ++stats_.num_ignored;
    return;
  }
  highest_pid_ = std::max({highest_pid_, ev.pid, ev.ppid});
  switch (ev.action) {
  case process_action::fork:
    apply_fork(ev, now, reaps);
    take_fork_vpid(ev);
    break;
  case process_action::exec:
    apply_exec(ev, now, reaps);
    break;
  case process_action::exit:
  case process_action::abend:
    apply_exit(ev, now, reaps);
    break;
  case process_action::rename: // the newest name wins (fill_subject_facts)
    subject(ev, now, reaps);
    break;
  case process_action::setsid:
  case process_action::setpgid:
    apply_session(ev, now, reaps);
    break;
  }
}

void process_tree::impl::apply_session(const process_event& ev,
                                       time_point now,
                                       std::vector<reap_request>& reaps) {
  auto* caller = subject(ev, now, reaps);
  if (caller != nullptr && ev.action == process_action::setsid) {
    caller->ids.take(ev.pid, ev.pid, ev.id);
    return;
  }
  auto change = caller ? resolve_setpgid(ev, caller->in_pid_ns) : std::nullopt;
  auto* target = !change                     ? nullptr
                 : change->target == ev.pid ? caller
                     : lifetime_at(change->target, stamp_ms(ev.id));
  if (target == nullptr) {
    ++stats_.num_ignored;
    return;
  }
  target->ids.take(change->pgid, target->ids.sid, ev.id);
}

void process_tree::impl::apply_fork(const process_event& ev, time_point now,
                                    std::vector<reap_request>& reaps) {
  auto* caller = subject(ev, now, reaps);
  if (caller == nullptr || ev.child <= 0) {
    ++stats_.num_ignored;
    return;
  }
  auto t = stamp_ms(ev.id);
  // runc's stage-2 child names itself before anything else; it already
  // runs in the container's new pid namespace, so its `exit=` values are
  // namespace pids. So are any the host can no longer hand out.
  if (starts_with(ev.comm, "runc:[2:")
      || (ev.source == fact_source::audit
          && is_namespace_pid(ev.child, highest_pid_)))
    caller->in_pid_ns = true;
  // The connector and /proc report host pids; only audit reports the
  // caller's view.
  bool namespaced = ev.source == fact_source::audit && caller->in_pid_ns;
  bool thread = ev.clone_flags_known && (ev.clone_flags & clone_thread) != 0;
  bool maybe_thread = !ev.clone_flags_known;
  bool to_grandparent =
      ev.clone_flags_known && (ev.clone_flags & clone_parent) != 0;
  process_key parent_key = to_grandparent ? caller->parent : caller->key;
  if (to_grandparent && parent_key.pid == 0 && ev.ppid > 0)
    parent_key = process_key{ev.ppid, event_id{}};
  if (namespaced) {
    if (thread) {
      ++caller->threads;
      ++stats_.num_threads;
      return;
    }
    if (!maybe_thread) {
      // The connector may have reported this child already, by host pid.
      if (auto* twin = namespaced_twin(parent_key.pid, t)) {
        set_start(*twin, ev.id, fact_origin::audit, ev.child);
        inherit_lineage(*twin, *caller);
        ++stats_.num_duplicates;
        return;
      }
    }
    auto& list = namespaced_[parent_key.pid];
    if (list.size() >= max_namespaced_per_parent
        || num_namespaced_ >= opts_.max_pending) {
      if (list.empty())
        return;
      list.erase(list.begin());
      --num_namespaced_;
    }
    list.push_back(pending_child{caller->key, ev.child, ev.id, maybe_thread});
    ++num_namespaced_;
    if (maybe_thread && !caller->running()) {
      // Its caller's end was reported first: count it now, as end() would
      // have (a record that claims it later takes it back).
      ++caller->threads;
      ++stats_.num_threads;
    }
    return;
  }
  auto origin = origin_of(ev.source);
  // The other source's report of this very fork: one fact, two witnesses.
  if (!thread) {
    if (auto* twin = twin_fork(ev.child, t, origin)) {
      merge_twin(*twin, ev, *caller, parent_key);
      return;
    }
  }
  // A host pid or tid handed out at t means whoever held it before has
  // died, with or without a record.
  auto* x = lifetime_at(ev.child, t, origin);
  if (x != nullptr) {
    // The connector stamps its receipt, up to the window after the fork:
    // audit's exec of a vfork child may carry an earlier stamp.
    auto first_seen = stamp_ms(x->key.first_seen);
    auto late = origin == fact_origin::proc_connector ? window_ms() : 0;
    bool seen_first = !x->has_start && t <= first_seen + late;
    if (seen_first && !thread) {
      // Its own records came first: this fork is where it began.
      set_start(*x, t <= first_seen ? ev.id : x->key.first_seen,
                origin_of(ev.source));
      x->fork_ppid = parent_key.pid;
      if (x->parent.pid == 0 || x->parent_at < ev.id) {
        auto* p = find_node(parent_key);
        if (p != nullptr && x->parent != p->key)
          set_parent(*x, p, origin_of(ev.source));
      }
      inherit(*x, *caller);
      adopt_cgroup(*x, ev);
      ++stats_.num_late_forks_merged;
      return;
    }
    if (x->has_start && x->start == ev.id)
      return; // The same fork, delivered again.
    if (x->running())
      vanish(*x, vanish_cause::pid_reused, ev.id, now, reaps);
    else if (x->state == process_state::vanished && ev.id < x->end)
      x->end = ev.id;
  } else if (ended_recently(ev.child, t)) {
    ++stats_.num_late_forks_ignored;
    return;
  }
  if (thread) {
    ++caller->threads;
    ++stats_.num_threads;
    return;
  }
  if (auto old = pending_clones_.find(ev.child); old != pending_clones_.end()) {
    auto pending = old->second;
    pending_clones_.erase(old);
    auto* c = find_node(pending.caller);
    if (c != nullptr && c->pending_clones > 0)
      --c->pending_clones;
    if (ev.source != fact_source::audit && near(pending.at, t)) {
      // The connector reports processes only: audit's clone3 made this
      // one. Audit's stamp is the start, the connector's parent the parent.
      auto& child = create(ev.child, pending.at);
      set_start(child, pending.at, fact_origin::audit);
      child.fork_ppid = parent_key.pid;
      set_parent(child, parent_for_record(parent_key.pid, pending.at), origin);
      child.parent_at = ev.id;
      if (c != nullptr)
        inherit(child, *c);
      if (pending.counted) {
        if (c != nullptr && c->threads > 0)
          --c->threads;
        --stats_.num_threads;
      }
      adopt_cgroup(child, ev);
      ++stats_.num_clone3_confirmed;
      ++stats_.num_duplicates;
      return;
    }
    // An earlier clone3 child with this id never showed itself: it was a
    // thread, and its id is free again.
    if (!pending.counted) {
      if (c != nullptr)
        ++c->threads;
      ++stats_.num_threads;
    }
  }
  if (maybe_thread && ev.source == fact_source::audit) {
    if (pending_clones_.size() >= opts_.max_pending) {
      while (!pending_order_.empty()) {
        auto pid = pending_order_.front();
        pending_order_.pop_front();
        if (pending_clones_.erase(pid) > 0)
          break;
      }
    }
    pending_clones_[ev.child] =
        pending_clone{caller->key, !caller->running(), parent_key, ev.id};
    if (!caller->running()) {
      // Its caller's end was reported first: nothing resolves it later.
      ++caller->threads;
      ++stats_.num_threads;
    }
    pending_order_.push_back(ev.child);
    if (pending_order_.size() > 2 * opts_.max_pending)
      pending_order_.pop_front();
    ++caller->pending_clones;
    return;
  }
  auto& child = create(ev.child, ev.id);
  set_start(child, ev.id, origin);
  child.fork_ppid = parent_key.pid;
  if (auto* p = find_node(parent_key)) {
    set_parent(child, p, origin);
  } else {
    child.parent = parent_key;
    child.parent_origin = origin;
  }
  child.parent_at = ev.id;
  inherit(child, *caller);
  if (ev.source != fact_source::audit) {
    // Audit may have reported this fork already, by its namespace pid.
    if (auto p = take_namespaced(parent_key.pid, t, window_ms(), true)) {
      set_start(child, p->at, fact_origin::audit, p->ns_pid);
      if (auto* creator = find_node(p->caller))
        inherit_lineage(child, *creator);
      ++stats_.num_duplicates;
    }
  }
  adopt_cgroup(child, ev);
}

void process_tree::impl::apply_exec(const process_event& ev, time_point now,
                                    std::vector<reap_request>& reaps) {
  auto t = stamp_ms(ev.id);
  auto origin = origin_of(ev.source);
  // A non-leader thread that execs makes the kernel end the old leader,
  // which the connector reports as the pid's exit, then the exec. The
  // connector's events come in the kernel's order: its exec right after its
  // own exit of the same pid, with no fork between, is this case. An audit
  // exec proves nothing (it may be a late report from before a real death).
  if (ev.source == fact_source::proc_connector) {
    auto* last = find_node(newest_key(ev.pid));
    if (last != nullptr && !last->running()
        && last->end_origin == fact_origin::proc_connector
        && t >= stamp_ms(last->end) && t - stamp_ms(last->end) <= window_ms())
      revive(*last);
  }
  auto* n = subject(ev, now, reaps);
  if (n == nullptr) {
    ++stats_.num_ignored;
    return;
  }
  // Each source sees every exec; a /proc scan states what runs, no exec.
  if (ev.source == fact_source::audit)
    ++n->audit_execs;
  else if (ev.source == fact_source::proc_connector)
    ++n->other_execs;
  if (takes_image(*n, ev))
    take_image(*n, ev, now, reaps);
  else if (n->exec_origin != origin)
    ++stats_.num_duplicates;
  adopt_cgroup(*n, ev);
}

void process_tree::impl::take_image(node& n, const process_event& ev,
                                    time_point now,
                                    std::vector<reap_request>& reaps) {
  auto img = std::make_shared<exec_image>();
  img->exe = ev.exe;
  if (!budget_full_) {
    img->args = join_capped(ev.argv, opts_.budget.max_args_bytes, img->argc);
    img->cwd = ev.cwd;
  } else {
    ++stats_.budget.num_bare;
  }
  n.image = std::move(img);
  n.last_exec = ev.id;
  n.exec_origin = origin_of(ev.source);
  n.name.take(ev.comm, ev.id, false);
  if (ev.uid != process_event::unset_id) {
    n.uid = ev.uid;
    n.euid = ev.euid;
    n.auid = ev.auid;
  }
  recognise_runtime(n, ev, now, reaps);
}

bool process_tree::impl::takes_image(const node& n,
                                     const process_event& ev) const {
  // The connector could not read /proc: it knows an exec happened, not
  // what it loaded.
  if (ev.exe.empty() && ev.argv.empty())
    return false;
  if (n.exec_origin == fact_origin::unknown)
    return true;
  auto t = stamp_ms(ev.id);
  auto last = stamp_ms(n.last_exec);
  if (n.exec_origin == origin_of(ev.source))
    return !(ev.id < n.last_exec); // never an older exec over a newer one
  // Audit's argv is the exact one (/proc may be gone or cut short): it
  // replaces the other source's report of the same exec, and the other
  // source replaces audit's only with a later exec.
  if (ev.source == fact_source::audit)
    return t + window_ms() >= last;
  return t > last + window_ms();
}

void process_tree::impl::apply_exit(const process_event& ev, time_point now,
                                    std::vector<reap_request>& reaps) {
  auto* n = subject(ev, now, reaps);
  if (n == nullptr) {
    ++stats_.num_ignored;
    return;
  }
  auto state = process_state::exited;
  if (ev.action == process_action::abend
      || (ev.source == fact_source::proc_connector && ev.signal != 0))
    state = process_state::killed;
  auto origin = origin_of(ev.source);
  if (!n->running()) {
    // A record of its own beats what the table inferred; the reap
    // requested then still stands.
    if (n->state == process_state::vanished) {
      n->state = state;
      n->cause = vanish_cause::none;
      n->end = ev.id;
      n->end_origin = origin;
      n->exit_code = ev.exit_code;
      n->signal = ev.signal;
    }
    return;
  }
  n->exit_code = ev.exit_code;
  n->signal = ev.signal;
  end(*n, state, ev.id, origin, now, reaps);
}

// -- two sources, one fact ----------------------------------------------------

bool process_tree::impl::near(const event_id& x, uint64_t t) const {
  auto a = stamp_ms(x);
  return (a > t ? a - t : t - a) <= window_ms();
}

node* process_tree::impl::twin_fork(int32_t pid, uint64_t t,
                                    fact_origin origin) {
  auto first = nodes_.lower_bound(process_key{pid, event_id{}});
  auto last = nodes_.lower_bound(process_key{pid + 1, event_id{}});
  for (auto i = first; i != last; ++i) {
    auto& n = i->second;
    if (n.has_start && n.start_origin != origin
        && n.start_origin != fact_origin::inferred && near(n.start, t))
      return &n;
  }
  return nullptr;
}

void process_tree::impl::merge_twin(node& x, const process_event& ev,
                                    const node& caller,
                                    const process_key& parent_key) {
  ++stats_.num_duplicates;
  if (ev.source == fact_source::audit) {
    // Audit stamps the syscall's entry, the exact start, and names the
    // caller, whose program the child runs until it execs (the connector
    // names the parent, which CLONE_PARENT makes the caller's parent).
    set_start(x, ev.id, fact_origin::audit);
    if (x.audit_execs == 0 && x.other_execs == 0) {
      x.image = caller.image;
      x.name.inherit(caller.name.comm);
    }
    if (caller.runtime && caller.runtime->role == runtime_facts::joining)
      x.runtime = caller.runtime;
    inherit_lineage(x, caller);
  } else if (x.fork_ppid != parent_key.pid) {
    // The connector names the kernel's real parent, which audit infers
    // (CLONE_PARENT is invisible in a clone3 record).
    bool unchanged = x.parent.pid == x.fork_ppid;
    x.fork_ppid = parent_key.pid;
    if (unchanged) {
      set_parent(x, parent_for_record(parent_key.pid, x.start),
                 fact_origin::proc_connector);
      x.parent_at = x.start;
    }
  }
  adopt_cgroup(x, ev);
}

node* process_tree::impl::namespaced_twin(int32_t parent_pid, uint64_t t) {
  auto* parent = lifetime_at(parent_pid, t);
  if (parent == nullptr)
    return nullptr;
  node* best = nullptr;
  for (auto& key : parent->children) {
    auto* c = find_node(key);
    if (c == nullptr || c->parent != parent->key || !c->has_start
        || c->start_origin != fact_origin::proc_connector)
      continue;
    auto start = stamp_ms(c->start);
    if (start < t || start - t > window_ms())
      continue;
    if (best == nullptr || c->start < best->start)
      best = c;
  }
  return best;
}

void process_tree::impl::revive(node& n) {
  auto old_end = n.end;
  n.state = process_state::running;
  n.cause = vanish_cause::none;
  n.end = event_id{};
  n.end_origin = fact_origin::unknown;
  n.exit_code = 0;
  n.signal = 0;
  // Undo what the false end did. Its children never left the thread group;
  // a container init's namespace never died. The reap it requested is
  // stale: reap() spares a running process, and its next end requests a
  // new generation.
  auto kids = n.children;
  for (auto& key : kids) {
    auto* c = find_node(key);
    if (c != nullptr && c->parent != n.key
        && c->parent_origin == fact_origin::inferred && c->parent_at == old_end)
      set_parent(*c, &n, fact_origin::proc_connector);
  }
  if (n.container_init && n.container && n.container->end == old_end) {
    n.container->end.reset();
    for (auto& key : n.container->members) {
      auto* m = find_node(key);
      if (m != nullptr && m->state == process_state::vanished
          && m->cause == vanish_cause::namespace_teardown
          && m->end == old_end) {
        m->state = process_state::running;
        m->cause = vanish_cause::none;
        m->end = event_id{};
        m->end_origin = fact_origin::unknown;
        m->signal = 0;
      }
    }
  }
  ++stats_.num_revived;
}

void process_tree::impl::adopt_cgroup(node& n, const process_event& ev) {
  // /proc/<pid>/cgroup is the container's own word: it beats lineage. It
  // makes a member, never an init (a `docker exec` is in the cgroup too).
  if (ev.container.empty())
    return;
  n.container_from_cgroup = true;
  if (n.container && n.container->id == ev.container)
    return;
  auto& c = containers_[ev.container];
  if (!c || c->end) {
    c = std::make_shared<container_state>();
    c->id = ev.container;
    c->runtime = runtime_of_cgroup_container(ev.container);
    c->first_seen = ev.id;
    container_events_.push_back({true, c->id, c->runtime, 0, ev.id});
    watch_container(c->id);
  }
  n.container = c;
  c->members.push_back(n.key);
  // Containers get their own pid namespace: from now on this process's
  // `exit=` values are namespace pids.
  n.in_pid_ns = true;
}

// -- containers ---------------------------------------------------------------

std::string process_tree::impl::shim_namespace(const node& n) const {
  int depth = 0;
  for (auto* a = find_node(n.parent); a != nullptr && depth < 16;
       a = find_node(a->parent), ++depth)
    if (a->runtime && a->runtime->role == runtime_facts::shim)
      return a->runtime->ns;
  return {};
}

std::shared_ptr<container_state>
process_tree::impl::container_for(const std::string& ns, const std::string& id,
                                  bool plain, bool create_new,
                                  const event_id& at) {
  std::string prefix = plain ? opts_.runc_prefix : ns;
  std::string runtime = plain ? "runc" : "containerd";
  if (!plain) {
    for (auto& [from, to] : opts_.namespace_prefixes) {
      if (from == ns) {
        prefix = to;
        break;
      }
    }
    if (ns == "moby")
      runtime = "docker";
  }
  auto full = prefix.empty() ? id : prefix + "/" + id;
  auto i = containers_.find(full);
  if (i != containers_.end() && (!create_new || !i->second->end))
    return i->second;
  if (!create_new)
    return nullptr;
  // A new container, or one whose id was used before and ended.
  auto c = std::make_shared<container_state>();
  c->id = full;
  c->runtime = runtime;
  c->first_seen = at;
  containers_[full] = c;
  container_events_.push_back({true, full, runtime, 0, at});
  watch_container(full);
  return c;
}

void process_tree::impl::recognise_runtime(node& n, const process_event& ev,
                                           time_point now,
                                           std::vector<reap_request>& reaps) {
  auto runc = parse_runc(ev.argv, ev.exe);
  if (runc && runc->command == runc_command::init) {
    // runc's init helper (and its re-exec from a memfd): it and the
    // children it clones are on their way into the container of the runc
    // that started it.
    auto* parent = find_node(n.parent);
    if (parent != nullptr && parent->runtime
        && parent->runtime->role == runtime_facts::runc) {
      auto facts = std::make_shared<runtime_facts>();
      facts->role = runtime_facts::joining;
      facts->container = parent->runtime->container;
      facts->creates = parent->runtime->creates;
      n.runtime = std::move(facts);
    } else {
      runtime_refused(ev, runc);
    }
    return;
  }
  if (n.runtime && n.runtime->role == runtime_facts::joining) {
    // The first exec of anything else is the container's process: runc has
    // put it into the container's cgroup and namespaces by now.
    auto facts = n.runtime;
    n.runtime.reset();
    // The cgroup (a connector read) may have made it a member first, under
    // the name the cgroup gives (`<cgroup parent>/<id>` for plain runc): it
    // stays, and the lineage still tells it is the init.
    if (facts->container && n.container != facts->container
        && !n.container_from_cgroup) {
      n.container = facts->container;
      n.container->members.push_back(n.key);
      n.in_pid_ns = true;
    }
    if (facts->container && facts->creates && n.container
        && n.container->init.pid == 0) {
      n.container_init = true;
      n.container->init = n.key;
      n.vpid = init_vpid(n.vpid);
    }
    return;
  }
  n.runtime.reset();
  if (runtime_refused(ev, runc))
    return;
  if (runc && runc->command != runc_command::other) {
    auto ns = shim_namespace(n);
    if (ns.empty())
      ns = runc->ns;
    bool plain = ns.empty();
    if (id_refused(ev, ns, runc->id))
      return;
    if (runc->command == runc_command::stop) {
      if (auto c = container_for(ns, runc->id, plain, false, ev.id))
        teardown(*c, ev.id, nullptr, now, reaps);
      return;
    }
    auto facts = std::make_shared<runtime_facts>();
    facts->role = runtime_facts::runc;
    facts->creates = runc->command == runc_command::create;
    facts->foreground = runc->foreground;
    facts->container =
        container_for(ns, runc->id, plain, facts->creates, ev.id);
    if (facts->container)
      n.runtime = std::move(facts);
    return;
  }
  if (auto shim = parse_shim(ev.argv, ev.exe)) {
    if (shim->serves && id_refused(ev, shim->ns, shim->id))
      return;
    auto facts = std::make_shared<runtime_facts>();
    facts->role = runtime_facts::shim;
    facts->ns = shim->ns;
    facts->serves = shim->serves;
    if (shim->serves)
      facts->container = container_for(shim->ns, shim->id, false, true, ev.id);
    n.runtime = std::move(facts);
    // containerd shims set PR_SET_CHILD_SUBREAPER: a container's init
    // goes to its shim when runc exits.
    n.subreaper = true;
  }
}

// -- evidence (see container_evidence) -----------------------------------------

bool process_tree::impl::runtime_refused(const process_event& ev,
                                         const std::optional<runc_args>& runc) {
  auto argv0 = ev.argv.empty() ? std::string_view{} : ev.argv[0];
  if (!names_runtime(argv0, ev.exe))
    return false;
  // The connector's exec carries no uid: audit's report of it judges.
  if (ev.uid == process_event::unset_id)
    return true;
  runtime_facts_seen seen{ev.exe, ev.uid, ev.euid, true};
  if (opts_.binary_root_owned
      && is_runtime_binary(ev.exe, opts_.runtime_binaries))
    seen.binary_root_owned = opts_.binary_root_owned(ev.exe);
  auto why = check_runtime(seen, opts_.runtime_binaries);
  if (!why)
    return false;
  if (runc && runc->command == runc_command::stop)
    why = claim_rejection::argv_only_delete;
  refuse(*why, ev);
  return true;
}

bool process_tree::impl::id_refused(const process_event& ev,
                                    const std::string& ns,
                                    const std::string& id) {
  if (valid_runtime_id(ns, id))
    return false;
  refuse(claim_rejection::bad_id, ev);
  return true;
}

void process_tree::impl::refuse(claim_rejection why, const process_event& ev) {
  ++stats_.claims_rejected[static_cast<size_t>(why)];
  if (claim_notes_.size() < 32)
    claim_notes_.push_back(claim_note(why, ev.pid, ev.uid, ev.exe, ev.argv));
}

void process_tree::impl::watch_container(const std::string& id) {
  if (!opts_.keep_exited)
    unproven_.emplace_back(id, now_ + opts_.exit_grace);
}

bool process_tree::impl::held_by_runtime(const container_state& c) const {
  for (auto& [key, n] : nodes_)
    if (n.running() && n.runtime && n.runtime->container.get() == &c)
      return true;
  return false;
}

void process_tree::impl::drop_unproven(const event_id& at, time_point now) {
  // Those looked at again go to the back: each entry once per call.
  for (auto n = unproven_.size();
       n > 0 && !unproven_.empty() && unproven_.front().second <= now; --n) {
    auto id = std::move(unproven_.front().first);
    unproven_.pop_front();
    auto i = containers_.find(id);
    if (i == containers_.end())
      continue;
    auto& c = *i->second;
    auto* init = find_node(c.init);
    if (!c.members.empty() || (init != nullptr && init->running()))
      continue;
    if (held_by_runtime(c)) {
      watch_container(id); // a shim or runc still holds it: look again
      continue;
    }
    if (!c.end)
      container_events_.push_back({false, c.id, c.runtime, c.init.pid, at});
    containers_.erase(i);
    ++stats_.num_containers_dropped;
  }
}

// -- reconciliation with /proc ------------------------------------------------

namespace {

event_id stamp_of(uint64_t ms) {
  return event_id{ms / 1000, static_cast<uint32_t>(ms % 1000), 0};
}

/// When a lifetime began, as far as the table knows: its fork's stamp, or
/// the first sight of it, when it surely existed.
uint64_t begin_ms(const node& n) {
  return stamp_ms(n.has_start ? n.start : n.key.first_seen);
}

} // namespace

bool process_tree::impl::same_start(const node& n,
                                    uint64_t proc_start_ms) const {
  // /proc never dates a process after its true start; audit's fork stamp
  // (the clone's entry) may precede it by up to the window; a first sight
  // comes after it.
  auto begin = begin_ms(n);
  if (proc_start_ms > begin + window_ms())
    return false;
  // /proc dates up to the tolerance early; a connector's fork stamp (its
  // receipt) may follow the start by the window.
  return !n.has_start || proc_start_ms + tolerance_ms() + window_ms() >= begin;
}

bool process_tree::impl::newer_than_scan(const node& n,
                                         uint64_t scan_ms) const {
  // A fork stamped up to the window before the scan may have made its
  // child after the scan passed its pid.
  return begin_ms(n) + window_ms() > scan_ms;
}

node* process_tree::impl::running_lifetime(int32_t pid) {
  auto first = nodes_.lower_bound(process_key{pid, event_id{}});
  auto last = nodes_.lower_bound(process_key{pid + 1, event_id{}});
  for (auto i = last; i != first;) {
    --i;
    if (i->second.running())
      return &i->second;
  }
  return nullptr;
}

void process_tree::impl::add_from_proc(const proc_process& p, node& n,
                                       const event_id& at, time_point now,
                                       std::vector<reap_request>& reaps) {
  // A pending fork is its own only if stamped where /proc's start allows.
  auto start = p.start_ms;
  link_new(n, p.ppid, at, fact_origin::proc_scan,
           start - std::min(start, window_ms()), start + tolerance_ms());
  process_event ev;
  ev.action = process_action::exec;
  ev.source = fact_source::proc_scan;
  ev.id = at;
  ev.pid = p.pid;
  ev.ppid = p.ppid;
  ev.comm = p.comm;
  ev.exe = p.exe;
  ev.argv = p.argv;
  ev.cwd = p.cwd;
  ev.uid = p.uid;
  ev.euid = p.euid;
  ev.pgid = p.pgid;
  ev.sid = p.sid;
  ev.vpid = p.vpid;
  auto claim = classify_cgroup(p.cgroup);
  if (p.cgroup_delegated && !claim.container.empty())
    claim = {{}, claim_rejection::delegated_cgroup};
  ev.container = std::move(claim.container);
  if (claim.rejected)
    refuse(*claim.rejected, ev);
  // As the bootstrap's exec would: the image, a runtime's role (a shim
  // adopts orphans), the container.
  fill_subject_facts(n, ev);
  if (takes_image(n, ev))
    take_image(n, ev, now, reaps);
  adopt_cgroup(n, ev);
}

void process_tree::impl::check_running(
  const std::unordered_map<int32_t, const proc_process*>& alive,
  const event_id& at, time_point now, std::vector<reap_request>& reaps,
  reconcile_result& result) {
  auto t = stamp_ms(at);
  // Keys first: an end reparents orphans and may open a reaper.
  std::vector<process_key> running;
  for (auto& [key, n] : nodes_)
    if (n.running())
      running.push_back(key);
  for (auto& key : running) {
    auto* n = find_node(key);
    if (n == nullptr || !n->running())
      continue; // A container's end took it along.
    if (newer_than_scan(*n, t)) {
      ++result.num_deferred;
      continue;
    }
    auto i = alive.find(key.pid);
    if (i == alive.end()) {
      // Gone when the scan looked: `at` bounds its death.
      vanish(*n, vanish_cause::gone_from_proc, at, now, reaps,
             fact_origin::proc_scan);
      continue;
    }
    auto next = i->second->start_ms;
    if (same_start(*n, next)) {
      // A program may rename itself after its exec (busybox as
      // /proc/self/exe); a pid known only as a parent is added below.
      if (!n->name.comm.empty() && stamp_ms(n->last_exec) + window_ms() <= t)
        n->name.take(i->second->comm, at, true);
      continue;
    }
    // Another process holds the pid: the old one died before it started.
    // End it no later than the new one's fork can be stamped, so that a
    // late report of that fork finds the new lifetime, not the old.
    auto end = std::clamp(next - std::min(next, window_ms()), begin_ms(*n), t);
    vanish(*n, vanish_cause::pid_reused, stamp_of(end), now, reaps,
           fact_origin::proc_scan);
  }
}

reconcile_result
process_tree::impl::reconcile(const std::vector<proc_process>& live,
                              const event_id& at, time_point now,
                              std::vector<reap_request>& reaps) {
  reconcile_result result;
  now_ = std::max(now_, now);
  drop_unproven(at, now);
  std::unordered_map<int32_t, const proc_process*> alive;
  for (auto& p : live)
    if (p.pid > 0 && is_live(p))
      alive.emplace(p.pid, &p);
  if (alive.empty())
    return result;
  ++stats_.num_reconciles;
  auto t = stamp_ms(at);
  auto vanished_before = stats_.num_vanished;
  // Ends first, so that a pid whose holder changed is free for its new
  // one.
  check_running(alive, at, now, reaps, result);
  // Adds, parents before children (a parent starts no later), so that a
  // child links to its parent's new lifetime.
  std::vector<const proc_process*> order;
  order.reserve(alive.size());
  for (auto& [pid, p] : alive)
    order.push_back(p);
  std::sort(order.begin(), order.end(), [](auto* x, auto* y) {
    return std::tie(x->start_ms, x->pid) < std::tie(y->start_ms, y->pid);
  });
  for (auto* p : order) {
    // Its fork may still be on its way (stamped after the scan began):
    // merged into a lifetime first seen at the scan it would look like
    // the pid's next holder.
    if (p->start_ms + tolerance_ms() + window_ms() > t) {
      ++result.num_deferred;
      continue;
    }
    // A pid the table knows only as someone's parent takes /proc's facts.
    if (auto* r = running_lifetime(p->pid);
        r != nullptr && !r->image && r->name.comm.empty() && !r->has_start
        && r->parent.pid == 0 && same_start(*r, p->start_ms)) {
      add_from_proc(*p, *r, at, now, reaps);
      ++result.num_added;
      continue;
    }
    bool held = false;
    bool newer = false;
    auto first = nodes_.lower_bound(process_key{p->pid, event_id{}});
    auto last = nodes_.lower_bound(process_key{p->pid + 1, event_id{}});
    for (auto i = first; i != last && !held && !newer; ++i) {
      // Running: it matched above, or it is newer than the scan. Ended
      // but matching: the table saw it end (after the scan), or inferred
      // it; either way no second lifetime for one process.
      held = i->second.running() || same_start(i->second, p->start_ms);
      newer = newer_than_scan(i->second, t);
    }
    if (newer) {
      ++result.num_deferred;
      continue;
    }
    if (held)
      continue;
    // First seen at the scan: it surely existed then. Its start stays
    // unknown rather than /proc's second-rounded guess, so that a late
    // fork or record of its own, stamped before the scan, merges into it
    // instead of looking like the pid's next holder.
    add_from_proc(*p, create(p->pid, at), at, now, reaps);
    ++result.num_added;
  }
  // Parents, as a record's ppid= corrects them. The ends above reparented
  // the orphans of the dead by rule; /proc names the reaper that took them.
  for (auto* p : order) {
    if (p->ppid <= 0)
      continue;
    auto* n = running_lifetime(p->pid);
    if (n == nullptr || newer_than_scan(*n, t) || !same_start(*n, p->start_ms))
      continue;
    auto before = n->parent;
    n->ids.take(p->pgid, p->sid, at);
    n->vpid = p->vpid > 0 ? p->vpid : n->vpid;
    correct_parent(*n, p->ppid, at, fact_origin::proc_scan, now, reaps);
    if (n->parent != before)
      ++result.num_parents_corrected;
  }
  result.num_ended = stats_.num_vanished - vanished_before;
  stats_.num_reconcile_ended += result.num_ended;
  stats_.num_reconcile_added += result.num_added;
  stats_.num_reconcile_parents += result.num_parents_corrected;
  return result;
}

// -- reaping ------------------------------------------------------------------

bool process_tree::impl::reap(const process_key& key, uint64_t generation) {
  auto i = nodes_.find(key);
  if (i == nodes_.end())
    return false;
  auto& n = i->second;
  if (n.running() || n.reap_generation != generation)
    return false;
  if (!orphans_.empty())
    settle_orphans(orphans_.take_of(key));
  auto end_ms = n.end_ms();
  if (n.container) {
    auto& members = n.container->members;
    members.erase(std::remove(members.begin(), members.end(), key),
                  members.end());
    if (members.empty() && n.container->end) {
      auto c = containers_.find(n.container->id);
      if (c != containers_.end() && c->second == n.container)
        containers_.erase(c);
    } else if (members.empty()) {
      watch_container(n.container->id);
    }
  }
  if (auto ns = namespaced_.find(key.pid); ns != namespaced_.end()) {
    auto& list = ns->second;
    auto old = std::remove_if(list.begin(), list.end(), [&](auto& p) {
      return stamp_ms(p.at) <= end_ms;
    });
    num_namespaced_ -= static_cast<size_t>(list.end() - old);
    list.erase(old, list.end());
    if (list.empty())
      namespaced_.erase(ns);
  }
  recent_.emplace_back(key.pid, end_ms);
  recent_index_.emplace(key.pid, end_ms);
  while (recent_.size() > opts_.recently_exited) {
    auto [pid, ms] = recent_.front();
    recent_.pop_front();
    auto [first, last] = recent_index_.equal_range(pid);
    for (auto j = first; j != last; ++j) {
      if (j->second == ms) {
        recent_index_.erase(j);
        break;
      }
    }
  }
  nodes_.erase(i);
  ++stats_.num_reaped;
  return true;
}

// Past max-processes, ended lifetimes go oldest first; one still a running
// process's parent stays (reparenting makes that rare). What is left over
// budget runs, and stays (see memory_budget.hpp).
void process_tree::impl::keep_budget() {
  auto gone = [this](const process_key& key) {
    auto* n = find_node(key);
    return n == nullptr || n->running();
  };
  auto evict = [&](const process_key& key) {
    if (gone(key))
      return false;
    auto& n = *find_node(key);
    for (auto& c : n.children)
      if (auto* child = find_node(c); child != nullptr && child->running()
                                       && child->parent == key)
        return false;
    return reap(key, n.reap_generation);
  };
  auto max = opts_.budget.max_processes;
  stats_.budget.num_evicted +=
    ended_.enforce(max, [this] { return nodes_.size(); }, evict);
  budget_full_ = nodes_.size() > max;
  ended_.compact(nodes_.size(), gone);
}

// -- queries ------------------------------------------------------------------

process_info process_tree::impl::info(const node& n) const {
  process_info x;
  x.key = n.key;
  x.pid = n.key.pid;
  x.ppid = n.parent.pid;
  x.parent = n.parent;
  x.fork_ppid = n.fork_ppid;
  x.comm = n.name.comm;
  x.pgid = n.ids.pgid;
  x.sid = n.ids.sid;
  if (n.image) {
    x.exe = n.image->exe;
    x.argv = split_argv(n.image->args, n.image->argc);
    x.cwd = n.image->cwd;
  }
  x.uid = n.uid;
  x.euid = n.euid;
  x.auid = n.auid;
  if (n.has_start)
    x.start = n.start;
  if (!n.running())
    x.end = n.end;
  x.state = n.state;
  x.cause = n.cause;
  x.exit_code = n.exit_code;
  x.signal = n.signal;
  if (n.container) {
    x.container = n.container->id;
    x.container_runtime = n.container->runtime;
  }
  x.container_init = n.container_init;
  x.vpid = n.vpid;
  if (auto* parent = find_node(n.parent))
    x.parent_vpid = parent->vpid;
  x.threads = n.threads;
  x.execs = std::max(n.audit_execs, n.other_execs);
  x.subreaper = n.subreaper;
  x.parent_origin = n.parent_origin;
  x.exec_origin = n.exec_origin;
  x.start_origin = n.start_origin;
  x.end_origin = n.end_origin;
  return x;
}

// -- the public face ----------------------------------------------------------

process_tree::process_tree() : process_tree(options{}) {}

process_tree::process_tree(options opts)
    : impl_(std::make_unique<impl>(std::move(opts))) {}

process_tree::~process_tree() = default;

process_tree::process_tree(process_tree&&) noexcept = default;

process_tree& process_tree::operator=(process_tree&&) noexcept = default;

process_tree::process_tree(const process_tree& other)
  : impl_(std::make_unique<impl>(*other.impl_)) {
}

bool process_tree::cap_args(process_event& event) {
  if (!cap_event_args(event, impl_->opts_.budget.max_args_bytes))
    return false;
  ++impl_->stats_.budget.num_args_truncated;
  return true;
}

void process_tree::apply(const process_event& event, time_point now,
                         std::vector<reap_request>& reaps) {
  impl_->apply(event, now, reaps);
  impl_->keep_budget();
}

reconcile_result process_tree::reconcile(const std::vector<proc_process>& live,
                                         const event_id& at, time_point now,
                                         std::vector<reap_request>& reaps) {
  auto result = impl_->reconcile(live, at, now, reaps);
  impl_->keep_budget();
  return result;
}

bool process_tree::reap(const process_key& key, uint64_t generation) {
  return impl_->reap(key, generation);
}

std::optional<process_info> process_tree::find(int32_t pid) const {
  if (auto* n = impl_->newest(pid))
    return impl_->info(*n);
  return std::nullopt;
}

std::optional<process_info> process_tree::find(const process_key& key) const {
  if (auto* n = impl_->find_node(key))
    return impl_->info(*n);
  return std::nullopt;
}

namespace {

process_view view_of(const node& n) {
  process_view x;
  x.key = n.key;
  x.pid = n.key.pid;
  x.ppid = n.parent.pid;
  x.parent = n.parent;
  x.pgid = n.ids.pgid;
  x.sid = n.ids.sid;
  x.comm = n.name.comm;
  if (n.image) {
    x.exe = n.image->exe;
    x.joined_args = &n.image->args;
    x.argc = n.image->argc;
  }
  if (n.has_start)
    x.start = n.start;
  if (n.container) {
    x.container = n.container->id;
    x.container_runtime = n.container->runtime;
  }
  x.vpid = n.vpid;
  x.container_init = n.container_init;
  return x;
}

} // namespace

std::optional<process_view> process_tree::view(int32_t pid) const {
  if (auto* n = impl_->newest(pid))
    return view_of(*n);
  return std::nullopt;
}

std::optional<process_view> process_tree::view(const process_key& key) const {
  if (auto* n = impl_->find_node(key))
    return view_of(*n);
  return std::nullopt;
}

std::optional<std::string_view> process_tree::container_of(int32_t pid) const {
  auto* n = impl_->newest(pid);
  if (n == nullptr)
    return std::nullopt;
  if (n->container)
    return std::string_view{n->container->id};
  return std::string_view{};
}

std::vector<process_info> process_tree::snapshot() const {
  std::vector<process_info> out;
  out.reserve(impl_->nodes_.size());
  for (auto& [key, n] : impl_->nodes_)
    out.push_back(impl_->info(n));
  return out;
}

std::vector<process_info>
process_tree::container_tree(std::string_view id) const {
  std::vector<process_info> out;
  for (auto& [key, n] : impl_->nodes_)
    if (n.container && n.container->id == id)
      out.push_back(impl_->info(n));
  return out;
}

std::vector<process_info> process_tree::ancestry(int32_t pid) const {
  std::vector<process_info> out;
  int depth = 0;
  for (auto* n = impl_->newest(pid); n != nullptr && depth < max_depth;
       n = impl_->find_node(n->parent), ++depth)
    out.push_back(impl_->info(*n));
  return out;
}

std::vector<process_start> process_tree::take_starts() {
  auto result = std::exchange(impl_->starts_, {});
  // The parent as the table has it now (a fork sets it after the start).
  for (auto& s : result)
    if (auto* n = impl_->find_node(s.key))
      s.parent = n->fork_ppid;
  return result;
}

std::vector<container_event> process_tree::take_container_events() {
  return std::exchange(impl_->container_events_, {});
}

std::vector<container_info> process_tree::containers() const {
  std::vector<container_info> out;
  for (auto& [id, c] : impl_->containers_) {
    container_info x;
    x.id = c->id;
    x.runtime = c->runtime;
    x.init_pid = c->init.pid;
    x.first_seen = c->first_seen;
    x.end = c->end;
    for (auto& key : c->members) {
      if (auto* m = impl_->find_node(key)) {
        ++x.num_processes;
        if (m->running())
          ++x.num_running;
      }
    }
    out.push_back(std::move(x));
  }
  std::sort(out.begin(), out.end(),
            [](auto& x, auto& y) { return x.first_seen < y.first_seen; });
  return out;
}

size_t process_tree::size() const {
  return impl_->nodes_.size();
}

std::vector<std::string> process_tree::take_claim_notes() {
  return std::exchange(impl_->claim_notes_, {});
}

const tree_stats& process_tree::stats() const {
  return impl_->stats_;
}

// -- names --------------------------------------------------------------------

const char* to_string(process_state x) {
  switch (x) {
  case process_state::running:
    return "running";
  case process_state::exited:
    return "exited";
  case process_state::killed:
    return "killed";
  case process_state::vanished:
    return "vanished";
  }
  return "?";
}

const char* to_string(vanish_cause x) {
  switch (x) {
  case vanish_cause::none:
    return "none";
  case vanish_cause::namespace_teardown:
    return "namespace_teardown";
  case vanish_cause::pid_reused:
    return "pid_reused";
  case vanish_cause::orphaned_children:
    return "orphaned_children";
  case vanish_cause::gone_from_proc:
    return "gone_from_proc";
  }
  return "?";
}

const char* to_string(fact_origin x) {
  switch (x) {
  case fact_origin::unknown:
    return "unknown";
  case fact_origin::audit:
    return "audit";
  case fact_origin::proc_connector:
    return "proc_connector";
  case fact_origin::proc_scan:
    return "proc_scan";
  case fact_origin::inferred:
    return "inferred";
  }
  return "?";
}

} // namespace auditree
