#include "runtime/orphan_watch.hpp"

#include <algorithm>

namespace auditree {

orphan_rule orphan_rule_for(bool deaths_reported,
                            std::chrono::milliseconds wait) {
  if (!deaths_reported)
    return orphan_rule::keep;
  return wait.count() > 0 ? orphan_rule::wait : orphan_rule::move;
}

void orphan_watch::watch(const process_key& child, const process_key& parent,
                         time_point due) {
  // A later parent end never comes due earlier: keep the deque sorted.
  if (!entries_.empty() && due < entries_.back().due)
    due = entries_.back().due;
  entries_.push_back(entry{child, parent, due});
  if (entries_.size() > max_entries)
    ++overflow_;
}

std::vector<orphan_watch::entry> orphan_watch::take_due(time_point now) {
  std::vector<entry> result;
  while (!entries_.empty()
         && (overflow_ > 0 || !(now < entries_.front().due))) {
    result.push_back(entries_.front());
    entries_.pop_front();
    if (overflow_ > 0)
      --overflow_;
  }
  return result;
}

std::vector<orphan_watch::entry>
orphan_watch::take_of(const process_key& parent) {
  std::vector<entry> result;
  auto mine = [&](const entry& e) { return e.parent == parent; };
  std::copy_if(entries_.begin(), entries_.end(), std::back_inserter(result),
               mine);
  if (!result.empty()) {
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), mine),
                   entries_.end());
    overflow_ = std::min(overflow_, entries_.size());
  }
  return result;
}

} // namespace auditree
