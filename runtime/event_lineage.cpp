#include "runtime/event_lineage.hpp"

#include "runtime/entity_id.hpp"
#include "runtime/entry_leader.hpp"
#include "runtime/process_leaders.hpp"

namespace auditree {

namespace {

bool is_known(const event_id& id) {
  return id.seconds != 0 || id.millis != 0;
}

void fill_entry_leader(process_lineage& out, const process_tree& tree,
                       std::string_view boot, const process_view& self) {
  auto leader = find_entry_leader(tree, self);
  if (!leader)
    return;
  auto& p = leader->process;
  out.entry_pid = p.pid;
  out.entry_entity_id = make_entity_id(boot, p.pid, stamp_ms(p.key.first_seen));
  out.entry_exe = std::string{p.exe};
  out.entry_name = std::string{p.comm};
  if (p.start)
    out.entry_start = *p.start;
  out.entry_type = std::move(leader->type);
}

void fill_ancestors(process_lineage& out, const process_tree& tree,
                    std::string_view boot, const process_view& parent,
                    size_t depth) {
  // Tetragon's ancestors: beyond the parent, which the event names already.
  auto end_of_chain = [](const process_view& p) {
    return p.pid == 1 || p.container_init;
  };
  if (end_of_chain(parent))
    return;
  auto next = parent.parent;
  while (out.ancestors.size() < depth && next.pid > 0
         && is_known(next.first_seen)) {
    auto a = tree.view(next);
    if (!a)
      break;
    out.ancestors.push_back(lineage_ancestor{
        make_entity_id(boot, a->pid, stamp_ms(a->key.first_seen)), a->pid,
        std::string{a->exe}, a->argv()});
    if (end_of_chain(*a))
      break;
    next = a->parent;
  }
}

} // namespace

void fill_lineage(process_event& ev, const process_tree& tree,
                  std::string_view boot, size_t ancestors_depth) {
  auto& out = ev.lineage;
  auto self = tree.view(subject_pid(ev));
  if (!self)
    return;
  out.entity_id =
      make_entity_id(boot, self->pid, stamp_ms(self->key.first_seen));
  if (self->start)
    out.start = *self->start;
  out.vpid = self->vpid;
  out.container_runtime = self->container_runtime;
  fill_entry_leader(out, tree, boot, *self);
  fill_leaders(out, tree, boot, self->pgid, self->sid);
  auto parent_pid = stream_parent_pid(ev);
  if (parent_pid <= 0)
    parent_pid = self->ppid;
  if (parent_pid <= 0)
    return;
  out.parent_pid = parent_pid;
  std::optional<process_view> parent;
  if (self->parent.pid == parent_pid && is_known(self->parent.first_seen))
    parent = tree.view(self->parent);
  if (!parent)
    parent = tree.view(parent_pid);
  if (!parent)
    return;
  out.parent_entity_id =
      make_entity_id(boot, parent->pid, stamp_ms(parent->key.first_seen));
  out.parent_vpid = parent->vpid;
  if (ancestors_depth > 0)
    fill_ancestors(out, tree, boot, *parent, ancestors_depth);
  out.parent_exe = std::string{parent->exe};
  out.parent_name = std::string{parent->comm};
  if (parent->joined_args) {
    out.parent_args = *parent->joined_args;
    out.parent_argc = parent->argc;
  }
  if (parent->start)
    out.parent_start = *parent->start;
}

std::optional<process_key> find_entity(const process_tree& tree,
                                       std::string_view boot,
                                       std::string_view entity) {
  if (!looks_like_entity_id(entity))
    return std::nullopt;
  for (auto& p : tree.snapshot())
    if (make_entity_id(boot, p.pid, stamp_ms(p.key.first_seen)) == entity)
      return p.key;
  return std::nullopt;
}

std::vector<process_info> ancestry_of(const process_tree& tree,
                                      const process_key& key) {
  std::vector<process_info> out;
  auto next = tree.find(key);
  while (next && out.size() < 4096) {
    auto parent = next->parent;
    out.push_back(std::move(*next));
    if (parent.pid <= 0 || !is_known(parent.first_seen))
      break;
    next = tree.find(parent);
  }
  return out;
}

} // namespace auditree
