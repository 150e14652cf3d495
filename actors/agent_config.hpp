#pragma once

#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/timespan.hpp>

#include "actors/output_writer.hpp"
#include "actors/query_server.hpp"
#include "runtime/config_files.hpp"
#include "runtime/container_evidence.hpp"
#include "runtime/fault_plan.hpp"
#include "runtime/memory_budget.hpp"
#include "runtime/restart_policy.hpp"
#include "runtime/start_gate.hpp"

namespace auditree {

/// Every setting of auditree: read from the config file (`--config-file`,
/// else /etc/auditree/auditree.conf when present, else the built-in copy of
/// config/auditree.conf) and overridden on the command line as
/// `--auditree.KEY=VALUE`. The keys are documented in config/auditree.conf,
/// man/auditree.8 and README.md.
class agent_config : public caf::actor_system_config {
public:
  agent_config();

  /// Parses the command line (options may come before or after the
  /// command) and the config file. Returns an error message, or an empty
  /// string; the positional arguments end up in `command`.
  std::string parse_all(int argc, char** argv);

  /// Checks the values; returns an error message naming the key and the
  /// bad value, or an empty string.
  std::string validate() const;

  /// One line per auditree key: name, type, description.
  std::string help() const;

  /// CAF's own options too (scheduler, logging), for `--long-help`.
  std::string long_help() const;

  /// What `--help`, `-h`, `-?` (usage) or `--long-help` asked for.
  enum class help_kind { none, usage, with_caf };
  help_kind help_asked = help_kind::none;

  /// The rules to install: `rules-file` when set, else
  /// /etc/auditree/audit.rules when present, else the built-in copy of
  /// config/audit.rules.
  config_text rules() const;

  /// The command and its arguments, e.g. {"replay", "FILE"}.
  std::vector<std::string> command;

  // -- command flags (not config keys) ----------------------------------------

  /// `--tree`: print the final tree like pstree -p.
  bool print_tree = false;
  /// `--tree-json FILE`: write the final tree as a JSON array.
  std::string tree_json;
  /// `--keep-exited`: never reap, so the tree keeps a whole run's history.
  bool keep_exited = false;
  /// `--json`: CLI queries print JSON instead of text.
  bool json = false;
  /// `--container ID`: CLI queries look at one container.
  std::string container;
  /// `--host NAME`: CLI queries and replay's tree look at one host (a
  /// node= name, or `-` for the records without one).
  std::string host;

  /// Number of assembler actors; 0 = one per hardware thread.
  size_t assemblers = 0;
  /// An event without EOE closes this long after its first record.
  caf::timespan event_timeout = std::chrono::milliseconds{500};
  /// Where the JSON event stream goes: `-` for stdout or a file path;
  /// `none` (replay only) skips JSON altogether.
  std::string output = "-";
  /// Rotate the output file once it reaches this many bytes (0: never).
  uint64_t output_max_bytes = 0;
  /// Rotated output files kept (output.1 ... output.N).
  uint32_t output_keep = 5;
  /// Bytes of JSON that may wait for a slow consumer before lines are
  /// dropped (and counted).
  uint64_t output_queue = 16u << 20;
  /// error, warning, info or debug.
  std::string log_level = "info";
  /// How long an ended process stays in the tree before it is removed.
  caf::timespan exit_grace = std::chrono::seconds{1};
  /// Ancestors beyond the parent each stream event carries, up to pid 1
  /// or the container's init (auditree.process.ancestors); 0: none.
  size_t ancestors_depth = 0;
  /// How long a fork of the stream may wait for evidence that it made a
  /// process (clone3, a caller in a pid namespace) before it is dropped.
  /// The gate's own default, which config/auditree.conf repeats (tested).
  caf::timespan start_hold = start_gate::options{}.hold;
  /// Bound on forks waiting at once; past it the oldest is evicted.
  size_t start_max_held = start_gate::options{}.max_held;
  /// Executables that may act as container runtimes (see
  /// runtime/container_evidence): argv alone never makes a runtime.
  std::vector<std::string> runtime_binaries = default_runtime_binaries();
  /// Hosts named by node= the agent keeps apart; records of further hosts
  /// are refused (and counted).
  size_t max_hosts = 1024;
  /// The process table's memory budget (runtime/memory_budget.hpp): the
  /// lifetimes one host's table holds, and the argv bytes per process.
  size_t max_processes = memory_limits{}.max_processes;
  size_t max_args_bytes = memory_limits{}.max_args_bytes;

