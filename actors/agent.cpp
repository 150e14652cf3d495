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
#include "runtime/container_ref.hpp"
#include "runtime/docker_names.hpp"
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

constexpr auto query_timeout = std::chrono::seconds(2);

// The rates `auditree stats` shows, sampled by the agent's main loop.
struct rate_board {
  std::mutex mutex;
  decltype(agent_metrics::rates) rates;
};

// Asks every actor for its counters and mailbox size; an actor that does
// not answer adds nothing (the health check reports it).
agent_metrics gather(caf::scoped_actor& self, const pipeline& h,
                     bool from_stdin) {
  agent_metrics m;
  auto ignore = [](const caf::error&) {};
  for (auto& [name, actor] : named_children(h))
    if (actor)
      self->request(actor, query_timeout, mailbox_atom::value)
        .receive(
          [&, name = name](uint64_t n) { m.mailboxes.emplace_back(name, n); },
          ignore);
  if (h.source && from_stdin)
    self->request(h.source, query_timeout, stats_atom::value)
      .receive([&](const source_stats& x) { m.file = x; }, ignore);
  else if (h.source)
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
  self->request(h.supervisor, query_timeout, stats_atom::value)
    .receive(
      [&](const supervision_stats& x) {
        for (size_t i = 0; i < x.children.size(); ++i)
          m.restarts.emplace_back(x.children[i], x.restarts[i]);
      },
      ignore);
  self->request(h.tree, query_timeout, latency_atom::value)
    .receive(
      [&](uint64_t count, int64_t p50, int64_t p99, int64_t max) {
        m.latency = {count, p50, p99, max};
      },
      ignore);
  if (h.sink)
    self->request(h.sink, query_timeout, stats_atom::value)
      .receive(
        [&](uint64_t written, uint64_t dropped) {
          m.lines_written = written;
          m.lines_dropped = dropped;
        },
        ignore);
  return m;
}

// The tree's containers, docker's with the names from its root-owned
// state (runtime/docker_names.hpp); nullopt if the tree did not answer.
std::optional<container_candidates>
known_containers(caf::scoped_actor& self, const pipeline& h) {
  std::optional<container_candidates> known;
  self->request(h.tree, query_timeout, containers_atom::value)
    .receive([&](container_candidates& x) { known = std::move(x); },
             [](const caf::error&) {});
  if (!known)
    return known;
  std::vector<std::string> roots;
  bool looked = false;
  for (auto& c : *known) {
    if (c.runtime != "docker")
      continue;
    if (!looked) {
      roots = docker_data_roots(find_dockerd("/proc"),
                                [](const std::string& path) {
                                  return read_root_owned(path);
                                });
      looked = true;
    }
    auto slash = c.id.find('/');
    if (auto name = read_docker_name(roots, c.id.substr(slash + 1)))
      c.names.push_back(std::move(*name));
  }
  return known;
}

// The container id a route names, resolved to the tree's id; an error
// reply when it is ambiguous (409) or unknown (404).
std::optional<query_reply> resolve_route_container(caf::scoped_actor& self,
                                                   const pipeline& h,
                                                   query_route& route) {
  bool takes_container = route.kind == query_route::tree_view
                         || route.kind == query_route::container_tree
                         || route.kind == query_route::process_list;
  if (!takes_container || route.container.empty())
    return std::nullopt;
  auto known = known_containers(self, h);
  if (!known)
    return query_reply{503, "text/plain", "the tree did not answer\n"};
  auto match = resolve_container(route.container, *known);
  switch (match.outcome) {
    case container_match::found:
      route.container = match.id;
      return std::nullopt;
    case container_match::ambiguous:
      return query_reply{409, "text/plain", match.message + "\n"};
    case container_match::unknown:
      return query_reply{404, "text/plain", match.message + "\n"};
    case container_match::invalid:
      break;
  }
  return query_reply{400, "text/plain", match.message + "\n"};
}

// An unknown `host=` is refused (404), never answered with an empty tree.
std::optional<query_reply> check_route_host(caf::scoped_actor& self,
                                            const pipeline& h,
                                            const query_route& route) {
  if (route.host.empty())
    return std::nullopt;
  std::optional<bool> known;
  self->request(h.tree, query_timeout, host_atom::value, route.host)
    .receive([&](bool x) { known = x; }, [](const caf::error&) {});
  if (!known)
    return query_reply{503, "text/plain", "the tree did not answer\n"};
  if (!*known)
    return query_reply{404, "text/plain", "no host " + route.host + "\n"};
  return std::nullopt;
}

