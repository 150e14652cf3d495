#include "actors/supervisor_actor.hpp"

#include <caf/all.hpp>

#include "messages/type_ids.hpp"
#include "runtime/log.hpp"

namespace auditree {

namespace {

using self_pointer = caf::stateful_actor<supervisor_state>*;

// Where a child's handle lives in the pipeline; null for other names.
// `grow`: make the assembler's slot (as the children start).
caf::actor* slot(pipeline& p, const std::string& name, bool grow = false) {
  if (name == "sink")
    return &p.sink;
  if (name == "tree")
    return &p.tree;
  if (name == "source")
    return &p.source;
  if (name == "connector")
    return &p.connector;
  if (name == "sweeper")
    return &p.sweeper;
  auto i = assembler_index(name);
  if (i == SIZE_MAX)
    return nullptr;
  if (p.assemblers.size() <= i) {
    if (!grow)
      return nullptr;
    p.assemblers.resize(i + 1);
  }
  return &p.assemblers[i];
}

bool is_source(const std::string& name) {
  return name == "source" || name == "connector" || name == "sweeper";
}

// The actors that send to `name` and must learn its new handle.
std::vector<caf::actor> senders_to(const pipeline& p,
                                   const std::string& name) {
  if (name == "sink")
    return {p.tree};
  if (name == "tree") {
    auto result = p.assemblers;
    result.push_back(p.connector);
    result.push_back(p.sweeper);
    return result;
  }
  if (name == "sweeper" || assembler_index(name) != SIZE_MAX)
    return {p.source};
  return {};
}

void start(self_pointer self, const child_spec& spec) {
  auto& st = self->state;
  auto child = spec.spawn(st.current, st.checkpoint);
  self->monitor(child);
  st.names[child.address()] = spec.name;
  *slot(st.current, spec.name, true) = child;
}

// However the supervisor ends, its children end with it, sources first so
// that nothing new enters while the rest stops.
void stop_children(self_pointer self) {
  for (auto& [name, child] : named_children(self->state.current))
    if (child)
      self->send_exit(child, caf::exit_reason::user_shutdown);
}

// Gives up: the agent stops with `reason`.
void escalate(self_pointer self, const std::string& reason) {
  log::error("supervisor: ", reason);
  stop_children(self);
  self->quit(caf::make_error(caf::sec::runtime_error, reason));
}

void answer_waiting(self_pointer self) {
  auto& st = self->state;
  if (st.num_pending > 0)
    return;
  for (auto& promise : st.waiting)
    promise.deliver(st.current);
  st.waiting.clear();
}

void maybe_halted(self_pointer self) {
  auto& st = self->state;
  auto& p = st.current;
  if (!st.halting || p.source || p.connector || p.sweeper)
    return;
  for (auto& promise : st.halted)
    promise.deliver(caf::ok_atom::value);
  st.halted.clear();
}

void respawn(self_pointer self, const std::string& name) {
  auto& st = self->state;
  --st.num_pending;
  if (st.halting && is_source(name)) {
    maybe_halted(self);
    answer_waiting(self);
    return;
  }
  for (auto& spec : st.specs)
    if (spec.name == name)
      start(self, spec);
  ++st.current.generation;
  auto& child = *slot(st.current, name);
  for (auto& sender : senders_to(st.current, name))
    if (sender)
      self->send(sender, rewire_atom::value, name, child);
  // Records went by while it was down: let /proc tell what they said.
  if (st.current.sweeper && (name == "tree" || name == "source"
                             || name == "connector"))
    self->send(st.current.sweeper, sweep_atom::value);
  log::info("supervisor: ", name, " restarted");
  answer_waiting(self);
}

void on_down(self_pointer self, const caf::down_msg& down) {
  auto& st = self->state;
  auto i = st.names.find(down.source);
  if (i == st.names.end())
    return;
  auto name = i->second;
  st.names.erase(i);
  *slot(st.current, name) = caf::actor{};
  bool stopped = down.reason == caf::exit_reason::normal
                 || down.reason == caf::exit_reason::user_shutdown;
  if (stopped || (st.halting && is_source(name))) {
    maybe_halted(self);
    return;
  }
  auto why = self->system().render(down.reason);
  bool restartable = false;
  for (auto& spec : st.specs)
    if (spec.name == name)
      restartable = spec.restartable;
  if (!restartable) {
    escalate(self, name + " failed (" + why + ") and cannot be restarted");
    return;
  }
  auto decision = st.policy.on_failure(name, self->clock().now());
  if (!decision.restart) {
    escalate(self, decision.reason + " (last failure: " + why + ")");
    return;
  }
  log::warning("supervisor: ", decision.reason, " (", why, ")");
  ++st.num_pending;
  self->delayed_send(self, decision.delay, respawn_atom::value, name);
}

} // namespace

caf::behavior supervisor_actor(self_pointer self,
                               std::vector<child_spec> specs,
                               restart_options limits) {
  auto& st = self->state;
  st.specs = std::move(specs);
  st.policy = restart_policy{limits};
  // Released with the state when the supervisor ends.
  st.current.supervisor = caf::actor_cast<caf::actor>(self);
  for (auto& spec : st.specs)
    start(self, spec);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    stop_children(self);
    self->quit(msg.reason);
  });
  self->set_down_handler([self](caf::down_msg& down) { on_down(self, down); });
  return {
    [=](handles_atom) -> caf::result<pipeline> {
      auto& st = self->state;
      if (st.num_pending == 0)
        return st.current;
      st.waiting.push_back(self->make_response_promise());
      return caf::delegated<pipeline>{};
    },
    [=](respawn_atom, const std::string& name) { respawn(self, name); },
    [=](checkpoint_atom, tree_checkpoint_ptr& checkpoint) {
      auto& st = self->state;
      ++st.num_checkpoints;
      for (auto& a : st.current.assemblers)
        if (a)
          self->send(a, trim_atom::value, checkpoint->applied);
      if (st.current.connector)
        self->send(st.current.connector, trim_atom::value,
                   checkpoint->connector_applied);
      st.checkpoint = std::move(checkpoint);
    },
    [=](crash_atom, const std::string& name,
        bool kill) -> caf::result<std::string> {
      auto& st = self->state;
      auto* child = slot(st.current, name);
      if (child == nullptr || !*child)
        return caf::make_error(caf::sec::invalid_argument,
                               "no running actor named " + name);
      if (kill)
        self->send_exit(*child, caf::exit_reason::kill);
      else
        self->send(*child, crash_atom::value);
      return name + (kill ? " killed" : " told to throw");
    },
    [=](halt_atom) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      st.halting = true;
      st.halted.push_back(self->make_response_promise());
      for (auto* child : {&st.current.source, &st.current.connector,
                          &st.current.sweeper})
        if (*child)
          self->send_exit(*child, caf::exit_reason::user_shutdown);
      maybe_halted(self);
      return caf::delegated<caf::ok_atom>{};
    },
    [=](stats_atom) {
      auto& st = self->state;
      supervision_stats result;
      for (auto& [name, n] : st.policy.restarts()) {
        result.children.push_back(name);
        result.restarts.push_back(n);
      }
      result.near_exhaustion = st.policy.near_exhaustion(self->clock().now());
      result.num_checkpoints = st.num_checkpoints;
      return result;
    },
  };
}

