#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>

#include <caf/actor.hpp>
#include <caf/message.hpp>

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

} // namespace auditree
