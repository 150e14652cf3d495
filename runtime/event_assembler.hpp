#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/audit_event.hpp"
#include "messages/pipeline_stats.hpp"
#include "runtime/serial_ledger.hpp"

namespace auditree {

/// Groups records into events by their host (`node=`) and stamp: records
/// of different hosts never meet in one event, and each host's serials
/// have their own ledger. Records of different events
/// interleave and arrive out of order; an event closes on EOE, at once for
/// a record type that never has an EOE, or `timeout` after its first record
/// (rules may exclude EOE). PROCTITLE never closes an event. Time is passed
/// in, so callers (and tests) own the clock.
class event_assembler {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  struct options {
    std::chrono::milliseconds timeout{500};
    /// Bound on open events; the oldest closes early past it.
    size_t max_open = 1 << 16;
    /// This assembler sees the serials with serial % stride == k.
    uint32_t stride = 1;
    /// Bound on the hosts named by node= (each costs a ledger and a
    /// table); records of further hosts are refused and counted.
    size_t max_hosts = 1024;
  };

  explicit event_assembler(options opts);

  /// Adds one record; events it closes are appended to `out`. Returns
  /// false, leaving `record` as it was, for a record of a host past
  /// `max_hosts`.
  bool add(audit_record&& record, time_point now,
           std::vector<audit_event>& out);

  /// The lowest sequence an event closed later can carry: the smallest last
  /// record sequence among the open events (a timeout closes an event at
  /// its last record's place); UINT64_MAX when none is open.
  uint64_t lowest_open_sequence() const;

  /// The sequence of the oldest record an open event holds: a source must
  /// keep the records from there on to deliver them again if this
  /// assembler is lost; UINT64_MAX when none is open.
  uint64_t oldest_held_sequence() const;

  /// Closes the events whose timeout passed by `now`.
  void expire(time_point now, std::vector<audit_event>& out);

  /// The stream ended: closes every open event (as timeouts) and settles
  /// the serial ledger.
  void flush(std::vector<audit_event>& out);

  /// When the next open event times out, if any is open.
  std::optional<time_point> next_deadline();

  size_t num_open() const { return open_.size(); }

  /// Counters, including the serial ledger's.
  assembler_stats stats() const;

private:
  struct open_event {
    audit_event event;
    uint64_t sequence;
  };

  /// The host's number (0: the local host) above the serial.
  using event_key = uint64_t;

  struct pending {
    event_key key;
    uint64_t sequence;
    time_point deadline;
  };

  /// Nothing for a record of a new host past `max_hosts`.
  std::optional<event_key> key_of(const audit_record& record);
  serial_ledger& ledger_of(event_key key);

  void close(std::unordered_map<event_key, open_event>::iterator i,
             close_reason why, std::vector<audit_event>& out);
  void drop_closed_front();

  options opts_;
  std::unordered_map<event_key, open_event> open_;
  /// The hosts seen, numbered from 1 in order of appearance.
  std::map<std::string, uint32_t, std::less<>> hosts_;
  /// Open order, for timeouts; entries of events closed since are skipped.
  std::deque<pending> order_;
  uint64_t next_sequence_ = 0;
  /// One per host, by its number.
  std::vector<serial_ledger> ledgers_;
  assembler_stats stats_;
};

} // namespace auditree
