#pragma once

// process.entry_leader: the process by which the session of an event's
// process entered the host or container, from the tree at the event (never
// /proc). Walking up from the process itself, the first lifetime that is
// - a container's init: `container`;
// - a child of sshd (or OpenSSH's sshd-session) that is not one itself:
//   `sshd`;
// - a child of login, agetty, getty or mingetty that is not one itself:
//   `terminal`;
// - a child of the host's pid 1 (a service, a daemon, a console):
//   `init`.
// The walk stops without a leader where the table no longer holds a
// lifetime of the chain. Pure.

#include <optional>
#include <string>

#include "runtime/process_tree.hpp"

namespace auditree {

struct entry_leader {
  /// A view into the tree: valid until the tree changes.
  process_view process;
  /// container, sshd, terminal or init.
  std::string type;
};

/// The entry leader of `self`, a lifetime of `tree`.
std::optional<entry_leader> find_entry_leader(const process_tree& tree,
                                              const process_view& self);

} // namespace auditree
