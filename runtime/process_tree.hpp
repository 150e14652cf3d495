#pragma once

// The process table: every process lifetime the agent knows of, built from
// process events that arrive out of order, with pids reused and deaths that
// audit never reports. Pure: time is passed in, reaps are returned as
// requests for the caller (the tree actor) to schedule.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/container_event.hpp"
#include "messages/process_event.hpp"
#include "runtime/memory_budget.hpp"
#include "runtime/container_evidence.hpp"
#include "runtime/joined_argv.hpp"
#include "runtime/proc_scan.hpp"

namespace auditree {

/// Identifies one process lifetime. A reused pid is a new lifetime with a
/// new key. `first_seen` is the stamp of the event that first showed this
/// lifetime to the table (its fork when the fork came first); it never
/// changes, even when a late fork later tells the true start.
struct process_key {
  /// Thread-group id in the initial pid namespace.
  int32_t pid = 0;
  /// Stamp of the event that opened this lifetime in the table.
  event_id first_seen;

  friend bool operator==(const process_key& x, const process_key& y) {
    return x.pid == y.pid && x.first_seen == y.first_seen;
  }
  friend bool operator!=(const process_key& x, const process_key& y) {
    return !(x == y);
  }
  friend bool operator<(const process_key& x, const process_key& y) {
    return x.pid != y.pid ? x.pid < y.pid : x.first_seen < y.first_seen;
  }
};

/// Where a lifetime stands, as far as the table knows.
enum class process_state : uint8_t {
  running,  ///< No sign of its end yet.
  exited,   ///< exit_group or a connector exit, with its status.
  killed,   ///< A record named the fatal signal (ANOM_ABEND, connector).
  vanished, ///< Gone without a record of its own; `end` is an upper bound.
};

/// Why the table decided that a process vanished.
enum class vanish_cause : uint8_t {
  none,               ///< It did not vanish.
  namespace_teardown, ///< Its container's init died or was stopped.
  pid_reused,         ///< Its pid was handed out again.
  orphaned_children,  ///< A child's record showed a new parent.
  gone_from_proc,     ///< A /proc scan no longer showed it.
};

/// Who told the table a fact. `inferred` facts follow from a rule (an
/// orphan's new parent, a teardown) and await a record to confirm them.
enum class fact_origin : uint8_t {
  unknown,        ///< Nobody yet.
  audit,          ///< An audit record.
  proc_connector, ///< The kernel's proc connector.
  proc_scan,      ///< A read of /proc.
  inferred,       ///< A rule of the table.
};

/// The origin of the facts an event's source reports.
inline fact_origin origin_of(fact_source x) {
  switch (x) {
    case fact_source::audit:
      return fact_origin::audit;
    case fact_source::proc_connector:
      return fact_origin::proc_connector;
    case fact_source::proc_scan:
      return fact_origin::proc_scan;
  }
  return fact_origin::unknown;
}

/// One process lifetime as a plain value: what queries return and what the
/// renderers print.
struct process_info {
  /// Which lifetime this is.
  process_key key;
  /// Same as `key.pid`.
  int32_t pid = 0;
  /// The current parent (after reparenting); 0 when unknown.
  int32_t ppid = 0;
  /// The current parent's lifetime; `first_seen` is zero when the table
  /// does not hold it (any more).
  process_key parent;
  /// The parent at fork (the caller's tgid, or its parent for
  /// CLONE_PARENT); 0 when unknown.
  int32_t fork_ppid = 0;
  /// `comm=` of the newest record (at most 15 bytes).
  std::string comm;
  /// Its process group and session (host pids; runtime/session_ids); 0
  /// when unknown.
  int32_t pgid = 0;
  int32_t sid = 0;
  /// The last exec's exe, argv and cwd; a process that never exec'd has
  /// its parent's (fork copies the image), or the exe= of its records.
  std::string exe;
  std::vector<std::string> argv;
  std::string cwd;
  /// Credentials; process_event::unset_id when unknown.
  uint32_t uid = process_event::unset_id;
  uint32_t euid = process_event::unset_id;
  uint32_t auid = process_event::unset_id;
  /// The stamp of the fork that created it, when that fork was seen.
  std::optional<event_id> start;
  /// When it ended (for `vanished`, the time the table learnt it).
  std::optional<event_id> end;
  process_state state = process_state::running;
  /// Why it vanished, for `vanished`.
  vanish_cause cause = vanish_cause::none;
  /// exit_group's status, for `exited`.
  int32_t exit_code = 0;
  /// The fatal signal, for `killed` (9 for a namespace teardown).
  int32_t signal = 0;
  /// Container id (`default/c-life-1`, `docker/<64-hex>`, ...); empty on
  /// the host.
  std::string container;
  /// Its runtime (see container_info::runtime).
  std::string container_runtime;
  /// The first process of its container (its pid namespace's init).
  bool container_init = false;
  /// Its pid and its parent's inside its own pid namespace (a container's),
  /// see runtime/pid_views; 0 when unknown or the host's.
  int32_t vpid = 0;
  int32_t parent_vpid = 0;
  /// Threads created in this lifetime (CLONE_THREAD clones, and clone3
  /// children that never turned out to be processes).
  uint32_t threads = 0;
  /// Successful execs seen in this lifetime.
  uint32_t execs = 0;
  /// Known to adopt orphans (PR_SET_CHILD_SUBREAPER).
  bool subreaper = false;
  /// Who told the table each fact.
  fact_origin parent_origin = fact_origin::unknown;
  fact_origin exec_origin = fact_origin::unknown;
  fact_origin start_origin = fact_origin::unknown;
  fact_origin end_origin = fact_origin::unknown;
};

/// The fields of a lifetime the per-event path reads, viewing the table's
/// strings: valid until the table changes.
struct process_view {
  process_key key;
  int32_t pid = 0;
  int32_t ppid = 0;
  process_key parent;
  /// Process group and session, 0 when unknown.
  int32_t pgid = 0;
  int32_t sid = 0;
  std::string_view comm;
  std::string_view exe;
  /// The last exec's argv joined with NUL bytes; null when none was seen.
  const std::string* joined_args = nullptr;
  uint32_t argc = 0;
  std::optional<event_id> start;
  std::string_view container;
  std::string_view container_runtime;
  /// The pid inside its container's pid namespace; 0 when unknown.
  int32_t vpid = 0;
  bool container_init = false;

