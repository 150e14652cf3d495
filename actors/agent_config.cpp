#include "actors/agent_config.hpp"

#include <algorithm>
#include <sstream>
#include <thread>

#include <caf/atom.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/settings.hpp>

#include "messages/type_ids.hpp"

namespace auditree {

agent_config::agent_config() {
  // Work stealing polls for work after every message and cost about half of
  // the live agent's CPU (bench/); a shared queue does the same work at half
  // the CPU. --scheduler.policy=stealing overrides.
  set("scheduler.policy", caf::atom("sharing"));
  // CAF names caf-application.ini in its option list; auditree reads this.
  config_file_path = std::string{system_config_dir} + "/auditree.conf";
  opt_group{custom_options_, "auditree"}
    .add(assemblers, "assemblers",
         "assembler actors (0 = one per hardware thread)")
    .add(event_timeout, "event-timeout",
         "close an event without EOE this long after its first record")
    .add(output, "output",
         "JSON event stream: '-' (stdout) or a file; replay also takes "
         "'none' (no JSON at all)")
    .add(output_max_bytes, "output-max-bytes",
         "rotate the output file at this size (0: never)")
    .add(output_keep, "output-keep", "rotated output files kept")
    .add(output_queue, "output-queue",
         "bytes that may wait for a slow consumer before lines are dropped")
    .add(log_level, "log-level", "error, warning, info or debug")
    .add(exit_grace, "exit-grace",
         "how long an ended process stays in the tree before removal")
    .add(ancestors_depth, "ancestors-depth",
         "ancestors beyond the parent each event carries, up to pid 1 or "
         "the container's init (auditree.process.ancestors; 0: none)")
    .add(start_hold, "start-hold",
         "how long a fork may wait for evidence that it made a process "
         "before the stream drops it as a thread")
    .add(start_max_held, "start-max-held",
         "forks that may wait for evidence at once; past it the oldest is "
         "dropped (evicted)")
    .add(runtime_binaries, "runtime-binaries",
         "executables that may act as container runtimes (a trailing * "
         "matches the rest of the name); a process claiming to be one "
         "counts only if its exe is listed, owned by root, and it runs as "
         "uid 0")
    .add(max_hosts, "max-hosts",
         "hosts named by node= kept apart; records of further hosts are "
         "refused")
    .add(max_processes, "max-processes",
         "processes one host's tree holds; past it ended ones are evicted, "
         "oldest first (running ones and their ancestors never)")
    .add(max_args_bytes, "max-args-bytes",
         "argv bytes kept per process; longer argv are cut and the event "
         "says so")
    .add(mode, "mode",
         "multicast (read-only, coexists with auditd), unicast (registers "
         "as the audit daemon) or stdin (an auditd plugin)")
    .add(rules_file, "rules-file",
         "audit rules to install (auditctl syntax); empty: "
         "/etc/auditree/audit.rules, else the built-in rules")
    .add(rule_key, "rule-key", "key that tags every rule the agent adds")
    .add(backlog_limit, "backlog-limit",
         "raise the kernel backlog_limit to at least this while running")
    .add(receive_buffer, "receive-buffer",
         "receive buffer of the audit socket, bytes")
    .add(batch_delay, "batch-delay",
         "records from the kernel go on at most this long after they "
         "arrived, in batches (0s: at once)")
    .add(status_interval, "status-interval",
         "how often kernel lost/backlog counters are polled")
    .add(state_file, "state-file",
         "where the audit settings as found and as set are kept while "
         "running, for auditree repair after a crash")
    .add(proc_connector, "proc-connector",
         "also listen to the proc connector for exits audit never reports")
    .add(connector_delay, "connector-delay",
         "proc connector events go on at most this long after they "
         "arrived, in batches (0s: at once)")
    .add(reconcile_interval, "reconcile-interval",
         "how often the tree is reconciled with /proc (0s: never)")
    .add(bootstrap, "bootstrap", "load every live process from /proc at start")
    .add(socket, "socket", "unix socket of the query API (mode 0600)")
    .add(http, "http",
         "also serve the query API on HOST:PORT over HTTP (empty: off)")
    .add(http_allow_remote, "http-allow-remote",
         "allow auditree.http on a non-loopback address")
    .add(http_max_connections, "http-max-connections",
         "HTTP connections open at once; further ones are closed at once "
         "(and counted)")
    .add(socket_max_connections, "socket-max-connections",
         "connections open at once on the unix socket, a budget apart from "
         "HTTP's")
    .add(request_read_timeout, "request-read-timeout",
         "a request must arrive whole (and its answer be taken) within "
         "this; slower clients are dropped (and counted)")
    .add(print_interval, "print-interval",
         "print the tree to stderr this often (0: only on SIGUSR1)")
    .add(restart_max, "restart-max",
         "restarts one actor may use within restart-window; one more stops "
         "the agent")
    .add(restart_window, "restart-window", "the window of restart-max")
    .add(restart_backoff, "restart-backoff",
         "delay of a first restart; doubles per consecutive restart")
    .add(restart_backoff_max, "restart-backoff-max",
         "the longest restart delay")
    .add(checkpoint_interval, "checkpoint-interval",
         "audit events the tree applies between two checkpoints (at "
         "least the processes it holds)")
    .add(faults, "faults",
         "faults to inject, [\"ACTOR:throw|kill|hang:at=N|every=N\", ...] "
         "(tests only; ACTOR: source, assembler-K, tree, sink, connector, "
         "sweeper)");
}

namespace {

std::string trim(std::string x) {
  auto b = x.find_first_not_of(" \t\r");
  auto e = x.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string{} : x.substr(b, e - b + 1);
}

std::string str(caf::string_view x) {
  return std::string{x.begin(), x.end()};
}

} // namespace

std::string agent_config::take_command_flags(int argc, char** argv,
                                             string_list& options) {
  // CAF stops at the first positional argument; auditree lets options
  // follow the command, as users of auditctl and docker expect.
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    // Takes the value of `--NAME VALUE` or `--NAME=VALUE` into `out`.
    auto value_of = [&](const std::string& name, std::string& out) {
      if (arg == name) {
        if (i + 1 == argc)
          return false;
        out = argv[++i];
      } else {
        out = arg.substr(name.size() + 1);
      }
      return true;
    };
    auto is = [&](const std::string& name) {
      return arg == name || arg.rfind(name + "=", 0) == 0;
    };
    if (arg == "--help" || arg == "-h" || arg == "-?") {
      help_asked = help_kind::usage;
    } else if (arg == "--long-help") {
      help_asked = help_kind::with_caf;
    } else if (arg == "--tree") {
      print_tree = true;
    } else if (arg == "--keep-exited") {
      keep_exited = true;
    } else if (is("--tree-json")) {
      if (!value_of("--tree-json", tree_json))
        return "--tree-json needs a file";
    } else if (arg == "--json") {
      json = true;
    } else if (is("--container")) {
      if (!value_of("--container", container))
        return "--container needs an id";
    } else if (is("--config-file")) {
      if (!value_of("--config-file", config_file) || config_file.empty())
        return "--config-file needs a file";
    } else if (is("--host")) {
      if (!value_of("--host", host))
        return "--host needs a name";
    } else if (arg.size() > 1 && arg[0] == '-') {
      options.push_back(std::move(arg));
    } else {
      command.push_back(std::move(arg));
    }
  }
  return {};
}

