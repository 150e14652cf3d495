#pragma once

// Helpers shared by the runtime tests: literal records and the corpus
// excerpts in tests/data (see tests/data/README.md for where each comes
// from).
//
// The excerpts, as the tests see them:
//
//   fork-storm.log      30 interleaved fork/exec/exit events of /bin/true,
//                       serials out of order (315520 before 315519)
//   kill-and-reuse.log  env/sleep execs, two standalone ANOM_ABEND records
//                       (sig=11, sig=6), interleaved exec events
//   threads-i386.log    threads.c (clone3, clone a0=50f00, vfork, fork),
//                       the i386 program (arch=40000003) and the exec chain
//                       (execveat, fexecve of a memfd)
//   long-argv.log       the argvdump execs L1, L2, L3, L4 and L6, whole
//   long-argv.notes.txt the truth file's `NOTE argv:` lines for them

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "messages/audit_event.hpp"
#include "runtime/audit_parser.hpp"
#include "runtime/event_assembler.hpp"

namespace auditree::test {

inline std::string data_path(std::string_view name) {
  return std::string{AUDITREE_TEST_DATA} + "/" + std::string{name};
}

/// The lines of a file in tests/data, without their newlines.
inline std::vector<std::string> read_lines(std::string_view name) {
  std::ifstream in{data_path(name), std::ios::binary};
  INFO("reading " << data_path(name));
  REQUIRE(in.good());
  std::vector<std::string> result;
  for (std::string line; std::getline(in, line);)
    result.push_back(std::move(line));
  REQUIRE(!result.empty());
  return result;
}

/// Parses one literal record line; the line must be well formed.
inline audit_record record(std::string_view line) {
  auto result = parse_line(line);
  INFO(line.substr(0, 120));
  REQUIRE(result.error == nullptr);
  return result.record.to_record();
}

inline std::vector<audit_record> records(const std::vector<std::string>& xs) {
  std::vector<audit_record> result;
  for (auto& x : xs)
    result.push_back(record(x));
  return result;
}

/// An event made of literal lines, without an assembler.
inline audit_event event(std::initializer_list<std::string_view> lines) {
  audit_event result;
  for (auto line : lines)
    result.records.push_back(record(line));
  REQUIRE(!result.records.empty());
  result.id = result.records.front().id;
  return result;
}

/// The stamp `SEC.MS:SERIAL` of a line, read with plain string search (an
/// oracle independent of the parser).
inline std::string stamp_of(std::string_view line) {
  auto open = line.find("msg=audit(");
  REQUIRE(open != std::string_view::npos);
  open += 10;
  auto close = line.find(')', open);
  REQUIRE(close != std::string_view::npos);
  return std::string{line.substr(open, close - open)};
}

inline std::string stamp_of(const event_id& id) {
  char ms[4];
  std::snprintf(ms, sizeof(ms), "%03u", static_cast<unsigned>(id.millis));
  return std::to_string(id.seconds) + "." + ms + ":"
         + std::to_string(id.serial);
}

/// A virtual clock: the assembler never reads a real one.
inline event_assembler::time_point at(std::chrono::milliseconds t) {
  return event_assembler::time_point{} + std::chrono::hours{1} + t;
}

/// Assembles all records, one virtual millisecond apart, then flushes.
inline std::vector<audit_event> assemble(std::vector<audit_record> xs,
                                         event_assembler::options opts = {}) {
  event_assembler aut{opts};
  std::vector<audit_event> out;
  std::chrono::milliseconds t{0};
  for (auto& x : xs) {
    aut.add(std::move(x), at(t), out);
    aut.expire(at(t), out);
    t += std::chrono::milliseconds{1};
  }
  aut.flush(out);
  return out;
}

/// The events of a file in tests/data, by stamp.
inline std::map<std::string, audit_event>
events_by_stamp(std::string_view name) {
  std::map<std::string, audit_event> result;
  for (auto& ev : assemble(records(read_lines(name))))
    result.emplace(stamp_of(ev.id), std::move(ev));
  return result;
}

/// The one event with this serial.
inline const audit_event&
with_serial(const std::map<std::string, audit_event>& events, uint32_t serial) {
  const audit_event* found = nullptr;
  for (auto& [stamp, ev] : events) {
    if (ev.id.serial == serial) {
      REQUIRE(found == nullptr);
      found = &ev;
    }
  }
  INFO("serial " << serial);
  REQUIRE(found != nullptr);
  return *found;
}

} // namespace auditree::test