  std::vector<std::string> argv() const {
    return joined_args ? split_argv(*joined_args, argc)
                       : std::vector<std::string>{};
  }
};

/// One container as lineage shows it.
struct container_info {
  /// Full id, as process_info::container spells it.
  std::string id;
  /// `containerd`, `docker` or `runc`.
  std::string runtime;
  /// Its init's pid, 0 until the init exec'd.
  int32_t init_pid = 0;
  /// When lineage first named it.
  event_id first_seen;
  /// When its init died or runc stopped it.
  std::optional<event_id> end;
  /// Member lifetimes the table holds, and how many of them run.
  uint32_t num_processes = 0;
  uint32_t num_running = 0;
};

/// A lifetime whose start the table learnt from an audit fork event: that
/// fork made a process (not a thread), and this is its host pid. What the
/// stream announces (see start_gate).
struct process_start {
  /// The lifetime; `key.pid` is its host pid.
  process_key key;
  /// The stamp of the audit fork event that created it.
  event_id fork;
  /// The parent at fork (host pid; the caller's parent for CLONE_PARENT).
  int32_t parent = 0;
  /// The fork's `exit=` when the caller ran in another pid namespace (its
  /// pid there); 0 when it is the host pid.
  int32_t vpid = 0;
};

/// A removal for the caller to schedule: at `due`, call
/// `reap(key, generation)`.
struct reap_request {
  /// The ended lifetime.
  process_key key;
  /// Pass back to reap(); a newer request for the same lifetime wins.
  uint64_t generation = 0;
  /// `now` at the end plus the exit grace.
  std::chrono::steady_clock::time_point due;
  /// The host whose table holds it (see host_trees); empty: the local one.
  std::string host{};
};

/// Counters of one table.
struct tree_stats {
  /// Events applied.
  uint64_t num_events = 0;
  /// Lifetimes opened (including processes first named as a parent).
  uint64_t num_created = 0;
  /// A late fork that merged into the lifetime its child's records opened.
  uint64_t num_late_forks_merged = 0;
  /// A late fork for a pid that already exited: ignored, not resurrected.
  uint64_t num_late_forks_ignored = 0;
  /// Thread creations (CLONE_THREAD, and clone3 children that stayed
  /// unclaimed until their caller ended).
  uint64_t num_threads = 0;
  /// clone3 children confirmed as processes.
  uint64_t num_clone3_confirmed = 0;
  /// Namespaced fork children linked through their own records.
  uint64_t num_namespaced_linked = 0;
  /// Forks and execs a second source reported again (merged, not counted
  /// twice).
  uint64_t num_duplicates = 0;
  /// Lifetimes revived: the connector's exit of a thread-group leader whose
  /// non-leader thread exec'd, then the exec.
  uint64_t num_revived = 0;
  /// Orphans handed to a reaper by rule.
  uint64_t num_reparented = 0;
  /// Children of an ended parent left with it: nothing reports their own
  /// deaths, so whether they live is unknown (see orphan_watch).
  uint64_t num_orphans_kept = 0;
  /// Children of an ended parent that waited for the connector's word on
  /// their own end before moving.
  uint64_t num_orphans_waited = 0;
  /// A record's `ppid=` changed the parent the table had.
  uint64_t num_parent_corrections = 0;
  /// Lifetimes ended by inference (process_state::vanished).
  uint64_t num_vanished = 0;
  /// Lifetimes removed by reap().
  uint64_t num_reaped = 0;
  /// reconcile() calls, and their results summed (see reconcile_result).
  uint64_t num_reconciles = 0;
  uint64_t num_reconcile_ended = 0;
  uint64_t num_reconcile_added = 0;
  uint64_t num_reconcile_parents = 0;
  /// Events the table could not place: no pid or no child pid, or a late
  /// record of a lifetime that was reaped already.
  uint64_t num_ignored = 0;
  /// What the memory budget did (see memory_limits).
  budget_stats budget;
  /// Container claims refused, by reason (see container_evidence).
  claim_rejection_counts claims_rejected{};
  /// Containers dropped with no member and no init after the exit grace.
  uint64_t num_containers_dropped = 0;
};

/// What one process_tree::reconcile() changed.
struct reconcile_result {
  /// Running lifetimes ended: /proc did not show them or showed another
  /// process with their pid; plus what those ends took along (the rest of
  /// a container whose init was gone).
  uint64_t num_ended = 0;
  /// Live processes the table did not hold, added.
  uint64_t num_added = 0;
  /// Running lifetimes that got /proc's parent instead of theirs.
  uint64_t num_parents_corrected = 0;
  /// Pids left alone because the table knows them from events younger
  /// than the scan, or because the process is so young that its fork may
  /// still be on its way: the next scan decides.
  uint64_t num_deferred = 0;
};

/// The process table. Rules (see docs/kernel-facts.md):
/// - fork/vfork/clone children belong to the caller's tgid, or to its
///   parent with CLONE_PARENT; CLONE_THREAD creates no process.
/// - A clone3 child is pending until a record of its own (exec, exit_group)
///   or a /proc or connector fact shows it is a process.
/// - A caller inside a container's pid namespace reports the child's
///   namespace pid in `exit=`; that value is never taken as a host pid. The
///   child is linked when its own record (`pid=`, `ppid=`) arrives. A
///   caller is in one by runc's lineage, by a container's cgroup, or when
///   its `exit=` is one the host can no longer hand out (is_namespace_pid).
/// - Events are placed by time into the lifetime of the pid that was alive
///   then: an exec before its fork creates the process and the fork merges
///   into it; a fork for a pid that already exited does not resurrect it.
/// - An exit marks the process and requests a reap after the grace period;
///   orphans go to the nearest live subreaper ancestor in their pid
///   namespace, else the namespace's init, else pid 1, when they are known
///   to live (see orphan_watch); else they keep their parent. A later
///   `ppid=` corrects the parent (and proves the old one died).
/// - Containers come from lineage: a shim's `-namespace/-id`, runc's
///   `create/run/exec <id>`; the first exec of runc's init lineage joins the
///   container and every descendant inherits it. When the init exits, or
///   runc deletes or SIGKILLs the container, its other members vanish. An
///   event's `container` (from /proc/<pid>/cgroup) overrides lineage.
/// - Only kernel facts make a runtime: argv naming runc or a shim counts
///   when exe= is a configured runtime binary run as uid 0; else the claim
///   is refused and counted (a lookalike `runc delete` ends nothing). Ids
///   must fit their runtime's grammar. A container with no member and no
///   init that no runtime process holds is dropped after the exit grace.
/// - The same fork or exec reported by audit and the connector within
///   `cross_source_window` is one fact: audit's stamp and argv, the
///   connector's parent.
/// - A /proc scan is the truth about the moment it was taken, where events
///   were lost: reconcile() ends what it does not show, adds what the table
///   missed and corrects parents.
class process_tree {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  struct options {
    /// How long an ended process stays visible before its reap.
    std::chrono::milliseconds exit_grace{1000};
    /// Never reap: every lifetime stays, with its end (history checks).
    bool keep_exited = false;
    /// Reaped lifetimes remembered so that a late fork does not resurrect
    /// them.
    size_t recently_exited = 4096;
    /// Bound on clone3 children awaiting confirmation and on namespaced
    /// fork children awaiting their own records.
    size_t max_pending = 65536;
    /// Audit and the proc connector report the same fork, exec and exit,
    /// stamped a few milliseconds apart (syscall entry vs. receipt): reports
    /// of one pid from the two sources this close are one fact.
    std::chrono::milliseconds cross_source_window{500};
    /// How much earlier than the true start /proc may date a process. Its
    /// start is btime + starttime: btime is whole seconds, truncated (up to
    /// 1000 ms early), starttime whole ticks of 10 ms (USER_HZ 100),
    /// truncated too; 10 ms more for the millisecond cut of the stamps it
    /// is compared with. /proc never dates a process later than its start;
    /// audit dates its fork at the clone's entry, before the kernel takes
    /// the start late in copy_process (up to `cross_source_window`, which
    /// bounds clone entry to connector receipt).
    std::chrono::milliseconds proc_start_tolerance{1020};
    /// containerd namespace -> container id prefix. Docker runs its
    /// containers in namespace `moby` under the cgroup parent `docker`.
    std::vector<std::pair<std::string, std::string>> namespace_prefixes = {
        {"moby", "docker"}};
    /// Prefix for containers that plain `runc run/create` starts. Their
    /// cgroup parent lives in config.json, which no record shows; empty
    /// means the bare runc id.
    std::string runc_prefix;
    /// max-processes and max-args-bytes (runtime/memory_budget.hpp).
    memory_limits budget;
    /// Executables that may act as container runtimes; a process whose
    /// argv names one is a runtime only when its exe is one of these, it
    /// runs as uid 0 and binary_root_owned agrees (container_evidence).
    std::vector<std::string> runtime_binaries = default_runtime_binaries();
    /// Live: whether a runtime binary is owned and writable by root only
    /// (the tree actor's stat). Empty in replay, which has no binaries to
    /// stat: a log's exe= and uid= are the kernel's words, and the log is
    /// root's.
    std::function<bool(const std::string& exe)> binary_root_owned;
    /// A source reports every death (live, with the proc connector): a
    /// child still running when its parent ends is alive and moves to the
    /// reaper. Without one (replay, plugin) it keeps its parent.
    bool deaths_reported = false;
    /// How late such reports may come: children wait this long for the
    /// word of their own end before they move (0: at once).
    std::chrono::milliseconds orphan_wait{0};
  };