std::string agent_config::parse_all(int argc, char** argv) {
  string_list options;
  if (auto problem = take_command_flags(argc, argv, options); !problem.empty())
    return problem;
  auto system_file = std::string{system_config_dir} + "/auditree.conf";
  auto file = load_config_text(config_file, system_file,
                               builtin_auditree_conf);
  if (!file.error.empty())
    return (file.refused ? "refusing the config file " : "cannot read the "
                                                          "config file ")
           + file.origin + ": " + file.error;
  config_origin = file.origin;
  // CAF's command line sets flags only to true: take `--KEY=true|false`
  // for flags here and store them after CAF has read the file.
  std::vector<std::pair<const caf::config_option*, bool>> flags;
  for (auto i = options.begin(); i != options.end();) {
    auto eq = i->find('=');
    auto opt = i->rfind("--", 0) == 0 && eq != std::string::npos
                 ? custom_options_.qualified_name_lookup(i->substr(2, eq - 2))
                 : nullptr;
    if (opt == nullptr || !opt->is_flag()) {
      ++i;
      continue;
    }
    auto value = i->substr(eq + 1);
    if (value != "true" && value != "false")
      return "invalid option " + *i + " (true or false)";
    flags.emplace_back(opt, value == "true");
    i = options.erase(i);
  }
  std::istringstream ini{file.text};
  if (auto err = parse(options, ini))
    return describe_parse_error(render(err), file);
  for (auto& [opt, value] : flags) {
    opt->store(caf::config_value{value});
    put(content, str(opt->full_name()), value);
  }
  if (auto problem = check_section(file); !problem.empty())
    return problem;
  // CAF starts at least 4 workers, which on few cores only wake each
  // other. The live agent's actors take microseconds per batch: one worker
  // does it, and a second only adds wake-ups (live CPU -10 to -20% on 2
  // cores, bench/). A replay is bulk work: one worker per core.
  // --scheduler.max-threads overrides.
  if (caf::get_if(&content, "scheduler.max-threads") == nullptr) {
    size_t cores = std::max(1u, std::thread::hardware_concurrency());
    set("scheduler.max-threads",
        command == std::vector<std::string>{"run"} ? size_t{1} : cores);
  }
  return {};
}

