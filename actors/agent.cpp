#include "actors/agent.hpp"

#include <csignal>
#include <fstream>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/assembler_actor.hpp"
#include "actors/file_source_actor.hpp"
#include "actors/json_sink_actor.hpp"
#include "actors/netlink_source_actor.hpp"
#include "actors/proc_connector_actor.hpp"
#include "actors/tree_actor.hpp"
#include "messages/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/proc_scan.hpp"

namespace auditree {

namespace {

constexpr int cap_net_admin = 12;
constexpr int cap_audit_control = 30;
constexpr int cap_audit_read = 37;

uint64_t effective_capabilities() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("CapEff:", 0) == 0)
      return std::stoull(line.substr(7), nullptr, 16);
  return 0;
}

void print_summary(const netlink_source_stats& src,
                   const assembler_stats& asm_, uint64_t written) {
  std::fprintf(stderr,
               "auditree run summary\n"
               "  records:              %llu\n"
               "  malformed datagrams:  %llu\n"
               "  ENOBUFS overruns:     %llu\n"
               "  kernel lost:          %llu\n"
               "  max kernel backlog:   %llu\n"
               "  backlog wait (jiffies): %llu\n"
               "  events:               %llu\n"
               "  closed by EOE:        %llu\n"
               "  closed standalone:    %llu\n"
               "  closed by timeout:    %llu\n"
               "  serial gaps:          %llu\n"
               "  late records:         %llu\n"
               "  malformed events:     %llu\n"
               "  process events:       %llu\n"
               "  lines written:        %llu\n",
               (unsigned long long) src.num_records,
               (unsigned long long) src.num_malformed,
               (unsigned long long) src.num_overruns,
               (unsigned long long) src.kernel_lost,
               (unsigned long long) src.max_backlog,
               (unsigned long long) src.backlog_wait_time_actual,
               (unsigned long long) asm_.num_events,
               (unsigned long long) asm_.num_closed_by_eoe,
               (unsigned long long) asm_.num_closed_standalone,
               (unsigned long long) asm_.num_closed_by_timeout,
               (unsigned long long) asm_.num_serial_gaps,
               (unsigned long long) asm_.num_serial_late,
               (unsigned long long) asm_.num_malformed_events,
               (unsigned long long) asm_.num_process_events,
               (unsigned long long) written);
}

} // namespace

std::string missing_capabilities(const agent_config& cfg) {
  auto caps = effective_capabilities();
  std::string missing;
  auto need = [&](int cap, const char* name, const char* why) {
    if ((caps >> cap & 1) == 0)
      missing += std::string{missing.empty() ? "" : ", "} + name + " (" + why
                 + ")";
  };
  if (cfg.mode != "stdin")
    need(cap_audit_control, "CAP_AUDIT_CONTROL", "to install rules");
  if (cfg.mode == "multicast")
    need(cap_audit_read, "CAP_AUDIT_READ", "to join the multicast group");
  if (cfg.proc_connector)
    need(cap_net_admin, "CAP_NET_ADMIN", "to join the proc connector");
  return missing;
}

