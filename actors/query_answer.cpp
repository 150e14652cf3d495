// The query API's answers, asked of the actors (see query_answer.hpp).

#include "actors/query_answer.hpp"

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/all.hpp>

#include "actors/supervisor_actor.hpp"
#include "actors/tree_actor.hpp"
#include "messages/type_ids.hpp"
#include "runtime/container_ref.hpp"
#include "runtime/docker_names.hpp"
#include "runtime/podman_names.hpp"
#include "runtime/terminal_text.hpp"
#include "runtime/tree_render.hpp"

namespace auditree {

namespace {

// The tree's containers, docker's with the names from its root-owned
// state (runtime/docker_names.hpp), podman's with those its root conmons
// carry (runtime/podman_names.hpp); nullopt if the tree did not answer.
std::optional<container_candidates>
known_containers(caf::scoped_actor& self, const pipeline& h) {
  std::optional<container_candidates> known;
  self->request(h.tree, query_timeout, containers_atom::value)
    .receive([&](container_candidates& x) { known = std::move(x); },
             [](const caf::error&) {});
  if (!known)
    return known;
  std::vector<std::string> roots;
  std::optional<std::vector<proc_process>> conmons;
  bool looked = false;
  for (auto& c : *known) {
    auto slash = c.id.find('/');
    if (c.runtime == "podman") {
      if (!conmons)
        conmons = find_processes_named("/proc", "conmon");
      if (auto name = podman_name(*conmons, c.id.substr(slash + 1)))
        c.names.push_back(std::move(*name));
      continue;
    }
    if (c.runtime != "docker")
      continue;
    if (!looked) {
      roots = docker_data_roots(find_dockerd("/proc"),
                                [](const std::string& path) {
                                  return read_root_owned(path);
                                });
      looked = true;
    }
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
  std::string names;
  self->request(h.tree, query_timeout, host_atom::value, route.host)
    .receive(
      [&](bool x, std::string& y) {
        known = x;
        names = std::move(y);
      },
      [](const caf::error&) {});
  if (!known)
    return query_reply{503, "text/plain", "the tree did not answer\n"};
  if (!*known)
    return query_reply{404, "text/plain",
                       "no host " + terminal_safe(route.host) + "; its hosts: "
                         + (names.empty() ? "none" : terminal_safe(names))
                         + "\n"};
  return std::nullopt;
}

// /health: every actor answers, none is one failure from its restart budget.
query_reply health_reply(caf::scoped_actor& self, const pipeline& h,
                         const caf::actor& supervisor, bool from_stdin) {
  std::string problems;
  // `pressed`, for the tree: its memory budget acted lately.
  auto alive = [&](const caf::actor& x, const char* name, auto answer,
                   bool* pressed = nullptr) {
    if (!x)
      return;
    bool ok = false;
    self->request(x, query_timeout, stats_atom::value)
      .receive(
        [&](const decltype(answer)& got) {
          ok = true;
          if constexpr (std::is_same_v<decltype(answer), tree_counters>)
            if (pressed != nullptr)
              *pressed = got.budget_pressed;
        },
        [&](const caf::error&) {});
    if (!ok)
      problems += std::string{name} + " does not answer\n";
  };
  if (!from_stdin)
    alive(h.source, "the audit source", netlink_source_stats{});
  alive(h.connector, "the proc connector", connector_stats{});
  bool pressed = false;
  alive(h.tree, "the tree", tree_counters{}, &pressed);
  if (pressed)
    problems += "degraded: the tree evicted processes or kept execs bare "
                "within the last 60 s to stay within max-processes\n";
  self->request(supervisor, query_timeout, stats_atom::value)
    .receive(
      [&](const supervision_stats& x) {
        for (auto& name : x.near_exhaustion)
          problems += name + " is one failure away from its restart budget\n";
      },
      [&](const caf::error&) {
        problems += "the supervisor does not answer\n";
      });
  return problems.empty() ? query_reply{200, "text/plain", "ok\n"}
                          : query_reply{503, "text/plain", problems};
}

// /crash (tests): asks the supervisor to fail one actor.
query_reply crash_reply(caf::scoped_actor& self, const caf::actor& supervisor,
                        const query_route& route) {
  query_reply reply;
  self->request(supervisor, query_timeout, crash_atom::value, route.actor,
                route.kill)
    .receive(
      [&](const std::string& x) {
        reply = {200, "text/plain", x + "\n"};
      },
      [&](const caf::error&) {
        reply = {404, "text/plain",
                 "no running actor named " + terminal_safe(route.actor)
                   + " (source, connector, sweeper, assembler-K, tree, "
                     "sink)\n"};
      });
  return reply;
}

} // namespace

// A request timeout that ends by `deadline`, and never beyond
// query_timeout (at least 1 ms: CAF takes no zero timeout).
caf::timespan wait_until(std::chrono::steady_clock::time_point deadline) {
  auto now = std::chrono::steady_clock::now();
  if (deadline <= now)
    return std::chrono::milliseconds(1);
  auto left = std::chrono::duration_cast<caf::timespan>(deadline - now);
  return std::max<caf::timespan>(
    std::chrono::milliseconds(1),
    std::min<caf::timespan>(left, query_timeout));
}

// Asks every actor for its counters, which it reports to the ledger as it
// answers, and reads them from there: an actor that does not answer, or
// was replaced meanwhile, counts with what it reported last. All asking
// ends by `deadline`: with a wedged actor each question would wait in
// full.
agent_metrics gather(caf::scoped_actor& self, const pipeline& h,
                     bool from_stdin, const counter_ledger& ledger,
                     std::chrono::steady_clock::time_point deadline) {
  agent_metrics m;
  auto ignore = [](const caf::error&) {};
  auto timeout = [&] { return wait_until(deadline); };
  for (auto& [name, actor] : named_children(h))
    if (actor)
      self->request(actor, timeout(), mailbox_atom::value)
        .receive(
          [&, name = name](uint64_t n) { m.mailboxes.emplace_back(name, n); },
          ignore);
  if (h.source && from_stdin)
    self->request(h.source, timeout(), stats_atom::value)
      .receive([&](const source_stats& x) { m.file = x; }, ignore);
  else if (h.source)
    self->request(h.source, timeout(), stats_atom::value)
      .receive([](const netlink_source_stats&) {}, ignore);
  if (h.connector)
    self->request(h.connector, timeout(), stats_atom::value)
      .receive([](const connector_stats&) {}, ignore);
  for (auto& a : h.assemblers)
    self->request(a, timeout(), stats_atom::value)
      .receive([](const assembler_stats&) {}, ignore);
  self->request(h.tree, timeout(), stats_atom::value)
    .receive([](const tree_counters&) {}, ignore);
  if (h.sink)
    self->request(h.sink, timeout(), stats_atom::value)
      .receive([](uint64_t, uint64_t) {}, ignore);
  if (h.sweeper)
    self->request(h.sweeper, timeout(), stats_atom::value)
      .receive(
        [](uint64_t, uint64_t, uint64_t) {},
        ignore);
  self->request(h.supervisor, timeout(), stats_atom::value)
    .receive(
      [&](const supervision_stats& x) {
        for (size_t i = 0; i < x.children.size(); ++i)
          m.restarts.emplace_back(x.children[i], x.restarts[i]);
      },
      ignore);
  ledger.fill(m);
  return m;
}

// Answers one request of the query API (on the query server's thread).
query_reply answer(caf::actor_system& sys, const caf::actor& supervisor,
                   bool from_stdin, const counter_ledger& ledger,
                   rate_board& board, const query_api_stats& api,
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
  // The tree copies what a view selects; it is rendered here, on the
  // query server's thread, so a large answer never holds up ingestion.
  auto view = [&](auto render) {
    self->request(h.tree, query_timeout, view_atom::value, route.container,
                  route.host)
      .receive(
        [&](const tree_view_ptr& x) {
          reply.body = route.json ? render_view_json(*x)
                                  : render_view_text(*x, render);
        },
        [&](const caf::error& err) {
          reply = {503, "text/plain",
                   "the tree did not answer: " + sys.render(err) + "\n"};
        });
  };
  switch (route.kind) {
    case query_route::tree_view:
    case query_route::container_tree:
      view(render_pstree);
      break;
    case query_route::process_list:
      view(render_ps);
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
    case query_route::metrics: {
      auto m = gather(self, h, from_stdin, ledger);
      m.api = api;
      reply = {200, "text/plain; version=0.0.4", render_prometheus(m)};
      break;
    }
    case query_route::stats: {
      auto m = gather(self, h, from_stdin, ledger);
      m.api = api;
      {
        std::lock_guard<std::mutex> guard{board.mutex};
        m.rates = board.rates;
      }
      reply.body = render_stats(m, route.json);
      break;
    }
    case query_route::health:
      reply = health_reply(self, h, supervisor, from_stdin);
      break;
    case query_route::crash:
      reply = crash_reply(self, supervisor, route);
      break;
    case query_route::error:
      reply = {route.status, "text/plain", route.message + "\n"};
      break;
  }
  return reply;
}

} // namespace auditree