std::string agent_config::describe_parse_error(const std::string& text,
                                               const config_text& file) {
  // Turn CAF's rendering into words: which argument, or where in the file.
  auto value_of = [&](const std::string& field) {
    auto pos = text.find("\"" + field + "\" = ");
    if (pos == std::string::npos)
      return std::string{};
    auto begin = pos + field.size() + 5;
    auto end = text.find_first_of("\",)}", begin + 1);
    auto result = text.substr(begin, end - begin);
    return result.front() == '"' ? result.substr(1) : result;
  };
  if (auto arg = value_of("argument"); !arg.empty())
    return "invalid option " + arg + " (see auditree --help)";
  if (auto line = value_of("line"); !line.empty()) {
    // Quote the line: `assemblers=many` says more than a column number.
    std::istringstream in{file.text};
    std::string quoted;
    for (int n = std::stoi(line); n > 0 && std::getline(in, quoted); --n)
      ;
    return file.origin + ":" + line + ":" + value_of("column")
           + ": syntax error in `" + trim(quoted) + "`";
  }
  return file.origin + ": " + text;
}

std::string agent_config::check_section(const config_text& file) const {
  // CAF drops values of the wrong type and keeps unknown keys silently:
  // compare the file's [auditree] section with what CAF took.
  std::istringstream in{file.text};
  std::string line;
  std::string section;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    line = trim(line.substr(0, line.find(';')));
    if (line.empty())
      continue;
    if (line.front() == '[') {
      section = trim(line.substr(1, line.find(']') - 1));
      continue;
    }
    auto eq = line.find('=');
    if (section != "auditree" || eq == std::string::npos)
      continue;
    auto key = trim(line.substr(0, eq));
    auto where = file.origin + ":" + std::to_string(line_no) + ": ";
    auto opt = custom_options_.qualified_name_lookup("auditree." + key);
    if (opt == nullptr)
      return where + "unknown key auditree." + key;
    if (content.count("auditree") == 0
        || caf::get<caf::settings>(content, "auditree").count(key) == 0)
      return where + "auditree." + key + "=" + trim(line.substr(eq + 1))
             + ": not a valid " + str(opt->type_name());
  }
  return {};
}

config_text agent_config::rules() const {
  auto result = load_config_text(rules_file,
                                 std::string{system_config_dir}
                                   + "/audit.rules",
                                 builtin_audit_rules);
  if (!result.error.empty())
    result.error = (result.refused ? "refusing the rules file "
                                   : "cannot read the rules file ")
                   + result.origin + ": " + result.error;
  return result;
}

std::string agent_config::help() const {
  std::string result;
  for (auto& opt : custom_options_) {
    if (str(opt.category()) != "auditree")
      continue;
    auto name = "--auditree." + str(opt.long_name()) + "=<"
                + str(opt.type_name()) + ">";
    name.resize(std::max(name.size() + 2, size_t{40}), ' ');
    result += "  " + name + str(opt.description()) + "\n";
  }
  return result;
}

std::string agent_config::long_help() const {
  // CAF renders --config-file's default from its own, unused, file name.
  auto text = custom_options_.help_text(false);
  const std::string caf_default = "caf-application.ini";
  if (auto pos = text.find(caf_default); pos != std::string::npos)
    text.replace(pos, caf_default.size(), config_file_path);
  return text;
}

