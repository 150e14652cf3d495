#include "runtime/process_name.hpp"

namespace auditree {

namespace {

uint64_t millis_of(const event_id& id) {
  return id.seconds * 1000 + id.millis;
}

} // namespace

bool process_name::take(const std::string& next, const event_id& next_at,
                        bool next_reported_after) {
  if (next.empty())
    return false;
  // Serials of different sources carry no order: compare times only.
  auto t = millis_of(next_at);
  auto current = millis_of(at);
  if (!comm.empty()
      && (t < current
          || (t == current && reported_after && !next_reported_after)))
    return false;
  comm = next;
  at = next_at;
  reported_after = next_reported_after;
  return true;
}

void process_name::inherit(const std::string& creator_comm) {
  if (!creator_comm.empty() && at == event_id{})
    comm = creator_comm;
}

} // namespace auditree
