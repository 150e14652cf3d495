#pragma once

// Decoding of the kernel's proc connector (NETLINK_CONNECTOR, CN_IDX_PROC):
// FORK, EXEC, EXIT and COMM (a new name) of every task, signal deaths
// included. Audit has no
// record for a death by signal or a pid-namespace teardown; the connector
// is the exit oracle. Pure: datagrams and time come in as parameters.

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "messages/pipeline_stats.hpp"
#include "messages/process_event.hpp"

namespace auditree {

/// Turns connector datagrams into process events (source proc_connector):
/// a fork of a process (not a thread), an exec, the exit of a process with
/// its exit status or killing signal, a process's new name. Counts
/// sequence gaps per CPU.
class proc_connector_decoder {
public:
  /// Decodes one datagram (netlink header, cn_msg, proc_event) received at
  /// `now_ms` (Unix time in milliseconds, which stamps the event).
  std::optional<process_event> decode(const char* data, size_t size,
                                      uint64_t now_ms);

  const connector_stats& stats() const { return stats_; }

private:
  std::unordered_map<uint32_t, uint32_t> next_seq_; // per CPU
  connector_stats stats_;
};

} // namespace auditree
