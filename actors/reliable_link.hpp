#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>

#include <caf/actor.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include "messages/audit_record.hpp"

namespace auditree {

/// Messages to one peer, kept until the peer no longer needs them, so that
/// a replacement of the peer (after a crash) gets them again. Holding a
/// `caf::message` costs a reference, not a copy.
class reliable_link {
public:
  struct entry {
    /// The highest sequence the message carries (0: none).
    uint64_t last_sequence;
    caf::message content;
    /// The lowest sequence of the input it was made of.
    uint64_t first_sequence;
  };

  reliable_link() = default;
  explicit reliable_link(caf::actor peer) : peer_(std::move(peer)) {}

  /// Sends `content` to the peer and keeps it.
  template <class Self>
  void send(Self* self, caf::message content, uint64_t last_sequence,
            uint64_t first_sequence = 0) {
    kept_.push_back(entry{last_sequence, content, first_sequence});
    if (peer_)
      self->send(peer_, std::move(content));
  }

  /// The peer is done with everything below `sequence`.
  void release_below(uint64_t sequence) {
    while (!kept_.empty() && kept_.front().last_sequence < sequence)
      kept_.pop_front();
  }

  /// The peer is done with the oldest message (it acknowledges in order).
  void release_oldest() {
    if (!kept_.empty())
      kept_.pop_front();
  }

  /// A replacement of the peer: it gets everything kept, in order.
  template <class Self>
  void rewire(Self* self, caf::actor peer) {
    peer_ = std::move(peer);
    for (auto& x : kept_)
      self->send(peer_, x.content);
  }

  /// The lowest `first_sequence` kept; UINT64_MAX when nothing is.
  uint64_t oldest_input() const {
    auto result = UINT64_MAX;
    for (auto& x : kept_)
      result = std::min(result, x.first_sequence);
    return result;
  }

  const caf::actor& peer() const { return peer_; }
  const std::deque<entry>& kept() const { return kept_; }

private:
  caf::actor peer_;
  std::deque<entry> kept_;
};

/// Sends `batch` with the source's `watermark` to the assembler behind
/// `link`, kept until the assembler no longer needs its last record.
template <class Self>
void send_records(Self* self, reliable_link& link, record_batch batch,
                  uint64_t watermark) {
  auto last = batch.empty() ? 0 : batch.back().sequence;
  link.send(self, caf::make_message(std::move(batch), watermark), last);
}

/// A new assembler behind `link`: it gets the batches kept for its
/// predecessor, then the newest `watermark`, which they may predate.
template <class Self>
void rewire_records(Self* self, reliable_link& link, caf::actor assembler,
                    uint64_t watermark) {
  link.rewire(self, std::move(assembler));
  send_records(self, link, record_batch{}, watermark);
}

} // namespace auditree