int run_agent(caf::actor_system& sys, const agent_config& cfg) {
  caf::scoped_actor self{sys};
  auto sink = sys.spawn(json_sink_actor, cfg.output);
  tree_actor_options tree_opts;
  tree_opts.tree.exit_grace
    = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.exit_grace);
  tree_opts.tree.keep_exited = cfg.keep_exited;
  auto tree = sys.spawn(tree_actor, tree_opts, sink);
  // Processes older than the agent: the tree has them before any event.
  auto bootstrap = to_process_events(scan_proc("/proc"));
  log::info("bootstrap: ", bootstrap.size(), " processes from /proc");
  self->send(tree, std::move(bootstrap));
  auto n = cfg.num_assemblers();
  event_assembler::options asm_opts;
  asm_opts.timeout
    = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.event_timeout);
  asm_opts.stride = static_cast<uint32_t>(n);
  std::vector<caf::actor> assemblers;
  for (size_t i = 0; i < n; ++i)
    assemblers.push_back(sys.spawn(assembler_actor, tree, asm_opts));
  netlink_source_options src_opts;
  src_opts.session.unicast = cfg.mode == "unicast";
  src_opts.session.rules_file = cfg.rules_file;
  src_opts.session.key = cfg.rule_key;
  src_opts.session.backlog_limit = cfg.backlog_limit;
  src_opts.session.state_file = cfg.state_file;
  src_opts.receive_buffer = static_cast<int>(cfg.receive_buffer);
  src_opts.status_interval = cfg.status_interval;
  // As an auditd plugin the records come on stdin and auditd owns the
  // kernel side; else the agent listens to the kernel itself.
  bool from_stdin = cfg.mode == "stdin";
  auto source = from_stdin ? sys.spawn<caf::detached>(file_source_actor,
                                                      std::string{"-"},
                                                      assemblers)
                           : sys.spawn(netlink_source_actor, src_opts,
                                       assemblers);
  self->monitor(source);
  if (from_stdin)
    self->send(source, run_atom::value); // Replies at the end of stdin.
  caf::actor connector;
  if (cfg.proc_connector) {
    connector = sys.spawn(proc_connector_actor, tree);
    self->monitor(connector);
  }
  auto stop_rest = [&] {
    if (connector)
      self->send_exit(connector, caf::exit_reason::user_shutdown);

    for (auto& a : assemblers)
      self->send_exit(a, caf::exit_reason::user_shutdown);
    self->send_exit(tree, caf::exit_reason::user_shutdown);
    self->send_exit(sink, caf::exit_reason::user_shutdown);
  };
  auto dump_tree = [&] {
    self->request(tree, caf::infinite, tree_atom::value, std::string{},
                  false)
      .receive([&](const std::string& x) { std::fputs(x.c_str(), stderr); },
               [&](const caf::error&) {});
    if (cfg.tree_json.empty())
      return;
    self->request(tree, caf::infinite, tree_atom::value, std::string{}, true)
      .receive(
        [&](const std::string& x) {
          // Write then rename: a reader never sees half a file.
          auto tmp = cfg.tree_json + ".tmp";
          std::ofstream{tmp, std::ios::trunc} << x << '\n';
          std::rename(tmp.c_str(), cfg.tree_json.c_str());
        },
        [&](const caf::error&) {});
  };
  // Wait for a signal; notice a source that died on its own.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  // A source that stops on its own stops the agent (with exit code 1).
  caf::actor_addr died;
  caf::error why;
  int exit_code = 0;
  auto next_print = std::chrono::steady_clock::now() + cfg.print_interval;
  while (!died) {
    timespec tick{0, 100 * 1000 * 1000};
    auto sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      log::info("stopping on signal ", sig);
      break;
    }
    auto now = std::chrono::steady_clock::now();
    if (sig == SIGUSR1
        || (cfg.print_interval.count() > 0 && now >= next_print)) {
      dump_tree();
      next_print = now + cfg.print_interval;
    }
    bool input_ended = false;
    self->receive(
      [&](caf::down_msg& down) {
        died = down.source;
        why = down.reason;
      },
      [&](const source_stats& x) {
        log::info("stdin ended after ", x.num_records, " records");
        input_ended = true;
      },
      caf::after(std::chrono::seconds(0)) >> [] {});
    if (input_ended)
      break;
  }
  if (died) {
    log::error(died == source ? "the audit source" : "the proc connector",
               " stopped: ", sys.render(why));
    exit_code = 1;
  }
  netlink_source_stats src;
  if (died != source) {
    if (!from_stdin)
      self->request(source, caf::infinite, stats_atom::value)
        .receive([&](const netlink_source_stats& x) { src = x; },
                 [&](const caf::error&) {});
    // The source goes first: rules removed and settings restored before
    // the rest drains.
    self->send_exit(source, caf::exit_reason::user_shutdown);
    self->receive([&](caf::down_msg& down) {
      if (down.source != source)
        self->receive([](caf::down_msg&) {});
    });
  }
  connector_stats conn;
  if (connector && died != connector)
    self->request(connector, caf::infinite, stats_atom::value)
      .receive([&](const connector_stats& x) { conn = x; },
               [&](const caf::error&) {});
  assembler_stats total;
  for (auto& a : assemblers)
    self->request(a, caf::infinite, flush_atom::value)
      .receive([&](const assembler_stats& x) { total += x; },
               [&](const caf::error&) {});
  uint64_t num_processes = 0;
  self->request(tree, caf::infinite, flush_atom::value)
    .receive([&](uint64_t x) { num_processes = x; },
             [&](const caf::error&) {});
  if (cfg.print_tree || !cfg.tree_json.empty())
    dump_tree();
  uint64_t written = 0;
  self->request(sink, caf::infinite, flush_atom::value)
    .receive([&](uint64_t x) { written = x; }, [&](const caf::error&) {});
  stop_rest();
  print_summary(src, total, written);
  std::fprintf(stderr,
               "  connector messages:   %llu\n"
               "  connector gaps:       %llu\n"
               "  connector overruns:   %llu\n",
               (unsigned long long) conn.num_messages,
               (unsigned long long) conn.num_gaps,
               (unsigned long long) conn.num_overruns);
  std::fprintf(stderr, "  processes in tree:    %llu\n",
               (unsigned long long) num_processes);
  return exit_code;
}

} // namespace auditree