// Answers one request of the query API (on the query server's thread).
query_reply answer(caf::actor_system& sys, const caf::actor& supervisor,
                   bool from_stdin, rate_board& board,
                   query_route route) {
  caf::scoped_actor self{sys};
  pipeline h;
  bool ready = false;
  self->request(supervisor, query_timeout, handles_atom::value)
    .receive(
      [&](pipeline& x) {
        h = std::move(x);
        ready = true;
      },
      [](const caf::error&) {});
  if (!ready)
    return {503, "text/plain", "the agent is restarting an actor\n"};
  if (auto refused = resolve_route_container(self, h, route))
    return *refused;
  if (auto refused = check_route_host(self, h, route))
    return *refused;
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
      text(tree_atom::value, route.container, route.host, route.json);
      break;
    case query_route::process_list:
      text(ps_atom::value, route.container, route.host, route.json);
      break;
    case query_route::process_view:
      if (!route.entity_id.empty())
        text(process_atom::value, route.entity_id, route.host, route.json);
      else
        text(process_atom::value, route.pid, route.host, route.json);
      if (reply.status == 200 && reply.body.empty())
        reply = {404, "text/plain",
                 "no process "
                   + (route.entity_id.empty() ? std::to_string(route.pid)
                                              : route.entity_id)
                   + "\n"};
      break;
    case query_route::container_list:
      text(containers_atom::value, route.json);
      break;
    case query_route::metrics:
      reply = {200, "text/plain; version=0.0.4",
               render_prometheus(gather(self, h, from_stdin))};
      break;
    case query_route::stats: {
      auto m = gather(self, h, from_stdin);
      {
        std::lock_guard<std::mutex> guard{board.mutex};
        m.rates = board.rates;
      }
      reply.body = render_stats(m, route.json);
      break;
    }
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
      if (!from_stdin)
        alive(h.source, "the audit source", netlink_source_stats{});
      alive(h.connector, "the proc connector", connector_stats{});
      alive(h.tree, "the tree", tree_counters{});
      self->request(supervisor, query_timeout, stats_atom::value)
        .receive(
          [&](const supervision_stats& x) {
            for (auto& name : x.near_exhaustion)
              problems += name
                          + " is one failure away from its restart budget\n";
          },
          [&](const caf::error&) {
            problems += "the supervisor does not answer\n";
          });
      reply = problems.empty()
                ? query_reply{200, "text/plain", "ok\n"}
                : query_reply{503, "text/plain", problems};
      break;
    }
    case query_route::crash:
      self->request(supervisor, query_timeout, crash_atom::value, route.actor,
                    route.kill)
        .receive(
          [&](const std::string& x) {
            reply = {200, "text/plain", x + "\n"};
          },
          [&](const caf::error&) {
            reply = {404, "text/plain",
                     "no running actor named " + route.actor
                       + " (source, connector, sweeper, assembler-K, tree, "
                         "sink)\n"};
          });
      break;
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

