#pragma once

#include <cstdint>
#include <vector>

#include "messages/audit_record.hpp"

namespace auditree {

/// Why the assembler decided that an event had all its records.
enum class close_reason : uint8_t {
  eoe,        ///< An EOE record arrived.
  standalone, ///< The record type never has an EOE (ANOM_*, USER_*, ...).
  timeout,    ///< No EOE within the timeout, or the stream ended.
};

/// All records of one event, in arrival order.
struct audit_event {
  event_id id;
  std::vector<audit_record> records;
  close_reason closed_by = close_reason::eoe;
  /// Where in the arrival order the event closed: the sequence of its EOE
  /// or standalone record, or of its last record when a timeout closed it.
  uint64_t sequence = 0;
};

inline const char* to_string(close_reason x) {
  switch (x) {
    case close_reason::eoe:
      return "eoe";
    case close_reason::standalone:
      return "standalone";
    case close_reason::timeout:
      return "timeout";
  }
  return "?";
}

} // namespace auditree
