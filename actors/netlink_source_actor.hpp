#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

#include "actors/audit_session.hpp"
#include "actors/netlink_reader.hpp"
#include "actors/reliable_link.hpp"
#include "messages/audit_record.hpp"
#include "messages/pipeline_stats.hpp"
#include "runtime/counter_ledger.hpp"
#include "runtime/fault_plan.hpp"
#include "runtime/latency_histogram.hpp"
#include "runtime/record_batcher.hpp"

namespace auditree {

struct netlink_source_options {
  audit_session_options session;
  /// SO_RCVBUF for the read socket (multicast overflows show as ENOBUFS).
  int receive_buffer = 64 << 20;
  /// Records are handed to the assemblers at most this long after they
  /// arrived (see netlink_reader).
  caf::timespan batch_delay = std::chrono::milliseconds{4};
  /// How often AUDIT_GET is polled for lost and backlog.
  caf::timespan status_interval = std::chrono::seconds{1};
  /// The last sequence given to a record, shared by the copies of these
  /// options: a replacement source goes on numbering where the lost one
  /// stopped, so the tree never takes its records for ones it has seen.
  std::shared_ptr<std::atomic<uint64_t>> last_sequence
    = std::make_shared<std::atomic<uint64_t>>(0);
  /// Where the source's counters outlive it; may be null.
  std::shared_ptr<counter_ledger> ledger;
};

/// State of the kernel audit source. Member order matters: the reader
/// (and its thread) stops first.
struct netlink_source_state {
  static inline const char* name = "netlink_source";

  /// Stops the reader, then hands the counters to the ledger, however the
  /// actor ends.
  ~netlink_source_state();

  /// The agent's rules and settings, which outlive this actor.
  std::shared_ptr<audit_session> session;
  /// One per assembler: batches stay until it no longer needs them, so
  /// that a replacement gets them again.
  std::vector<reliable_link> assemblers;
  /// Filled on the reader's thread only, between two `drained` calls; its
  /// batches are handed to this actor, which routes them.
  record_batcher batcher{1};
  uint64_t watermark_sent = 0;
  caf::actor router;
  /// The newest watermark routed (the actor's own copy).
  uint64_t watermark_routed = 0;
  std::shared_ptr<std::atomic<uint64_t>> last_sequence;
  std::atomic<uint64_t> num_malformed{0};
  /// Audit stamp to each event's EOE read: added on the reader's thread.
  std::mutex delivery_mutex;
  latency_histogram delivery;
  netlink_source_stats kernel;
  caf::timespan status_interval{};
  /// Told (`sweep`) when the kernel or the socket dropped records, so the
  /// tree is reconciled with /proc early; may be empty.
  caf::actor on_loss;
  uint64_t losses_seen = 0;
  fault_injector faults;
  std::shared_ptr<counter_ledger> ledger;
  std::unique_ptr<netlink_reader> reader;
};

/// Listens to the kernel audit stream (NETLINK_AUDIT, multicast group
/// AUDIT_NLGRP_READLOG or unicast as the registered daemon) through a
/// Boost.Asio reader thread. Every datagram is copied once into an owned
/// `audit_record` (those of one read share one block of text) and routed
/// to `assemblers[serial % N]` in batches. The agent's `session` holds the
/// rules and settings; a replacement of this actor opens a new socket (and
/// registers it, in unicast mode), and the events the kernel emitted in
/// between show as serial gaps. If the socket cannot be set up, the actor
/// quits with the reason logged.
/// Protocol:
/// - `record_batches, watermark` (from the reader thread): routes batch K
///   to assembler K, each with the watermark.
/// - `ack, index, retain_from` (from an assembler): it no longer needs the
///   records below `retain_from`.
/// - `rewire, "assembler-K" | "sweeper", handle`: a replacement; a new
///   assembler gets the records its predecessor might still have needed.
/// - `status` (self, periodic): polls AUDIT_GET (lost, backlog); tells
///   `on_loss` when lost or ENOBUFS grew.
/// - `stats` -> `netlink_source_stats`; the ledger, when given, gets them
///   too, and a last time as the actor ends.
/// - `crash`: throws (fault injection).
/// - `mailbox` -> `uint64_t`: the messages waiting, for /metrics.
caf::behavior
netlink_source_actor(caf::stateful_actor<netlink_source_state>* self,
                     netlink_source_options opts,
                     std::shared_ptr<audit_session> session,
                     std::vector<caf::actor> assemblers,
                     caf::actor on_loss, fault_injector faults);

} // namespace auditree
