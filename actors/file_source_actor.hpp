#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/reliable_link.hpp"
#include "messages/audit_record.hpp"
#include "messages/pipeline_stats.hpp"
#include "runtime/gzip_stream.hpp"
#include "runtime/record_batcher.hpp"

namespace auditree {

/// State of a source that reads audit.log text (a file, or stdin when an
/// auditd plugin).
struct file_source_state {
  static inline const char* name = "file_source";

  ~file_source_state();

  int fd = -1;
  std::string path;
  /// The read buffer: its first `pending` bytes were read but not yet
  /// split into lines (a partial last line). It keeps its size from read
  /// to read, so a read never pays for zeroing it again.
  std::vector<char> buffer;
  size_t pending = 0;
  /// True while the rest of an over-long line is being skipped.
  bool skipping_line = false;
  bool at_end = false;
  /// False until the first bytes arrive: they tell plain text from gzip.
  bool any_read = false;
  /// Set when the input is gzip: what is read goes to `compressed` and is
  /// inflated into `buffer`.
  std::unique_ptr<gzip_stream> gzip;
  std::vector<char> compressed;
  /// One per assembler: batches stay until it no longer needs them, so
  /// that a replacement gets them again.
  std::vector<reliable_link> assemblers;
  /// Batches sent but not yet acknowledged, per assembler, for flow
  /// control.
  std::vector<size_t> in_flight;
  record_batcher batcher{1};
  /// A record's text with a shipper's quotes removed, until the batcher
  /// copies it.
  std::string unquoted;
  /// The highest sequence (records numbered from 1) announced so far.
  uint64_t watermark_sent = 0;
  bool read_scheduled = false;
  source_stats stats;
  caf::response_promise done;
};

/// Reads `path` (`-` for stdin), plain text or gzip (known by its first
/// byte), line by line, copies each record once into an owned
/// `audit_record` (a read's records share one block of text), numbers it
/// (its sequence) and routes it to `assemblers[serial % N]` in
/// batches sent with the watermark. At most a few batches per assembler are
/// in flight, so a fast file never floods the assemblers' mailboxes (nor,
/// while an assembler is being replaced, this actor's memory). Malformed
/// lines are counted and logged with their line number, and reading goes
/// on. Runs detached: reading a pipe may block. A file source is not
/// restarted: its position dies with it.
/// Protocol:
/// - `run` -> `source_stats`: reads to the end; replies when every batch
///   was taken by its assembler.
/// - `ack, index, retain_from` (from an assembler): it took a batch and no
///   longer needs the records below `retain_from`.
/// - `rewire, "assembler-K", handle`: a new assembler K; it gets the
///   records its predecessor might still have needed.
/// - `stats` -> `source_stats`.
/// - `crash`: throws (fault injection).
/// - `mailbox` -> `uint64_t`: the messages waiting, for /metrics.
caf::behavior file_source_actor(caf::stateful_actor<file_source_state>* self,
                                std::string path,
                                std::vector<caf::actor> assemblers);

} // namespace auditree