std::string agent_config::validate() const {
  if (assemblers > 256)
    return "auditree.assemblers=" + std::to_string(assemblers)
           + ": at most 256";
  if (event_timeout <= caf::timespan{0})
    return "auditree.event-timeout=" + std::to_string(event_timeout.count())
           + "ns: must be positive";
  if (log_level != "error" && log_level != "warning" && log_level != "info"
      && log_level != "debug")
    return "auditree.log-level=" + log_level
           + ": one of error, warning, info, debug";
  if (exit_grace < caf::timespan{0})
    return "auditree.exit-grace must not be negative";
  if (start_hold < caf::timespan{0})
    return "auditree.start-hold must not be negative";
  if (start_max_held == 0)
    return "auditree.start-max-held must be at least 1";
  if (max_hosts == 0)
    return "auditree.max-hosts=0: must be positive";
  if (max_processes == 0)
    return "auditree.max-processes=0: must be positive";
  if (max_args_bytes == 0)
    return "auditree.max-args-bytes=0: must be positive";
  if (http_max_connections == 0)
    return "auditree.http-max-connections=0: must be positive";
  if (socket_max_connections == 0)
    return "auditree.socket-max-connections=0: must be positive";
  if (request_read_timeout < std::chrono::milliseconds{1})
    return "auditree.request-read-timeout must be at least 1ms";
  for (auto& path : runtime_binaries)
    if (path.empty() || path[0] != '/')
      return "auditree.runtime-binaries: " + path + ": not an absolute path";
  if (mode != "multicast" && mode != "unicast" && mode != "stdin")
    return "auditree.mode=" + mode + ": multicast, unicast or stdin";
  if (rule_key.empty() || rule_key.size() > 31)
    return "auditree.rule-key=" + rule_key + ": 1 to 31 characters";
  for (auto [key, delay] : {std::pair{"batch-delay", batch_delay},
                             std::pair{"connector-delay", connector_delay}})
    if (delay < caf::timespan{0}
        || delay > caf::timespan{std::chrono::seconds(1)})
      return std::string{"auditree."} + key + " must be between 0s and 1s";
  if (status_interval <= caf::timespan{0})
    return "auditree.status-interval must be positive";
  if (reconcile_interval < caf::timespan{0})
    return "auditree.reconcile-interval must not be negative";
  if (print_interval < caf::timespan{0})
    return "auditree.print-interval must not be negative";
  if (output_queue < 65536)
    return "auditree.output-queue=" + std::to_string(output_queue)
           + ": at least 65536 bytes";
  if (output.empty())
    return "auditree.output is empty: use '-' for stdout";
  if (restart_window <= caf::timespan{0})
    return "auditree.restart-window must be positive";
  if (restart_backoff < caf::timespan{0}
      || restart_backoff_max < restart_backoff)
    return "auditree.restart-backoff must not be negative nor above "
           "auditree.restart-backoff-max";
  if (checkpoint_interval == 0)
    return "auditree.checkpoint-interval=0: must be positive";
  for (auto& text : faults) {
    std::string error;
    if (!parse_fault(text, error))
      return "auditree.faults: " + error;
  }
  return {};
}

restart_options agent_config::restart_limits() const {
  restart_options result;
  result.max_restarts = restart_max;
  result.window = restart_window;
  result.initial_backoff = restart_backoff;
  result.max_backoff = restart_backoff_max;
  return result;
}

std::vector<fault_spec> agent_config::fault_specs() const {
  std::vector<fault_spec> result;
  for (auto& text : faults) {
    std::string error;
    if (auto spec = parse_fault(text, error))
      result.push_back(*spec);
  }
  return result;
}

query_limits agent_config::api_limits() const {
  query_limits result;
  result.http_max_connections = http_max_connections;
  result.socket_max_connections = socket_max_connections;
  result.read_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
    request_read_timeout);
  return result;
}

output_writer::options agent_config::output_options() const {
  output_writer::options result;
  result.path = output;
  result.max_file_bytes = output_max_bytes;
  result.keep = output_keep;
  result.max_queued = static_cast<size_t>(output_queue);
  return result;
}

size_t agent_config::num_assemblers() const {
  if (assemblers > 0)
    return assemblers;
  auto n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

} // namespace auditree
