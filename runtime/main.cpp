// auditree: the kernel audit stream as a live process tree.
//
//   auditree [options] run               the live agent
//   auditree [options] replay FILE|-     replay an audit log (RAW text)

#include <csignal>
#include <cstdio>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/agent.hpp"
#include "actors/agent_config.hpp"
#include "actors/replay.hpp"
#include "runtime/log.hpp"

namespace {

constexpr const char* usage
  = "usage: auditree [--config-file=FILE] [--auditree.KEY=VALUE ...] "
    "COMMAND\n"
    "commands:\n"
    "  run             the live agent on the kernel's audit stream, until\n"
    "                  SIGINT/SIGTERM; SIGUSR1 prints the tree\n"
    "  replay FILE|-   run an audit log (audit.log RAW text, or stdin)\n"
    "                  through the pipeline; JSON lines go to\n"
    "                  auditree.output, a summary to stderr\n"
    "    --tree             print the final tree like pstree -p\n"
    "    --tree-json FILE   write the final tree as a JSON array\n"
    "    --keep-exited      keep every exited process (with its end)\n"
    "options: --config-file=FILE (default config/auditree.conf),\n"
    "  --auditree.KEY=VALUE overrides a key of the file\n";

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

} // namespace

int main(int argc, char** argv) {
  auditree::agent_config cfg;
  if (auto problem = cfg.parse_all(argc, argv); !problem.empty()) {
    std::fprintf(stderr, "auditree: %s\n", problem.c_str());
    return 2;
  }
  if (cfg.cli_helptext_printed) {
    std::printf("%sauditree keys (config file section [auditree]):\n%s",
                usage, cfg.help().c_str());
    return 0;
  }
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
  if (args.size() == 1 && args[0] == "run") {
    if (auto missing = auditree::missing_capabilities(cfg); !missing.empty()) {
      std::fprintf(stderr, "auditree run: missing capabilities: %s\n",
                   missing.c_str());
      return 1;
    }
    // Signals go to the agent's wait loop, never to an actor thread: block
    // them before the actor system starts its threads.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    caf::actor_system sys{cfg};
    return auditree::run_agent(sys, cfg);
  }
  std::fputs(usage, stderr);
  return 2;
}
