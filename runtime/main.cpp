// auditree: the kernel audit stream as a live process tree.
//
//   auditree [options] run               the live agent
//   auditree [options] replay FILE|-     replay an audit log (RAW, or gzip)
//   auditree [options] tree|ps|process|containers|stats|health
//                                        ask the running agent
//   auditree [options] repair            undo what a dead run left
//   auditree [options] ctl crash ACTOR [throw|kill]
//                                        fault injection

#include <cctype>
#include <csignal>
#include <cstdio>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/agent.hpp"
#include "actors/agent_config.hpp"
#include "actors/audit_repair.hpp"
#include "actors/query_client.hpp"
#include "actors/replay.hpp"
#include "runtime/config_files.hpp"
#include "runtime/log.hpp"
#include "runtime/terminal_text.hpp"

namespace {

constexpr const char* commands
  = "commands:\n"
    "  run             the live agent on the kernel's audit stream, until\n"
    "                  SIGTERM/SIGINT/SIGHUP/SIGQUIT; SIGUSR1 prints the\n"
    "                  tree\n"
    "  replay FILE|-   run an audit log (audit.log RAW text or its gzip,\n"
    "                  or stdin) through the pipeline; JSON lines go to\n"
    "                  auditree.output, a summary to stderr\n"
    "    --tree             print the final tree like pstree -p\n"
    "    --tree-json FILE   write the final tree as a JSON array\n"
    "    --keep-exited      keep every exited process (with its end)\n"
    "  tree [--container ID]   the running agent's tree, like pstree -p\n"
    "  ps [--container ID]     its processes, like ps\n"
    "  process PID             one process with its ancestry\n"
    "    --host NAME            one host's processes (tree, ps, process,\n"
    "                           replay's --tree): a node= name, or - for\n"
    "                           the records without node=\n"
    "  containers              the containers it knows\n"
    "  stats                   loss ledger and counters\n"
    "  health                  whether every source and the tree answer,\n"
    "                          and no actor is near its restart budget\n"
    "  repair          undo what a dead run left (the unit's ExecStopPost):\n"
    "                  remove the rules tagged rule-key, put back each\n"
    "                  setting of state-file that still holds the value the\n"
    "                  run set (one changed since is left as it is),\n"
    "                  unregister a dead audit daemon pid, delete the file;\n"
    "                  exit 0, also when there is nothing to do; exit 1\n"
    "                  when a live auditree owns the file or it is refused\n"
    "  ctl crash ACTOR [throw|kill]\n"
    "                          fault injection: make an actor (source,\n"
    "                          connector, sweeper, assembler-K, tree,\n"
    "                          sink) throw, or kill it; the supervisor\n"
    "                          restarts it\n"
    "    --json                 JSON instead of text (tree, ps, process,\n"
    "                           containers, stats)\n";

// The usage, naming the files this build reads.
std::string usage() {
  std::string dir{auditree::system_config_dir};
  return "usage: auditree [--config-file=FILE] [--auditree.KEY=VALUE ...] "
         "COMMAND\n"
         "The process tree of this host and its containers, from kernel "
         "audit.\n\n"
         + std::string{commands}
         + "options (before or after the command):\n"
           "  --config-file=FILE     the config file (default "
         + dir + "/auditree.conf;\n"
           "                         without it, the built-in defaults)\n"
           "  --auditree.KEY=VALUE   overrides a key of the file\n"
           "  -h, --help             this help; --long-help adds CAF's own "
           "options\n"
           "files: "
         + dir + "/auditree.conf, " + dir
         + "/audit.rules (each overrides\n"
           "  its built-in default); see auditree(8)\n";
}

auditree::log::level to_level(const std::string& x) {
  using auditree::log::level;
  if (x == "error")
    return level::error;
  if (x == "warning")
    return level::warning;
  if (x == "debug")
    return level::debug;
  return level::info;
}

// `&KEY=VALUE` for a query, or empty without a value. Ids and host names
// hold only [A-Za-z0-9._/-]; anything else is escaped.
std::string query_parameter(const char* key, const std::string& value) {
  if (value.empty())
    return {};
  std::string result = std::string{"&"} + key + "=";
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '/' || c == '-') {
      result += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      result += buf;
    }
  }
  return result;
}