  process_tree();
  explicit process_tree(options opts);
  ~process_tree();
  process_tree(process_tree&&) noexcept;
  process_tree& operator=(process_tree&&) noexcept;
  /// A deep copy, for checkpoints.
  process_tree(const process_tree& other);

  /// Cuts an exec's argv to max-args-bytes and marks the event (counted),
  /// before apply(); the table cuts what it stores in any case.
  bool cap_args(process_event& event);

  /// Applies one process event at `now`; reaps it makes due are appended
  /// to `reaps` (none in keep-exited mode). Past max-processes, ended
  /// lifetimes are evicted after it, oldest first (memory_budget.hpp).
  void apply(const process_event& event, time_point now,
             std::vector<reap_request>& reaps);

  /// Corrects the table with a full /proc scan (`live`, as scan_proc()
  /// reads it) that began at wall-clock time `at`, where events were lost:
  /// - a running lifetime whose pid /proc does not show alive (zombies count
  ///   as gone), or shows with a start that cannot be its own, has ended:
  ///   it vanishes (gone_from_proc, or pid_reused), ended by proc_scan, and
  ///   its reap is requested in `reaps`;
  /// - a live process no lifetime of its pid matches is added with /proc's
  ///   facts (parent, image, credentials, container from the cgroup),
  ///   first seen at `at`, its start unknown; a pid the table knew only as
  ///   someone's parent takes the same facts;
  /// - a running lifetime whose parent is not /proc's gets /proc's parent,
  ///   and /proc's comm (a program may rename itself after its exec:
  ///   busybox, exec'd as /proc/self/exe, names itself after its applet),
  ///   unless its last exec is newer than the scan.
  /// Starts match when /proc's lies at most `proc_start_tolerance` +
  /// `cross_source_window` before the lifetime's fork stamp (a connector's
  /// stamp is its receipt) and at most the window after it; for a lifetime
  /// whose fork was never seen, no later than `first_seen` plus the window
  /// (it existed then). What the table learnt after
  /// `at - cross_source_window` is newer than the scan and stays; so does a
  /// process /proc dates less than tolerance + window before `at`, whose
  /// fork may still be on its way. An empty `live` is a failed scan (this
  /// agent runs), not a dead host: it changes nothing. /proc dates from the
  /// boot time as the wall clock sees it now: after a clock step larger
  /// than the tolerance (btime changed), every older lifetime would look
  /// like another process; skip such a sweep.
  reconcile_result reconcile(const std::vector<proc_process>& live,
                             const event_id& at, time_point now,
                             std::vector<reap_request>& reaps);

