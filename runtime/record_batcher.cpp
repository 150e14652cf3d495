#include "runtime/record_batcher.hpp"

#include <memory>

namespace auditree {

void record_batcher::add(const record_view& record, uint64_t sequence) {
  auto& batch = pending_[record.id.serial % pending_.size()];
  // The node goes right before the text: a record finds it from there.
  text_.append(record.node);
  batch.push_back(pending_record{record.type, record.id, sequence,
                                 text_.size(), record.text.size(),
                                 static_cast<uint32_t>(record.node.size())});
  text_.append(record.text);
}

record_batches record_batcher::take() {
  // An exact-size block: a batch may be kept for a long while (until the
  // tree's checkpoint covers it); text_ keeps its capacity for the next.
  auto block = std::make_shared<const std::string>(text_);
  text_.clear();
  record_batches result(pending_.size());
  for (size_t i = 0; i < pending_.size(); ++i) {
    auto& batch = result[i];
    batch.reserve(pending_[i].size());
    for (auto& x : pending_[i])
      batch.emplace_back(x.type, x.id, x.sequence, block, x.offset, x.size,
                         x.node_size);
    pending_[i].clear();
  }
  return result;
}

} // namespace auditree
