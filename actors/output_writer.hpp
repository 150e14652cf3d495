#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace auditree {

/// Writes text to stdout or a file on its own thread, so a slow consumer
/// (a full pipe, a slow disk) never blocks an actor. The queue is bounded:
/// when it is full, new text is dropped and counted rather than growing
/// without bound. A file is rotated by size: `path` -> `path.1` -> ... ->
/// `path.KEEP`.
class output_writer {
public:
  /// Opens `path` to append (or, with `truncate`, to replace), creating it
  /// mode 0640. Never through a symlink: root writing where a link points
  /// would let whoever planted it pick the file. nullptr with the reason in
  /// `error` otherwise.
  static std::FILE* open_file(const std::string& path, bool truncate,
                              std::string& error);

  struct options {
    /// `-` for stdout, else a file (appended to).
    std::string path = "-";
    /// Bytes that may wait for the consumer; beyond, text is dropped.
    size_t max_queued = 16 << 20;
    /// Rotate the file once it reaches this size (0: never). When the file
    /// cannot be opened again after a rotation, lines count as dropped
    /// (as do lines whose write fails) and the open is tried again.
    uint64_t max_file_bytes = 0;
    /// Rotated files kept.
    unsigned keep = 5;
  };

  output_writer() = default;
  output_writer(const output_writer&) = delete;
  output_writer& operator=(const output_writer&) = delete;
  ~output_writer();

  /// Opens the output and starts the thread; an error message or empty.
  std::string start(options opts);

  /// Queues `text` (whole lines) holding `lines` lines; false if dropped.
  bool write(std::string text, uint64_t lines);

  /// An empty string, with the capacity of text written before when there
  /// is such: filling it spares the allocator a fresh mapping of a large
  /// batch (and the kernel its page faults) for every batch.
  std::string take_buffer();

  /// Waits until everything queued so far is written and flushed.
  void flush();

  uint64_t num_written() const;
  uint64_t num_dropped() const;

private:
  void run();
  void rotate();
  /// Writes one batch; false when it did not all get out (then it counts
  /// as dropped, never as written).
  bool write_out(const std::string& text);
  /// Opens the file again after a failed open, at most once per pause.
  bool reopen();

  options opts_;
  std::FILE* out_ = nullptr;
  uint64_t file_bytes_ = 0;
  std::chrono::steady_clock::time_point last_reopen_{};
  /// A write failed: logged once until one works again.
  bool write_failing_ = false;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  /// Ends the pause between writes early.
  std::condition_variable hurry_;
  std::deque<std::pair<std::string, uint64_t>> queue_;
  size_t queued_bytes_ = 0;
  /// Written text kept for take_buffer.
  std::vector<std::string> spare_;
  bool busy_ = false;
  bool stopping_ = false;
  /// Threads waiting in flush().
  int flushing_ = 0;
  uint64_t written_ = 0;
  uint64_t dropped_ = 0;
  std::thread thread_;
};

} // namespace auditree
