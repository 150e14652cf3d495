#include "actors/file_source_actor.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/fault.hpp"
#include "runtime/restart_policy.hpp"
#include "messages/type_ids.hpp"
#include "runtime/audit_parser.hpp"
#include "runtime/log.hpp"

namespace auditree {

namespace {

using self_pointer = caf::stateful_actor<file_source_state>*;

constexpr size_t chunk_size = 1 << 20;
// The kernel's largest record is 8970 bytes; anything far longer is not an
// audit record.
constexpr size_t max_line = 64 * 1024;
constexpr size_t max_in_flight_per_assembler = 4;
constexpr int idle_poll_ms = 10;
// Log the first malformed lines in full; count the rest.
constexpr uint64_t max_logged_malformed = 100;

void reject(self_pointer self, const char* reason) {
  auto& st = self->state;
  ++st.stats.num_malformed_lines;
  ++st.stats.skipped_lines[std::string{"malformed: "} + reason];
  if (st.stats.num_malformed_lines <= max_logged_malformed)
    log::warning(st.path, ":", st.stats.num_lines, ": malformed line (",
                 reason, ")");
  if (st.stats.num_malformed_lines == max_logged_malformed)
    log::warning(st.path, ": further malformed lines are only counted");
}

void take_line(self_pointer self, std::string_view line) {
  auto& st = self->state;
  ++st.stats.num_lines;
  if (line.empty() || line == "\r") {
    ++st.stats.skipped_lines["blank line"];
    return;
  }
  auto result = parse_line(line, st.unquoted);
  if (result.skipped) {
    ++st.stats.skipped_lines[result.skipped];
    return;
  }
  if (!result) {
    reject(self, result.error);
    return;
  }
  ++st.stats.num_records;
  st.batcher.add(result.record, st.stats.num_records);
}

void maybe_finish(self_pointer self) {
  auto& st = self->state;
  bool all_taken = std::all_of(st.in_flight.begin(), st.in_flight.end(),
                               [](size_t n) { return n == 0; });
  if (st.at_end && all_taken && st.done.pending())
    st.done.deliver(st.stats);
}

void schedule_read(self_pointer self) {
  auto& st = self->state;
  bool room = std::all_of(st.in_flight.begin(), st.in_flight.end(),
                          [](size_t n) {
                            return n < max_in_flight_per_assembler;
                          });
  if (st.at_end || st.read_scheduled || !room)
    return;
  st.read_scheduled = true;
  self->send(self, read_atom::value);
}

// Every assembler gets every round's watermark, even with no records for
// it, so the tree can merge their outputs back into arrival order.
void send_batches(self_pointer self) {
  auto& st = self->state;
  if (st.stats.num_records == st.watermark_sent)
    return;
  st.watermark_sent = st.stats.num_records;
  auto batches = st.batcher.take();
  for (size_t i = 0; i < batches.size(); ++i) {
    ++st.in_flight[i];
    send_records(self, st.assemblers[i], std::move(batches[i]),
                 st.watermark_sent);
  }
}

/// What one read gave: `size` bytes of text, and whether the input ended.
/// Gzip may give no text yet and not be at its end.
struct text_read {
  size_t size;
  bool at_end;
};

text_read inflate_text(self_pointer self, char* out) {
  auto& st = self->state;
  auto size = st.gzip->inflate(out, chunk_size);
  if (auto* error = st.gzip->error()) {
    // What follows corrupt data cannot be read: the input ends here.
    reject(self, error);
    return {size, true};
  }
  return {size, false};
}

// Reads the file once, or inflates what an earlier read left. Gzip is
// recognised by the input's first byte, so files, pipes and stdin may all
// be plain text or gzip.
text_read read_text(self_pointer self, char* out) {
  auto& st = self->state;
  if (st.gzip && !st.gzip->needs_input())
    return inflate_text(self, out);
  char* into = st.gzip ? st.compressed.data() : out;
  ssize_t n;
  do {
    n = ::read(st.fd, into, chunk_size);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    log::error(st.path, ": read failed: ", std::strerror(errno));
    n = 0;
  }
  auto size = static_cast<size_t>(n);
  if (size == 0) {
    if (st.gzip && st.gzip->finish() != nullptr)
      reject(self, st.gzip->error());
    return {0, true};
  }
  if (!st.gzip && !st.any_read && gzip_stream::starts_gzip({out, size})) {
    st.gzip = std::make_unique<gzip_stream>();
    st.compressed.assign(out, out + size);
    st.compressed.resize(chunk_size);
    into = st.compressed.data();
  }
  st.any_read = true;
  if (!st.gzip)
    return {size, false};
  st.gzip->feed(into, size);
  return inflate_text(self, out);
}

void read_chunk(self_pointer self) {
  auto& st = self->state;
  auto offset = st.pending;
  // A partial line never outgrows max_line (beyond, it is skipped), so the
  // first allocation serves every read.
  if (st.buffer.size() < offset + chunk_size)
    st.buffer.resize(std::max(offset, max_line) + chunk_size);
  auto [n, at_end] = read_text(self, st.buffer.data() + offset);
  st.stats.num_bytes += n;
  std::string_view rest{st.buffer.data(), offset + n};
  for (auto nl = rest.find('\n'); nl != std::string_view::npos;
       nl = rest.find('\n')) {
    if (st.skipping_line)
      st.skipping_line = false;
    else
      take_line(self, rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (at_end) {
    st.at_end = true;
    if (!rest.empty() && !st.skipping_line)
      take_line(self, rest); // A last line without a newline.
    rest = {};
  } else if (rest.size() > max_line && !st.skipping_line) {
    ++st.stats.num_lines;
    reject(self, "line too long");
    st.skipping_line = true;
  }
  if (st.skipping_line)
    rest = {};
  // The partial last line moves to the front for the next read.
  if (!rest.empty())
    std::memmove(st.buffer.data(), rest.data(), rest.size());
  st.pending = rest.size();
  send_batches(self);
  schedule_read(self);
  maybe_finish(self);
}

} // namespace

file_source_state::~file_source_state() {
  if (fd > 0)
    ::close(fd);
}

caf::behavior file_source_actor(self_pointer self, std::string path,
                                std::vector<caf::actor> assemblers) {
  log_exceptions(self);
  auto& st = self->state;
  st.path = path;
  for (auto& a : assemblers)
    st.assemblers.emplace_back(std::move(a));
  st.in_flight.resize(st.assemblers.size());
  st.batcher = record_batcher{st.assemblers.size()};
  st.fd = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (st.fd < 0) {
    log::error("cannot open ", path, ": ", std::strerror(errno));
    self->quit(caf::sec::cannot_open_file);
    return {};
  }
  return {
    [=](run_atom) {
      self->state.done = self->make_response_promise();
      schedule_read(self);
      return self->state.done;
    },
    [=](read_atom) {
      // An idle pipe is waited on briefly rather than read, so that the
      // actor keeps answering (stats, acks) while auditd has nothing to say.
      auto& gzip = self->state.gzip;
      pollfd ready{self->state.fd, POLLIN, 0};
      bool inflating = gzip && !gzip->needs_input();
      if (!inflating && ::poll(&ready, 1, idle_poll_ms) == 0) {
        self->send(self, read_atom::value);
        return;
      }
      self->state.read_scheduled = false;
      read_chunk(self);
    },
    [=](ack_atom, uint32_t index, uint64_t retain_from) {
      auto& st = self->state;
      if (index >= st.assemblers.size())
        return;
      st.assemblers[index].release_below(retain_from);
      if (st.in_flight[index] > 0)
        --st.in_flight[index];
      schedule_read(self);
      maybe_finish(self);
    },
    [=](rewire_atom, const std::string& name, const caf::actor& handle) {
      auto& st = self->state;
      auto index = assembler_index(name);
      if (index >= st.assemblers.size())
        return;
      rewire_records(self, st.assemblers[index], handle, st.watermark_sent);
      // Batches to the lost one are unacknowledged for good.
      st.in_flight[index] = st.assemblers[index].kept().size();
      schedule_read(self);
      maybe_finish(self);
    },
    [=](stats_atom) { return self->state.stats; },
    [=](crash_atom) { throw injected_fault{"file_source"}; },
    [=](mailbox_atom) { return uint64_t{self->mailbox().size()}; },
  };
}

} // namespace auditree
