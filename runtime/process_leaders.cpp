#include "runtime/process_leaders.hpp"

#include "runtime/entity_id.hpp"

namespace auditree {

namespace {

// `leads` says whether a view of the leader's pid still holds the id.
template <class Leads>
void fill_leader(lineage_leader& out, const process_tree& tree,
                 std::string_view boot, int32_t id, Leads leads) {
  if (id <= 0)
    return;
  out.pid = id;
  auto b = tree.view(id);
  if (!b || !leads(*b))
    return;
  out.entity_id = make_entity_id(boot, id, stamp_ms(b->key.first_seen));
  out.exe = b->exe;
  out.name = b->comm;
  if (b->start)
    out.start = *b->start;
}

} // namespace

void fill_leaders(process_lineage& out, const process_tree& tree,
                  std::string_view boot, int32_t pgid, int32_t sid) {
  fill_leader(out.group_leader, tree, boot, pgid,
              [pgid](const process_view& b) { return b.pgid == pgid; });
  fill_leader(out.session_leader, tree, boot, sid,
              [sid](const process_view& b) { return b.sid == sid; });
}

} // namespace auditree