// The query API target for a CLI command, or empty if it is none.
std::string query_target(const auditree::agent_config& cfg) {
  auto& args = cfg.command;
  if (args.empty())
    return {};
  std::string format = cfg.json ? "format=json" : "format=text";
  auto container = query_parameter("container", cfg.container)
                   + query_parameter("host", cfg.host);
  auto& cmd = args[0];
  if (cmd == "tree" && args.size() == 1)
    return "/tree?" + format + container;
  if (cmd == "ps" && args.size() == 1)
    return "/processes?" + format + container;
  if (cmd == "containers" && args.size() == 1)
    return "/containers?" + format;
  if (cmd == "stats" && args.size() == 1)
    return "/stats?" + format;
  if (cmd == "health" && args.size() == 1)
    return "/healthz";
  if (cmd == "process" && args.size() == 2)
    return "/processes/" + args[1] + "?" + format
           + query_parameter("host", cfg.host);
  if (cmd == "ctl" && args.size() >= 3 && args.size() <= 4
      && args[1] == "crash")
    return "/ctl/crash/" + args[2] + "?how="
           + (args.size() == 4 ? args[3] : std::string{"throw"});
  return {};
}

} // namespace

int main(int argc, char** argv) {
  // A consumer that goes away is a write error to log, not a reason to die.
  std::signal(SIGPIPE, SIG_IGN);
  auditree::agent_config cfg;
  if (auto problem = cfg.parse_all(argc, argv); !problem.empty()) {
    std::fprintf(stderr, "auditree: %s\n", problem.c_str());
    return 2;
  }
  if (cfg.help_asked != auditree::agent_config::help_kind::none) {
    std::printf("%s\nkeys (config file section [auditree], or "
                "--auditree.KEY=VALUE):\n%s",
                usage().c_str(), cfg.help().c_str());
    if (cfg.help_asked == auditree::agent_config::help_kind::with_caf)
      std::printf("\nevery option, CAF's own included:\n%s",
                  cfg.long_help().c_str());
    return 0;
  }
  if (cfg.cli_helptext_printed) // CAF's --dump-config printed the config.
    return 0;
  if (auto problem = cfg.validate(); !problem.empty()) {
    std::fprintf(stderr, "auditree: invalid setting %s\n", problem.c_str());
    return 2;
  }
  auditree::log::set_level(to_level(cfg.log_level));
  auto& args = cfg.command;
  if (args.size() == 2 && args[0] == "replay") {
    caf::actor_system sys{cfg};
    return auditree::replay(sys, cfg, args[1]);
  }
  if (args.size() == 1 && args[0] == "repair")
    return auditree::repair_command(cfg.state_file, cfg.rule_key);
  if (auto target = query_target(cfg); !target.empty()) {
    auto result = auditree::query_agent(cfg.socket, target,
                                        target.rfind("/ctl/", 0) == 0);
    if (result.status == 0) {
      std::fprintf(stderr, "auditree: %s\n",
                   auditree::terminal_safe(result.error).c_str());
      return 1;
    }
    // An error quotes what the user typed, ids from argv any user controls.
    if (result.status != 200) {
      std::fputs(auditree::terminal_safe_lines(result.body).c_str(), stderr);
      return 1;
    }
    std::fputs(result.body.c_str(), stdout);
    return 0;
  }
  if (args.size() == 1 && args[0] == "run") {
    auto rules = cfg.rules();
    auto origin = [](const std::string& x, const char* file) {
      return x != "built-in" ? x
                             : "built-in defaults (no "
                                 + std::string{auditree::system_config_dir}
                                 + "/" + file + ")";
    };
    auditree::log::info("config: ", origin(cfg.config_origin, "auditree.conf"));
    if (cfg.mode != "stdin")
      auditree::log::info("rules: ", origin(rules.origin, "audit.rules"));
    if (cfg.mode != "stdin" && !rules.error.empty()) {
      std::fprintf(stderr, "auditree run: %s\n", rules.error.c_str());
      return 1;
    }
    if (auto missing = auditree::missing_capabilities(cfg); !missing.empty()) {
      std::fprintf(stderr, "auditree run: missing capabilities: %s\n",
                   missing.c_str());
      return 1;
    }
    // Signals go to the agent's wait loop, never to an actor thread: block
    // them before the actor system starts its threads.
    auto signals = auditree::agent_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    caf::actor_system sys{cfg};
    return auditree::run_agent(sys, cfg, rules);
  }
  std::fputs(usage().c_str(), stderr);
  return 2;
}
