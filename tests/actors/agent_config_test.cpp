#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "actors/agent_config.hpp"

using namespace auditree;

namespace {

// Parses a command line given as words; returns parse_all's message.
std::string parse(agent_config& cfg, std::vector<std::string> words) {
  words.insert(words.begin(), "auditree");
  std::vector<char*> argv;
  for (auto& w : words)
    argv.push_back(w.data());
  return cfg.parse_all(static_cast<int>(argv.size()), argv.data());
}

// The built-in config/auditree.conf in a file of its own, so the test does
// not depend on what /etc/auditree holds.
struct builtin_file {
  std::string path;
  builtin_file() {
    char tmpl[] = "/tmp/auditree-builtin-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = tmpl;
    std::ofstream{path} << builtin_auditree_conf;
  }
  ~builtin_file() { std::remove(path.c_str()); }
};

} // namespace

TEST_CASE("a key missing from a file takes config/auditree.conf's default",
          "[config]") {
  // The members' initializers apply to keys an older file lacks: they must
  // say what config/auditree.conf says.
  builtin_file conf;
  agent_config bare;
  agent_config full;
  REQUIRE(parse(bare, {"--config-file=/dev/null", "run"}).empty());
  REQUIRE(parse(full, {"--config-file", conf.path, "run"}).empty());
  CHECK(bare.config_origin == "/dev/null");
  CHECK(full.config_origin == conf.path);
#define SAME(member) CHECK(bare.member == full.member)
  SAME(assemblers);
  SAME(event_timeout);
  SAME(output);
  SAME(output_max_bytes);
  SAME(output_keep);
  SAME(output_queue);
  SAME(log_level);
  SAME(exit_grace);
  SAME(start_hold);
  SAME(start_max_held);
  SAME(max_hosts);
  SAME(max_processes);
  SAME(max_args_bytes);
  SAME(mode);
  SAME(rules_file);
  SAME(rule_key);
  SAME(backlog_limit);
  SAME(receive_buffer);
  SAME(batch_delay);
  SAME(status_interval);
  SAME(state_file);
  SAME(proc_connector);
  SAME(connector_delay);
  SAME(reconcile_interval);
  SAME(bootstrap);
  SAME(http_max_connections);
  SAME(socket_max_connections);
  SAME(request_read_timeout);
  SAME(socket);
  SAME(http);
  SAME(http_allow_remote);
  SAME(print_interval);
  SAME(restart_max);
  SAME(restart_window);
  SAME(restart_backoff);
  SAME(restart_backoff_max);
  SAME(checkpoint_interval);
  SAME(faults);
#undef SAME
}

TEST_CASE("help flags, --config-file forms and options after the command",
          "[config]") {
  for (auto flag : {"--help", "-h", "-?"}) {
    agent_config cfg;
    REQUIRE(parse(cfg, {"--config-file=/dev/null", flag}).empty());
    CHECK(cfg.help_asked == agent_config::help_kind::usage);
  }
  agent_config cfg;
  REQUIRE(parse(cfg, {"tree", "--long-help", "--config-file=/dev/null"})
            .empty());
  CHECK(cfg.help_asked == agent_config::help_kind::with_caf);
  CHECK(cfg.long_help().find("caf-application.ini") == std::string::npos);
  CHECK(cfg.long_help().find(std::string{system_config_dir}
                             + "/auditree.conf")
        != std::string::npos);

  builtin_file conf;
  agent_config after;
  REQUIRE(parse(after, {"run", "--config-file", conf.path,
                        "--auditree.rules-file=/x/audit.rules",
                        "--auditree.proc-connector=false"})
            .empty());
  CHECK(after.command == std::vector<std::string>{"run"});
  CHECK(after.config_file == conf.path);
  CHECK(after.rules_file == "/x/audit.rules");
  CHECK_FALSE(after.proc_connector);
  auto rules = after.rules();
  CHECK(rules.origin == "/x/audit.rules");
  CHECK(rules.error.find("cannot read the rules file /x/audit.rules")
        == 0);

  // A value from the file reaches the member (what the test above relies on).
  {
    std::ofstream{conf.path} << "[auditree]\nexit-grace=7s\n";
    agent_config seven;
    REQUIRE(parse(seven, {"--config-file", conf.path, "run"}).empty());
    CHECK(seven.exit_grace == std::chrono::seconds{7});
  }

  agent_config missing;
  CHECK(parse(missing, {"--config-file"}) == "--config-file needs a file");
  CHECK(parse(missing, {"--config-file=/nonexistent.conf", "run"})
        == "cannot read the config file /nonexistent.conf: No such file or "
           "directory");
}

TEST_CASE("no default path depends on the working directory",
          "[agent_config]") {
  // Root running auditree in a directory others can write must take
  // nothing from it: every file the defaults name is absolute (or stdout).
  builtin_file file;
  agent_config cfg;
  REQUIRE(parse(cfg, {"--config-file=" + file.path, "run"}).empty());
  CHECK(cfg.output == "-");
  for (auto& path : {cfg.socket, cfg.state_file})
    CHECK(path.front() == '/');
  CHECK(cfg.rules_file.empty()); // then /etc/auditree, else built-in
  CHECK(system_config_dir.front() == '/');
  auto rules = cfg.rules().origin;
  CHECK((rules == "built-in" || rules.front() == '/'));
}