  /// Removes an ended lifetime if `generation` is still the one its reap
  /// was requested with. Returns whether it removed something; a stale
  /// timer (the lifetime is gone or rescheduled) is a no-op.
  bool reap(const process_key& key, uint64_t generation);

  /// The newest lifetime of `pid` as a view into the table, valid until
  /// the table changes: the per-event lineage reads self, parent and
  /// ancestors, where find()'s full copy was most of the replay's cost.
  std::optional<process_view> view(int32_t pid) const;

  /// One lifetime by key, as a view (see above).
  std::optional<process_view> view(const process_key& key) const;

  /// The newest lifetime of `pid`, if the table holds one.
  std::optional<process_info> find(int32_t pid) const;

  /// One lifetime by key.
  std::optional<process_info> find(const process_key& key) const;

  /// The container of the newest lifetime of `pid` (empty on the host), if
  /// the table holds one; valid until the table changes. For the per-event
  /// path, where find()'s full copy (argv split, strings) was a third of
  /// the tree's work.
  std::optional<std::string_view> container_of(int32_t pid) const;

  /// Every lifetime, ordered by pid, then by first_seen.
  std::vector<process_info> snapshot() const;

  /// The lifetimes of one container's members, ordered like snapshot().
  std::vector<process_info> container_tree(std::string_view id) const;

