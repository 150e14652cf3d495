#include "runtime/proc_connector.hpp"

#include <cstring>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

namespace auditree {

std::optional<process_event>
proc_connector_decoder::decode(const char* data, size_t size,
                               uint64_t now_ms) {
  constexpr size_t header = NLMSG_HDRLEN + sizeof(cn_msg);
  if (size < header + offsetof(proc_event, event_data)) {
    ++stats_.num_malformed;
    return std::nullopt;
  }
  cn_msg msg;
  std::memcpy(&msg, data + NLMSG_HDRLEN, sizeof(msg));
  if (msg.id.idx != CN_IDX_PROC || msg.id.val != CN_VAL_PROC
      || msg.len > size - header) {
    ++stats_.num_malformed;
    return std::nullopt;
  }
  proc_event ev;
  std::memset(&ev, 0, sizeof(ev));
  std::memcpy(&ev, data + header, std::min<size_t>(msg.len, sizeof(ev)));
  ++stats_.num_messages;
  // The kernel numbers messages per CPU: a jump is a loss.
  auto [it, fresh] = next_seq_.emplace(ev.cpu, msg.seq + 1);
  if (!fresh) {
    auto missed = static_cast<int32_t>(msg.seq - it->second);
    if (missed > 0)
      stats_.num_gaps += static_cast<uint64_t>(missed);
    it->second = msg.seq + 1;
  }
  process_event out;
  out.source = fact_source::proc_connector;
  out.id = event_id{now_ms / 1000, static_cast<uint32_t>(now_ms % 1000),
                    msg.seq};
  switch (ev.what) {
    case proc_event::PROC_EVENT_FORK: {
      auto& f = ev.event_data.fork;
      if (f.child_pid != f.child_tgid) {
        ++stats_.num_thread_events;
        return std::nullopt;
      }
      out.action = process_action::fork;
      // The real parent (with CLONE_PARENT, the caller's parent); the child
      // is a host pid, never a namespaced one.
      out.pid = f.parent_tgid;
      out.child = f.child_tgid;
      return out;
    }
    case proc_event::PROC_EVENT_EXEC:
      out.action = process_action::exec;
      out.pid = ev.event_data.exec.process_tgid;
      return out;
    case proc_event::PROC_EVENT_EXIT: {
      auto& e = ev.event_data.exit;
      if (e.process_pid != e.process_tgid) {
        ++stats_.num_thread_events;
        return std::nullopt;
      }
      out.action = process_action::exit;
      out.pid = e.process_tgid;
      out.ppid = e.parent_tgid;
      // task->exit_code is a wait status: status << 8, or the signal.
      out.exit_code = static_cast<int32_t>((e.exit_code >> 8) & 0xff);
      out.signal = static_cast<int32_t>(e.exit_code & 0x7f);
      return out;
    }
    case proc_event::PROC_EVENT_COMM: {
      // Threads name themselves too (Java, Go's runtime): not the process.
      auto& c = ev.event_data.comm;
      if (c.process_pid != c.process_tgid) {
        ++stats_.num_thread_events;
        return std::nullopt;
      }
      out.action = process_action::rename;
      out.pid = c.process_tgid;
      out.comm.assign(c.comm, strnlen(c.comm, sizeof(c.comm)));
      return out;
    }
    default:
      return std::nullopt;
  }
}

} // namespace auditree
