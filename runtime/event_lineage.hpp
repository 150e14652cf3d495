#pragma once

// The lineage a stream event carries: the lifetime of its process and of
// its parent as the table holds them when the event leaves the tree (after
// the table applied it, and for a held fork once the table placed its
// child). From the table only, never /proc, so replay gives what live
// gives. Pure.

#include <string_view>

#include "messages/process_event.hpp"
#include "runtime/process_tree.hpp"

namespace auditree {

/// Fills `ev.lineage` from `tree` (the table of `ev`'s host, booted as
/// `boot`, see entity_id.hpp): the newest lifetime of the subject pid, and
/// its parent's lifetime (the table's link when it names the same pid,
/// else the newest lifetime of the parent pid the event names; the
/// table's parent when the event names none); and up to `ancestors_depth`
/// lifetimes beyond the parent, as the table links them, ending with pid 1
/// or the container's init.
void fill_lineage(process_event& ev, const process_tree& tree,
                  std::string_view boot, size_t ancestors_depth = 0);

/// The lifetime in `tree` (booted as `boot`) whose entity id is `entity`.
std::optional<process_key> find_entity(const process_tree& tree,
                                       std::string_view boot,
                                       std::string_view entity);

/// That lifetime followed by its parents' lifetimes as the table links
/// them, up to the root or the first parent it no longer holds (at most
/// 4096 levels): process_tree::ancestry for one lifetime, not the newest
/// of its pid.
std::vector<process_info> ancestry_of(const process_tree& tree,
                                      const process_key& key);

} // namespace auditree