int run_agent(caf::actor_system& sys, const agent_config& cfg,
              const config_text& rules) {
  caf::scoped_actor self{sys};
  bool from_stdin = cfg.mode == "stdin";
  // The query API first: a bad address stops the agent before it touches
  // the kernel. Until the actors exist, queries get 503.
  caf::actor supervisor;
  std::mutex supervisor_mutex;
  rate_board board;
  query_server server{[&](const query_route& route) {
    caf::actor target;
    {
      std::lock_guard<std::mutex> guard{supervisor_mutex};
      target = supervisor;
    }
    if (!target)
      return query_reply{503, "text/plain", "starting\n"};
    return answer(sys, target, from_stdin, board, route);
  }};
  if (auto err = server.start(cfg.socket, cfg.http, cfg.http_allow_remote);
      !err.empty()) {
    log::error(err);
    return 2;
  }
  log::info("query API on ", cfg.socket,
            cfg.http.empty() ? "" : " and http://" + cfg.http,
            "; `auditree tree` shows the tree");
  // Processes older than the agent: the tree has them before any event.
  process_event_batch bootstrap;
  if (cfg.bootstrap) {
    bootstrap = to_process_events(scan_proc("/proc"));
    log::info("bootstrap: ", bootstrap.size(), " processes from /proc");
  }
  auto children = pipeline_children(sys, cfg, false, std::move(bootstrap));
  auto* system = &sys;
  if (cfg.reconcile_interval.count() > 0) {
    auto interval = cfg.reconcile_interval;
    children.push_back({"sweeper", true,
                        [=](const pipeline& p, const tree_checkpoint_ptr&) {
                          return system->spawn(
                            proc_sweeper_actor, p.tree, interval,
                            caf::timespan{std::chrono::seconds(1)});
                        }});
  }
  netlink_source_options src_opts;
  src_opts.session.unicast = cfg.mode == "unicast";
  src_opts.session.rules_text = rules.text;
  src_opts.session.rules_origin = rules.origin;
  src_opts.session.key = cfg.rule_key;
  src_opts.session.backlog_limit = cfg.backlog_limit;
  src_opts.session.state_file = cfg.state_file;
  src_opts.receive_buffer = static_cast<int>(cfg.receive_buffer);
  src_opts.status_interval = cfg.status_interval;
  src_opts.batch_delay = cfg.batch_delay;
  // As an auditd plugin the records come on stdin and auditd owns the
  // kernel side (stdin cannot be reopened: its source is not restarted);
  // else the agent sets up the kernel's rules and settings for its whole
  // run, and its source listens.
  auto session = std::make_shared<audit_session>();
  if (!from_stdin) {
    if (auto err = session->start(src_opts.session); !err.empty()) {
      log::error(err);
      return 1;
    }
  }
  auto source_faults = faults_for(cfg, "source");
  children.push_back(
    {"source", !from_stdin,
     [=](const pipeline& p, const tree_checkpoint_ptr&) {
       return from_stdin ? system->spawn<caf::detached>(file_source_actor,
                                                        std::string{"-"},
                                                        p.assemblers)
                         : system->spawn(netlink_source_actor, src_opts,
                                         session, p.assemblers, p.sweeper,
                                         source_faults);
     }});
  auto connector_delay = cfg.connector_delay;
  if (cfg.proc_connector)
    children.push_back({"connector", true,
                        [=](const pipeline& p, const tree_checkpoint_ptr&) {
                          return system->spawn(proc_connector_actor, p.tree,
                                               connector_delay);
                        }});
  auto sup = sys.spawn(supervisor_actor, std::move(children),
                       cfg.restart_limits());
  self->monitor(sup);
  {
    std::lock_guard<std::mutex> guard{supervisor_mutex};
    supervisor = sup;
  }
  if (from_stdin) {
    if (auto h = current_pipeline(self, sup))
      self->send(h->source, run_atom::value); // Replies at the end of stdin.
  }
  auto dump_tree = [&](const caf::actor& tree) {
    self->request(tree, caf::infinite, tree_atom::value, std::string{},
                  std::string{}, false)
      .receive([&](const std::string& x) { std::fputs(x.c_str(), stderr); },
               [&](const caf::error&) {});
    if (cfg.tree_json.empty())
      return;
    self->request(tree, caf::infinite, tree_atom::value, std::string{},
                  std::string{}, true)
      .receive(
        [&](const std::string& x) {
          // Write then rename: a reader never sees half a file.
          auto tmp = cfg.tree_json + ".tmp";
          std::ofstream{tmp, std::ios::trunc} << x << '\n';
          std::rename(tmp.c_str(), cfg.tree_json.c_str());
        },
        [&](const caf::error&) {});
  };
  auto dump_current_tree = [&] {
    if (auto h = current_pipeline(self, sup))
      dump_tree(h->tree);
  };
  // Wait for a signal, the end of stdin, or the supervisor giving up.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  bool gave_up = false;
  caf::error why;
  auto next_print = std::chrono::steady_clock::now() + cfg.print_interval;
  // Rates: counters sampled every few seconds.
  constexpr auto rate_interval = std::chrono::seconds(5);
  auto last_sample_at = std::chrono::steady_clock::now();
  agent_metrics last_sample;
  while (!gave_up) {
    timespec tick{0, 100 * 1000 * 1000};
    auto sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      log::info("stopping on signal ", sig);
      break;
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_sample_at >= rate_interval) {
      if (auto h = current_pipeline(self, sup)) {
        auto sample = gather(self, *h, from_stdin);
        std::chrono::duration<double> dt = now - last_sample_at;
        compute_rates(sample, last_sample, dt.count());
        std::lock_guard<std::mutex> guard{board.mutex};
        board.rates = sample.rates;
        last_sample = std::move(sample);
      }
      last_sample_at = now;
    }
    if (sig == SIGUSR1
        || (cfg.print_interval.count() > 0 && now >= next_print)) {
      dump_current_tree();
      next_print = now + cfg.print_interval;
    }
    bool input_ended = false;
    self->receive(
      [&](caf::down_msg& down) {
        gave_up = true;
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
  server.stop();
  if (gave_up) {
    // The supervisor stopped every actor.
    session->stop();
    log::error("stopping: ", sys.render(why));
    return 1;
  }
  // The sources go first: rules removed and settings restored before the
  // rest drains. Their counters are read just before.
  pipeline h;
  if (auto current = current_pipeline(self, sup))
    h = *current;
  auto final_metrics = gather(self, h, from_stdin);
  self->request(sup, caf::infinite, halt_atom::value)
    .receive([](caf::ok_atom) {}, [](const caf::error&) {});
  session->stop();
  pipeline drained;
  auto total = drain_pipeline(self, sup, drained);
  int exit_code = 0;
  if (total) {
    final_metrics.assembly = *total;
    self->request(drained.tree, caf::infinite, stats_atom::value)
      .receive([&](const tree_counters& x) { final_metrics.tree = x; },
               [&](const caf::error&) {});
    if (cfg.print_tree || !cfg.tree_json.empty())
      dump_tree(drained.tree);
    if (drained.sink)
      self->request(drained.sink, caf::infinite, stats_atom::value)
        .receive(
          [&](uint64_t written, uint64_t) {
            final_metrics.lines_written = written;
          },
          [&](const caf::error&) {});
  } else {
    log::error("stopping: the supervisor gave up while draining");
    exit_code = 1;
  }
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  self->receive([](caf::down_msg&) {});
  final_metrics.rates = board.rates;
  std::fprintf(stderr, "auditree run summary\n%s",
               render_stats(final_metrics, false).c_str());
  return exit_code;
}

} // namespace auditree
