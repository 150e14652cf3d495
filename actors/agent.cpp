#include "actors/agent.hpp"

#include <csignal>
#include <fstream>
#include <mutex>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/file_source_actor.hpp"
#include "actors/netlink_source_actor.hpp"
#include "actors/pipeline.hpp"
#include "actors/proc_connector_actor.hpp"
#include "actors/proc_sweeper_actor.hpp"
#include "actors/query_server.hpp"
#include "actors/tree_actor.hpp"
#include "messages/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
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

// The actors of a running agent, for queries and metrics.
struct agent_handles {
  caf::actor source;
  caf::actor connector;
  std::vector<caf::actor> assemblers;
  caf::actor tree;
  caf::actor sink;
  bool from_stdin = false;
};

constexpr auto query_timeout = std::chrono::seconds(2);

// Asks every actor for its counters; an actor that does not answer adds
// nothing (the health check reports it).
agent_metrics gather(caf::scoped_actor& self, const agent_handles& h) {
  agent_metrics m;
  auto ignore = [](const caf::error&) {};
  if (h.source && !h.from_stdin)
    self->request(h.source, query_timeout, stats_atom::value)
      .receive([&](const netlink_source_stats& x) { m.audit = x; }, ignore);
  if (h.connector)
    self->request(h.connector, query_timeout, stats_atom::value)
      .receive([&](const connector_stats& x) { m.connector = x; }, ignore);
  for (auto& a : h.assemblers)
    self->request(a, query_timeout, stats_atom::value)
      .receive([&](const assembler_stats& x) { m.assembly += x; }, ignore);
  self->request(h.tree, query_timeout, stats_atom::value)
    .receive([&](const tree_counters& x) { m.tree = x; }, ignore);
  self->request(h.tree, query_timeout, latency_atom::value)
    .receive(
      [&](uint64_t count, int64_t p50, int64_t p99, int64_t max) {
        m.latency = {count, p50, p99, max};
      },
      ignore);
  self->request(h.sink, query_timeout, stats_atom::value)
    .receive(
      [&](uint64_t written, uint64_t dropped) {
        m.lines_written = written;
        m.lines_dropped = dropped;
      },
      ignore);
  return m;
}