std::vector<std::pair<std::string, caf::actor>>
named_children(const pipeline& p) {
  std::vector<std::pair<std::string, caf::actor>> result{
    {"source", p.source}, {"connector", p.connector}, {"sweeper", p.sweeper}};
  for (size_t i = 0; i < p.assemblers.size(); ++i)
    result.emplace_back(assembler_name(i), p.assemblers[i]);
  result.emplace_back("tree", p.tree);
  result.emplace_back("sink", p.sink);
  return result;
}

std::optional<pipeline> current_pipeline(caf::scoped_actor& self,
                                         const caf::actor& supervisor) {
  std::optional<pipeline> result;
  self->request(supervisor, caf::infinite, handles_atom::value)
    .receive([&](pipeline& x) { result = std::move(x); },
             [](const caf::error&) {});
  return result;
}

std::optional<assembler_stats> drain_pipeline(caf::scoped_actor& self,
                                              const caf::actor& supervisor,
                                              pipeline& handles) {
  // Each round that fails saw a replacement; the restart budget bounds
  // those, this bounds a stage that is gone for good.
  constexpr int max_rounds = 100;
  for (int round = 0; round < max_rounds; ++round) {
    auto before = current_pipeline(self, supervisor);
    if (!before)
      return std::nullopt;
    bool complete = true;
    auto fail = [&](const caf::error&) { complete = false; };
    assembler_stats total;
    for (auto& a : before->assemblers)
      self->request(a, caf::infinite, flush_atom::value)
        .receive([&](const assembler_stats& x) { total += x; }, fail);
    self->request(before->tree, caf::infinite, flush_atom::value)
      .receive([](uint64_t) {}, fail);
    if (before->sink)
      self->request(before->sink, caf::infinite, flush_atom::value)
        .receive([](uint64_t) {}, fail);
    auto after = current_pipeline(self, supervisor);
    if (!after)
      return std::nullopt;
    if (complete && after->generation == before->generation) {
      handles = std::move(*after);
      return total;
    }
  }
  log::error("the pipeline did not drain in ", max_rounds, " rounds");
  return std::nullopt;
}

} // namespace auditree