  // -- the live agent (auditree run) -----------------------------------------

  /// `multicast` (read-only, coexists with auditd), `unicast` (registers
  /// as the audit daemon) or `stdin` (records from auditd's plugin
  /// dispatcher; auditd owns rules and settings).
  std::string mode = "multicast";
  /// Rules to install while running (auditctl syntax); empty: see rules().
  std::string rules_file;
  /// The key that tags every rule the agent adds.
  std::string rule_key = "auditree";
  /// Raise the kernel's backlog_limit to at least this while running.
  uint32_t backlog_limit = 8192;
  /// SO_RCVBUF of the audit socket, in bytes.
  uint32_t receive_buffer = 64u << 20;
  /// The kernel's records go on at most this long after they arrived, in
  /// batches: fewer, larger messages.
  caf::timespan batch_delay = std::chrono::milliseconds{4};
  /// How often the kernel's lost/backlog counters are polled.
  caf::timespan status_interval = std::chrono::seconds{1};
  /// Each audit setting as found and as set is kept here while running,
  /// for `auditree repair` after a crash.
  std::string state_file = "/var/lib/auditree/audit-state";
  /// Also listen to the proc connector, the exit oracle for deaths audit
  /// never reports (needs CAP_NET_ADMIN).
  bool proc_connector = true;
  /// The same for the proc connector's events, off the latency path.
  caf::timespan connector_delay = std::chrono::milliseconds{25};
  /// How often the tree is reconciled with /proc (0: never).
  caf::timespan reconcile_interval = std::chrono::seconds{10};
  /// Load every live process from /proc at start.
  bool bootstrap = true;
  /// The query API's unix socket (mode 0600); also where the CLI asks.
  std::string socket = "/run/auditree/auditree.sock";
  /// Also serve the query API over HTTP on HOST:PORT (empty: off).
  std::string http;
  /// Allow `http` on a non-loopback address.
  bool http_allow_remote = false;
  /// The query API's bounds (see query_limits): connections open at once
  /// on HTTP and on the socket, and how long a request may take to arrive.
  size_t http_max_connections = query_limits{}.http_max_connections;
  size_t socket_max_connections = query_limits{}.socket_max_connections;
  caf::timespan request_read_timeout = query_limits{}.read_timeout;
  /// Print the tree to stderr this often (0: only on SIGUSR1).
  caf::timespan print_interval = caf::timespan{0};

  // -- supervision -------------------------------------------------------------

  /// Restarts one actor may use within `restart_window`; one more stops
  /// the agent.
  size_t restart_max = 5;
  caf::timespan restart_window = std::chrono::seconds{60};
  /// Delay of the first restart; doubles per consecutive restart up to
  /// `restart_backoff_max`.
  caf::timespan restart_backoff = std::chrono::milliseconds{100};
  caf::timespan restart_backoff_max = std::chrono::seconds{10};
  /// Audit events the tree applies between two checkpoints (and the
  /// assemblers keep for a new tree).
  uint64_t checkpoint_interval = 5000;
  /// Faults to inject, `ACTOR:throw|kill:at=N|every=N` (tests only).
  std::vector<std::string> faults;

  /// The restart policy's limits from the keys above.
  restart_options restart_limits() const;
  /// The parsed `faults`; validate() has checked them.
  std::vector<fault_spec> fault_specs() const;

  /// `--config-file`: empty when not given.
  std::string config_file;
  /// The config file read ("built-in" for the compiled-in one).
  std::string config_origin;

  /// The query server's bounds from the keys above.
  query_limits api_limits() const;

  /// The sink's options from the output keys.
  output_writer::options output_options() const;

  /// The number of assemblers to spawn once `assemblers` is resolved.
  size_t num_assemblers() const;

private:
  /// Takes auditree's own flags and the command out of argv; the rest
  /// (`--auditree.KEY=VALUE`, CAF's options) goes to `options`.
  std::string take_command_flags(int argc, char** argv, string_list& options);
  /// CAF's parse error in words, quoting the file's line.
  static std::string describe_parse_error(const std::string& text,
                                          const config_text& file);
  /// Unknown keys and values of the wrong type in the file's [auditree].
  std::string check_section(const config_text& file) const;
};

} // namespace auditree