// Answers one request of the query API (on the query server's thread).
query_reply answer(caf::actor_system& sys, const agent_handles& h,
                   const query_route& route) {
  caf::scoped_actor self{sys};
  query_reply reply;
  reply.content_type = route.json ? "application/json" : "text/plain";
  auto text = [&](auto&&... xs) {
    self->request(h.tree, query_timeout, xs...)
      .receive([&](std::string& x) { reply.body = std::move(x); },
               [&](const caf::error& err) {
                 reply = {503, "text/plain",
                          "the tree did not answer: " + sys.render(err)
                            + "\n"};
               });
  };
  switch (route.kind) {
    case query_route::tree_view:
    case query_route::container_tree:
      text(tree_atom::value, route.container, route.json);
      break;
    case query_route::process_list:
      text(ps_atom::value, route.container, route.json);
      break;
    case query_route::process_view:
      text(process_atom::value, route.pid, route.json);
      if (reply.status == 200 && reply.body.empty())
        reply = {404, "text/plain",
                 "no process " + std::to_string(route.pid) + "\n"};
      break;
    case query_route::container_list:
      text(containers_atom::value, route.json);
      break;
    case query_route::metrics:
      reply = {200, "text/plain; version=0.0.4",
               render_prometheus(gather(self, h))};
      break;
    case query_route::stats:
      reply.body = render_stats(gather(self, h), route.json);
      break;
    case query_route::health: {
      std::string problems;
      auto alive = [&](const caf::actor& x, const char* name, auto answer) {
        if (!x)
          return;
        bool ok = false;
        self->request(x, query_timeout, stats_atom::value)
          .receive([&](const decltype(answer)&) { ok = true; },
                   [&](const caf::error&) {});
        if (!ok)
          problems += std::string{name} + " does not answer\n";
      };
      if (!h.from_stdin)
        alive(h.source, "the audit source", netlink_source_stats{});
      alive(h.connector, "the proc connector", connector_stats{});
      alive(h.tree, "the tree", tree_counters{});
      reply = problems.empty()
                ? query_reply{200, "text/plain", "ok\n"}
                : query_reply{503, "text/plain", problems};
      break;
    }
    case query_route::error:
      reply = {route.status, "text/plain", route.message + "\n"};
      break;
  }
  return reply;
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
  // The query API first: a bad address stops the agent before it touches
  // the kernel. Until the actors exist, queries get 503.
  agent_handles handles;
  std::mutex handles_mutex;
  query_server server{[&](const query_route& route) {
    agent_handles h;
    {
      std::lock_guard<std::mutex> guard{handles_mutex};
      h = handles;
    }
    if (!h.tree)
      return query_reply{503, "text/plain", "starting\n"};
    return answer(sys, h, route);
  }};
  if (auto err = server.start(cfg.socket, cfg.http, cfg.http_allow_remote);
      !err.empty()) {
    log::error(err);
    return 2;
  }
  log::info("query API on ", cfg.socket,
            cfg.http.empty() ? "" : " and http://" + cfg.http);
  auto stages = spawn_pipeline(sys, cfg, false);
  auto& sink = stages.sink;
  auto& tree = stages.tree;
  auto& assemblers = stages.assemblers;
  // Processes older than the agent: the tree has them before any event.
  if (cfg.bootstrap) {
    auto bootstrap = to_process_events(scan_proc("/proc"));
    log::info("bootstrap: ", bootstrap.size(), " processes from /proc");
    self->send(tree, std::move(bootstrap));
  }
  caf::actor sweeper;
  if (cfg.reconcile_interval.count() > 0)
    sweeper = sys.spawn(proc_sweeper_actor, tree, cfg.reconcile_interval,
                        caf::timespan{std::chrono::seconds(1)});
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
                                       assemblers, sweeper);
  self->monitor(source);
  if (from_stdin)
    self->send(source, run_atom::value); // Replies at the end of stdin.
  caf::actor connector;
  if (cfg.proc_connector) {
    connector = sys.spawn(proc_connector_actor, tree);
    self->monitor(connector);
  }
  {
    std::lock_guard<std::mutex> guard{handles_mutex};
    handles = agent_handles{source, connector, assemblers, tree, sink,
                            from_stdin};
  }
  auto stop_rest = [&] {
    if (sweeper)
      self->send_exit(sweeper, caf::exit_reason::user_shutdown);
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
  // The source goes first: rules removed and settings restored before the
  // rest drains. Its counters are read just before.
  server.stop();
  auto final_metrics = gather(self, handles);
  if (died != source) {
    self->send_exit(source, caf::exit_reason::user_shutdown);
    self->receive([&](caf::down_msg& down) {
      if (down.source != source)
        self->receive([](caf::down_msg&) {});
    });
  }
  assembler_stats total;
  for (auto& a : assemblers)
    self->request(a, caf::infinite, flush_atom::value)
      .receive([&](const assembler_stats& x) { total += x; },
               [&](const caf::error&) {});
  final_metrics.assembly = total;
  self->request(tree, caf::infinite, stats_atom::value)
    .receive([&](const tree_counters& x) { final_metrics.tree = x; },
             [&](const caf::error&) {});
  if (cfg.print_tree || !cfg.tree_json.empty())
    dump_tree();
  self->request(sink, caf::infinite, flush_atom::value)
    .receive([&](uint64_t x) { final_metrics.lines_written = x; },
             [&](const caf::error&) {});
  stop_rest();
  std::fprintf(stderr, "auditree run summary\n%s",
               render_stats(final_metrics, false).c_str());
  return exit_code;
}

} // namespace auditree