  /// The newest lifetime of `pid` followed by its parent, grandparent, ...
  /// up to the root (at most 4096 levels).
  std::vector<process_info> ancestry(int32_t pid) const;

  /// Containers that started (were first named) or stopped since the last
  /// call, in the order the table learnt it.
  std::vector<container_event> take_container_events();

  /// Processes whose audit fork the table placed since the last call, in
  /// the order it learnt it: at once for a fork known to make a process,
  /// later for a clone3 or namespaced child, when its own record (or the
  /// connector) showed it.
  std::vector<process_start> take_starts();

  /// Refused container claims since the last call, one line each for the
  /// log (at most 32 kept between calls; stats() counts them all).
  std::vector<std::string> take_claim_notes();

  /// Containers known from lineage, ordered by first_seen.
  std::vector<container_info> containers() const;

  /// Number of lifetimes held.
  size_t size() const;

  /// Counters since construction.
  const tree_stats& stats() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Milliseconds since the epoch of an audit stamp: the time order events
/// are placed in (serials carry no causal order across tasks).
inline uint64_t stamp_ms(const event_id& id) {
  return id.seconds * 1000 + id.millis;
}

/// Stable names for output and logs.
const char* to_string(process_state x);
/// Stable names for output and logs.
const char* to_string(vanish_cause x);
/// Stable names for output and logs.
const char* to_string(fact_origin x);

} // namespace auditree
