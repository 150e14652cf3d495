#include "runtime/event_assembler.hpp"

#include <algorithm>

#include "runtime/record_types.hpp"

namespace auditree {

namespace {

constexpr size_t typical_records = 8;

} // namespace

event_assembler::event_assembler(options opts)
  : opts_(opts), ledgers_(1, serial_ledger{opts.stride}) {
}

std::optional<event_assembler::event_key> event_assembler::key_of(
  const audit_record& record) {
  auto node = record.node();
  uint64_t host = 0;
  if (!node.empty()) {
    // Records without node= (all of them, live) never pay for a lookup;
    // the others copy their node only when it is new.
    auto i = hosts_.find(node);
    if (i == hosts_.end()) {
      if (hosts_.size() >= opts_.max_hosts)
        return std::nullopt;
      auto number = static_cast<uint32_t>(hosts_.size() + 1);
      i = hosts_.emplace(std::string{node}, number).first;
      ledgers_.emplace_back(opts_.stride);
    }
    host = i->second;
  }
  return host << 32 | record.id.serial;
}

serial_ledger& event_assembler::ledger_of(event_key key) {
  return ledgers_[key >> 32];
}

void event_assembler::close(
  std::unordered_map<event_key, open_event>::iterator i, close_reason why,
  std::vector<audit_event>& out) {
  auto& ev = i->second.event;
  ev.closed_by = why;
  // EOE closes at its own place; a timeout where the EOE would have come,
  // right after the last record.
  ev.sequence = ev.records.back().sequence;
  switch (why) {
    case close_reason::eoe:
      ++stats_.num_closed_by_eoe;
      break;
    case close_reason::standalone:
      ++stats_.num_closed_standalone;
      break;
    case close_reason::timeout:
      ++stats_.num_closed_by_timeout;
      break;
  }
  out.push_back(std::move(ev));
  open_.erase(i);
}

void event_assembler::drop_closed_front() {
  while (!order_.empty()) {
    auto i = open_.find(order_.front().key);
    if (i != open_.end() && i->second.sequence == order_.front().sequence)
      return;
    order_.pop_front();
  }
}

bool event_assembler::add(audit_record&& record, time_point now,
                          std::vector<audit_event>& out) {
  ++stats_.num_records;
  auto host_key = key_of(record);
  if (!host_key) {
    ++stats_.num_hosts_refused;
    return false;
  }
  auto key = *host_key;
  auto num_out = out.size();
  auto i = open_.find(key);
  if (i != open_.end() && i->second.event.id != record.id) {
    // Same serial, other stamp: the counter wrapped or the input mixes
    // boots. The old event cannot get more records.
    close(i, close_reason::timeout, out);
    i = open_.end();
  }
  if (i == open_.end()) {
    ++stats_.num_events;
    auto type = record.type;
    if (!record_types::is_daemon(type))
      ledger_of(key).observe(record.id.serial);
    if (record_types::is_standalone(type)) {
      out.push_back(audit_event{record.id, {}, close_reason::standalone,
                                record.sequence});
      out.back().records.push_back(std::move(record));
      ++stats_.num_closed_standalone;
      return true;
    }
    if (open_.size() >= opts_.max_open) {
      drop_closed_front();
      if (!order_.empty()) {
        ++stats_.num_evicted;
        close(open_.find(order_.front().key), close_reason::timeout, out);
        order_.pop_front();
      }
    }
    auto sequence = next_sequence_++;
    i = open_.emplace(key, open_event{audit_event{record.id, {}, {}},
                                         sequence})
          .first;
    // One allocation for a whole event: a fork or an exit has 3 records,
    // an exec about 7 (SYSCALL, EXECVE, CWD, PATHs, PROCTITLE, EOE).
    i->second.event.records.reserve(typical_records);
    order_.push_back(pending{key, sequence, now + opts_.timeout});
  }
  auto type = record.type;
  i->second.event.records.push_back(std::move(record));
  if (type == record_types::eoe)
    close(i, close_reason::eoe, out);
  // Only a close leaves a closed event's entry at the front of order_;
  // without one, the front is as the last drop left it.
  if (out.size() != num_out)
    drop_closed_front();
  return true;
}

uint64_t event_assembler::lowest_open_sequence() const {
  auto result = UINT64_MAX;
  for (auto& [serial, open] : open_)
    result = std::min(result, open.event.records.back().sequence);
  return result;
}

uint64_t event_assembler::oldest_held_sequence() const {
  auto result = UINT64_MAX;
  for (auto& [serial, open] : open_)
    result = std::min(result, open.event.records.front().sequence);
  return result;
}

void event_assembler::expire(time_point now, std::vector<audit_event>& out) {
  for (drop_closed_front(); !order_.empty() && order_.front().deadline <= now;
       drop_closed_front()) {
    close(open_.find(order_.front().key), close_reason::timeout, out);
    order_.pop_front();
  }
}

void event_assembler::flush(std::vector<audit_event>& out) {
  for (drop_closed_front(); !order_.empty(); drop_closed_front()) {
    close(open_.find(order_.front().key), close_reason::timeout, out);
    order_.pop_front();
  }
  for (auto& ledger : ledgers_)
    ledger.finish();
}

std::optional<event_assembler::time_point> event_assembler::next_deadline() {
  drop_closed_front();
  if (order_.empty())
    return std::nullopt;
  return order_.front().deadline;
}

assembler_stats event_assembler::stats() const {
  auto result = stats_;
  for (auto& ledger : ledgers_) {
    result.num_serial_gaps += ledger.num_gaps();
    result.num_serial_late += ledger.num_late();
    result.num_serial_resets += ledger.num_resets();
  }
  return result;
}

} // namespace auditree
