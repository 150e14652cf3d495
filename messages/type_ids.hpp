#pragma once

// The whole message protocol of auditree in one place: every type that
// travels between actors, every atom, and how CAF inspects them.

#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

#include "messages/audit_event.hpp"
#include "messages/audit_record.hpp"
#include "messages/process_event.hpp"

namespace auditree {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_id& x) {
  return f(caf::meta::type_name("event_id"), x.seconds, x.millis, x.serial);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_record& x) {
  return f(caf::meta::type_name("audit_record"), x.type, x.id, x.text);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_event& x) {
  return f(caf::meta::type_name("audit_event"), x.id, x.records,
           x.closed_by);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, process_event& x) {
  return f(caf::meta::type_name("process_event"), x.action, x.source, x.id,
           x.syscall, x.arch, x.pid, x.ppid, x.child, x.clone_flags,
           x.clone_flags_known, x.comm, x.exe, x.argv, x.cwd, x.uid, x.euid,
           x.auid, x.exit_code, x.signal);
}

} // namespace auditree

CAF_BEGIN_TYPE_ID_BLOCK(auditree, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(auditree, (auditree::event_id))
  CAF_ADD_TYPE_ID(auditree, (auditree::audit_record))
  CAF_ADD_TYPE_ID(auditree, (auditree::record_batch))
  CAF_ADD_TYPE_ID(auditree, (auditree::audit_event))
  CAF_ADD_TYPE_ID(auditree, (auditree::process_event))
  CAF_ADD_TYPE_ID(auditree, (auditree::process_event_batch))

  /// Periodic self-message: close events whose timeout passed.
  CAF_ADD_ATOM(auditree, auditree, tick_atom, "tick")
  /// The stream ended: close every open event and report.
  CAF_ADD_ATOM(auditree, auditree, flush_atom, "flush")
  /// Ask an actor for its counters.
  CAF_ADD_ATOM(auditree, auditree, stats_atom, "stats")

CAF_END_TYPE_ID_BLOCK(auditree)
