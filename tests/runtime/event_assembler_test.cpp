#include "runtime/event_assembler.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "runtime/record_types.hpp"
#include "tests/runtime/record_fixture.hpp"

using namespace auditree;
using namespace std::chrono_literals;
using test::at;

namespace {

// The events of a list of lines as plain string work sees them: lines
// grouped by their `audit(...)` stamp, in arrival order.
struct oracle {
  std::map<std::string, std::vector<std::string>> events;
  /// Stamps in the order their last line arrives.
  std::vector<std::string> by_last_line;

  explicit oracle(const std::vector<std::string>& lines) {
    std::map<std::string, size_t> last;
    for (size_t i = 0; i < lines.size(); ++i) {
      auto stamp = test::stamp_of(lines[i]);
      events[stamp].push_back(lines[i]);
      last[stamp] = i;
    }
    std::vector<std::pair<size_t, std::string>> order;
    for (auto& [stamp, i] : last)
      order.emplace_back(i, stamp);
    std::sort(order.begin(), order.end());
    for (auto& entry : order)
      by_last_line.push_back(entry.second);
  }
};

bool is_eoe(const std::string& line) {
  return line.rfind("type=EOE ", 0) == 0;
}

// Checks that `events` are exactly the oracle's, record by record.
void check_same_events(const std::vector<audit_event>& events,
                       const oracle& expected, bool without_eoe = false) {
  REQUIRE(events.size() == expected.events.size());
  std::set<std::string> seen;
  for (auto& ev : events) {
    auto stamp = test::stamp_of(ev.id);
    INFO("event " << stamp);
    CHECK(seen.insert(stamp).second);
    auto i = expected.events.find(stamp);
    REQUIRE(i != expected.events.end());
    std::vector<std::string> lines;
    for (auto& line : i->second)
      if (!without_eoe || !is_eoe(line))
        lines.push_back(line);
    REQUIRE(ev.records.size() == lines.size());
    for (size_t k = 0; k < lines.size(); ++k) {
      auto rec = test::record(lines[k]);
      CHECK(ev.records[k].type == rec.type);
      CHECK(ev.records[k].id == ev.id);
      CHECK(ev.records[k].text() == rec.text());
    }
  }
}

audit_record syscall_record(uint32_t serial, uint32_t millis = 726) {
  // An exit_group of /bin/true from fork-storm.log, stamp varied.
  audit_record result = test::record(
      "type=SYSCALL msg=audit(1795990082.726:315514): arch=c000003e "
      "syscall=231 a0=0 a1=e7 a2=3c a3=7ffd2974eeb0 items=0 ppid=17180 "
      "pid=17183 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 "
      "sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"true\" "
      "exe=\"/usr/bin/true\" key=\"feasibility\"");
  result.id.serial = serial;
  result.id.millis = millis;
  return result;
}

audit_record with_type(const audit_record& x, uint32_t type,
                       std::string_view text) {
  return audit_record{type, x.id, text, x.sequence};
}

audit_record proctitle_record(uint32_t serial, uint32_t millis = 726) {
  return with_type(syscall_record(serial, millis), record_types::proctitle,
                   "proctitle=\"true\"");
}

audit_record eoe_record(uint32_t serial, uint32_t millis = 726) {
  return with_type(syscall_record(serial, millis), record_types::eoe, "");
}

event_assembler::options with_timeout(std::chrono::milliseconds timeout) {
  event_assembler::options result;
  result.timeout = timeout;
  return result;
}

} // namespace

TEST_CASE("event_assembler: interleaved fork-storm events assemble exactly") {
  auto lines = test::read_lines("fork-storm.log");
  oracle expected{lines};
  REQUIRE(expected.events.size() == 30);
  event_assembler aut{with_timeout(500ms)};
  std::vector<audit_event> out;
  auto t = 0ms;
  for (auto& line : lines) {
    aut.add(test::record(line), at(t), out);
    aut.expire(at(t), out);
    t += 1ms;
  }
  CHECK(aut.num_open() == 0);
  CHECK_FALSE(aut.next_deadline());
  check_same_events(out, expected);
  // Each closed on its EOE, in the order the EOEs arrived.
  std::vector<std::string> order;
  for (auto& ev : out) {
    CHECK(ev.closed_by == close_reason::eoe);
    CHECK(ev.records.back().type == record_types::eoe);
    order.push_back(test::stamp_of(ev.id));
  }
  CHECK(order == expected.by_last_line);
  auto stats = aut.stats();
  CHECK(stats.num_records == lines.size());
  CHECK(stats.num_events == 30);
  CHECK(stats.num_closed_by_eoe == 30);
  CHECK(stats.num_closed_by_timeout == 0);
  CHECK(stats.num_closed_standalone == 0);
  CHECK(stats.num_evicted == 0);
  aut.flush(out);
  CHECK(out.size() == 30);
  // Serials 315512..315541 all arrived, 315519 after 315520.
  CHECK(aut.stats().num_serial_gaps == 0);
  CHECK(aut.stats().num_serial_late == 0);
}

TEST_CASE("event_assembler: an exec event interleaved with another") {
  // 315516 and 315517 interleave record by record; 315516's PROCTITLE and
  // EOE come after five other events closed.
  auto events = test::events_by_stamp("fork-storm.log");
  auto& ev = test::with_serial(events, 315516);
  std::vector<uint32_t> types;
  for (auto& rec : ev.records)
    types.push_back(rec.type);
  CHECK(types
        == std::vector<uint32_t>{record_types::syscall, 1321,
                                 record_types::execve, record_types::cwd,
                                 record_types::path, record_types::path,
                                 record_types::proctitle, record_types::eoe});
  CHECK(ev.records[4].text().find("item=0 name=\"/bin/true\"") == 0);
  CHECK(ev.records[5].text().find("item=1 ") == 0);
}

TEST_CASE("event_assembler: every excerpt assembles into its stamps") {
  auto name =
      GENERATE(as<std::string>{}, "fork-storm.log", "kill-and-reuse.log",
               "threads-i386.log", "long-argv.log");
  INFO(name);
  auto lines = test::read_lines(name);
  oracle expected{lines};
  auto events = test::assemble(test::records(lines));
  check_same_events(events, expected);
  for (auto& ev : events)
    CHECK(ev.closed_by != close_reason::timeout);
}

TEST_CASE("event_assembler: a standalone ANOM_ABEND closes at once") {
  auto lines = test::read_lines("kill-and-reuse.log");
  oracle expected{lines};
  event_assembler aut{with_timeout(500ms)};
  std::vector<audit_event> out;
  size_t num_abends = 0;
  auto t = 0ms;
  for (auto& line : lines) {
    auto before = out.size();
    auto rec = test::record(line);
    auto type = rec.type;
    aut.add(std::move(rec), at(t), out);
    if (type == record_types::anom_abend) {
      ++num_abends;
      REQUIRE(out.size() == before + 1);
      CHECK(out.back().closed_by == close_reason::standalone);
      REQUIRE(out.back().records.size() == 1);
      CHECK(out.back().records[0].text().find(" sig=") != std::string::npos);
    }
    t += 1ms;
  }
  CHECK(num_abends == 2);
  CHECK(aut.num_open() == 0);
  check_same_events(out, expected);
  auto stats = aut.stats();
  CHECK(stats.num_closed_standalone == 2);
  CHECK(stats.num_closed_by_eoe == expected.events.size() - 2);
  CHECK(stats.num_closed_by_timeout == 0);
}

TEST_CASE("event_assembler: which record types stand alone") {
  // User and daemon messages and anomalies have no EOE; CONFIG_CHANGE and
  // EVENT_LISTENER come with the SYSCALL of auditctl or the reader.
  using row = std::pair<uint32_t, bool>;
  auto [type, standalone] =
      GENERATE(row{1123, true}, row{1200, true}, row{1701, true},
               row{2100, true}, row{1300, false}, row{1305, false},
               row{1327, false}, row{1335, false}, row{1400, false});
  INFO("type " << type);
  event_assembler aut{with_timeout(500ms)};
  std::vector<audit_event> out;
  aut.add(with_type(syscall_record(9), type, "pid=1 res=1"), at(0ms), out);
  if (standalone) {
    REQUIRE(out.size() == 1);
    CHECK(out[0].closed_by == close_reason::standalone);
    CHECK(aut.num_open() == 0);
  } else {
    CHECK(out.empty());
    CHECK(aut.num_open() == 1);
  }
}

TEST_CASE("event_assembler: PROCTITLE does not close an event") {
  event_assembler aut{with_timeout(500ms)};
  std::vector<audit_event> out;
  aut.add(syscall_record(315514), at(0ms), out);
  aut.add(proctitle_record(315514), at(1ms), out);
  CHECK(out.empty());
  CHECK(aut.num_open() == 1);
  aut.add(eoe_record(315514), at(2ms), out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].closed_by == close_reason::eoe);
  CHECK(out[0].id.serial == 315514u);
  REQUIRE(out[0].records.size() == 3);
  CHECK(out[0].records[0].type == record_types::syscall);
  CHECK(out[0].records[1].type == record_types::proctitle);
  CHECK(aut.num_open() == 0);
}

TEST_CASE("event_assembler: records of an event may come in any order") {
  event_assembler aut{with_timeout(500ms)};
  std::vector<audit_event> out;
  aut.add(proctitle_record(7), at(0ms), out);
  aut.add(syscall_record(8), at(0ms), out);
  aut.add(syscall_record(7), at(0ms), out);
  aut.add(eoe_record(7), at(0ms), out);
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].records.size() == 3);
  CHECK(out[0].records[0].type == record_types::proctitle);
  CHECK(out[0].records[1].type == record_types::syscall);
  CHECK(aut.num_open() == 1);
}

TEST_CASE("event_assembler: an event times out `timeout` after its first "
          "record") {
  event_assembler aut{with_timeout(500ms)};
  std::vector<audit_event> out;
  aut.add(syscall_record(1), at(0ms), out);
  aut.add(syscall_record(2), at(100ms), out);
  // More records do not push the deadline.
  aut.add(proctitle_record(1), at(400ms), out);
  REQUIRE(aut.next_deadline());
  CHECK(*aut.next_deadline() == at(500ms));
  aut.expire(at(499ms), out);
  CHECK(out.empty());
  CHECK(aut.num_open() == 2);
  aut.expire(at(500ms), out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].id.serial == 1u);
  CHECK(out[0].closed_by == close_reason::timeout);
  CHECK(out[0].records.size() == 2);
  CHECK(*aut.next_deadline() == at(600ms));
  aut.expire(at(599ms), out);
  CHECK(out.size() == 1);
  aut.expire(at(10s), out);
  REQUIRE(out.size() == 2);
  CHECK(out[1].id.serial == 2u);
  CHECK(out[1].closed_by == close_reason::timeout);
  CHECK_FALSE(aut.next_deadline());
  CHECK(aut.stats().num_closed_by_timeout == 2);
}

TEST_CASE("event_assembler: flush closes the open events as timeouts") {
  event_assembler aut{with_timeout(500ms)};
  std::vector<audit_event> out;
  aut.add(syscall_record(10), at(0ms), out);
  aut.add(syscall_record(11), at(1ms), out);
  aut.add(syscall_record(12), at(2ms), out);
  aut.add(eoe_record(11), at(3ms), out);
  REQUIRE(out.size() == 1);
  aut.flush(out);
  REQUIRE(out.size() == 3);
  CHECK(out[1].id.serial == 10u);
  CHECK(out[2].id.serial == 12u);
  CHECK(out[1].closed_by == close_reason::timeout);
  CHECK(out[2].closed_by == close_reason::timeout);
  CHECK(aut.num_open() == 0);
  CHECK_FALSE(aut.next_deadline());
  auto stats = aut.stats();
  CHECK(stats.num_closed_by_eoe == 1);
  CHECK(stats.num_closed_by_timeout == 2);
  CHECK(stats.num_serial_gaps == 0);
}

TEST_CASE("event_assembler: past max_open the oldest open event closes") {
  event_assembler::options opts;
  opts.max_open = 2;
  event_assembler aut{opts};
  std::vector<audit_event> out;
  aut.add(syscall_record(1), at(0ms), out);
  aut.add(syscall_record(2), at(0ms), out);
  CHECK(out.empty());
  aut.add(syscall_record(3), at(0ms), out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].id.serial == 1u);
  CHECK(out[0].closed_by == close_reason::timeout);
  CHECK(aut.num_open() == 2);
  // An event closed since is skipped: 2 is now the oldest open one.
  aut.add(eoe_record(3), at(0ms), out);
  aut.add(syscall_record(4), at(0ms), out);
  CHECK(out.size() == 2);
  aut.add(syscall_record(5), at(0ms), out);
  REQUIRE(out.size() == 3);
  CHECK(out[2].id.serial == 2u);
  CHECK(aut.num_open() == 2);
  // A record of an open event is no new event: nothing is evicted.
  aut.add(proctitle_record(5), at(0ms), out);
  CHECK(out.size() == 3);
  auto stats = aut.stats();
  CHECK(stats.num_evicted == 2);
  CHECK(stats.num_closed_by_timeout == 2);
}

TEST_CASE("event_assembler: without EOE the same events close by timeout") {
  auto name = GENERATE(as<std::string>{}, "fork-storm.log",
                       "kill-and-reuse.log", "threads-i386.log");
  INFO(name);
  auto lines = test::read_lines(name);
  oracle expected{lines};
  std::vector<std::string> stripped;
  std::copy_if(lines.begin(), lines.end(), std::back_inserter(stripped),
               [](auto& line) { return !is_eoe(line); });
  REQUIRE(stripped.size() < lines.size());
  event_assembler aut{with_timeout(500ms)};
  std::vector<audit_event> out;
  auto t = 0ms;
  for (auto& line : stripped) {
    aut.add(test::record(line), at(t), out);
    aut.expire(at(t), out);
    t += 1ms;
  }
  aut.expire(at(t + 500ms), out);
  CHECK(aut.num_open() == 0);
  check_same_events(out, expected, true);
  for (auto& ev : out) {
    if (ev.records[0].type == record_types::anom_abend)
      CHECK(ev.closed_by == close_reason::standalone);
    else
      CHECK(ev.closed_by == close_reason::timeout);
  }
  CHECK(aut.stats().num_closed_by_eoe == 0);
}

TEST_CASE("event_assembler: same serial, other stamp closes the old event") {
  event_assembler aut{with_timeout(500ms)};
  std::vector<audit_event> out;
  aut.add(syscall_record(42, 100), at(0ms), out);
  aut.add(syscall_record(42, 200), at(1ms), out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].id.millis == 100u);
  CHECK(out[0].closed_by == close_reason::timeout);
  aut.add(eoe_record(42, 200), at(2ms), out);
  REQUIRE(out.size() == 2);
  CHECK(out[1].id.millis == 200u);
  CHECK(out[1].records.size() == 2);
  CHECK(out[1].closed_by == close_reason::eoe);
}

TEST_CASE("event_assembler: a record after its event closed is late") {
  event_assembler aut{with_timeout(500ms)};
  std::vector<audit_event> out;
  aut.add(syscall_record(1), at(0ms), out);
  aut.add(eoe_record(1), at(0ms), out);
  aut.add(syscall_record(2), at(0ms), out);
  aut.add(eoe_record(2), at(0ms), out);
  aut.add(proctitle_record(1), at(1ms), out);
  CHECK(out.size() == 2);
  CHECK(aut.num_open() == 1);
  aut.flush(out);
  REQUIRE(out.size() == 3);
  CHECK(out[2].records.size() == 1);
  auto stats = aut.stats();
  CHECK(stats.num_events == 3);
  CHECK(stats.num_serial_late == 1);
  CHECK(stats.num_serial_gaps == 0);
}

TEST_CASE("event_assembler: auditd's own serials are not the kernel's") {
  // A DAEMON_START numbered by auditd far ahead of the kernel's serials
  // makes no later kernel record late, and no gap.
  event_assembler aut{with_timeout(500ms)};
  std::vector<audit_event> out;
  aut.add(with_type(syscall_record(9204), 1200, "op=start"), at(0ms), out);
  for (uint32_t serial = 1; serial <= 3; ++serial) {
    aut.add(syscall_record(serial), at(0ms), out);
    aut.add(eoe_record(serial), at(0ms), out);
  }
  aut.flush(out);
  CHECK(out.size() == 4);
  CHECK(aut.stats().num_serial_late == 0);
  CHECK(aut.stats().num_serial_gaps == 0);
}

TEST_CASE("event_assembler counts serial gaps, in its residue class") {
  SECTION("stride 1") {
    event_assembler aut{with_timeout(500ms)};
    std::vector<audit_event> out;
    for (uint32_t s : {100u, 101u, 104u, 102u, 106u}) {
      aut.add(syscall_record(s), at(0ms), out);
      aut.add(eoe_record(s), at(0ms), out);
    }
    aut.flush(out);
    CHECK(out.size() == 5);
    CHECK(aut.stats().num_serial_gaps == 2); // 103, 105
  }
  SECTION("stride 3") {
    event_assembler::options opts;
    opts.stride = 3;
    event_assembler aut{opts};
    std::vector<audit_event> out;
    for (uint32_t s : {301u, 304u, 310u, 313u}) {
      aut.add(syscall_record(s), at(0ms), out);
      aut.add(eoe_record(s), at(0ms), out);
    }
    aut.flush(out);
    CHECK(aut.stats().num_serial_gaps == 1); // 307
  }
}

TEST_CASE("assembler_stats add up") {
  assembler_stats x;
  x.num_records = 3;
  x.num_serial_gaps = 1;
  assembler_stats y;
  y.num_records = 4;
  y.num_evicted = 2;
  x += y;
  CHECK(x.num_records == 7);
  CHECK(x.num_serial_gaps == 1);
  CHECK(x.num_evicted == 2);
}

TEST_CASE("event_assembler: the oldest held record bounds what a source "
          "keeps") {
  event_assembler aut{with_timeout(500ms)};
  std::vector<audit_event> out;
  CHECK(aut.oldest_held_sequence() == UINT64_MAX);
  auto numbered = [](audit_record r, uint64_t sequence) {
    r.sequence = sequence;
    return r;
  };
  aut.add(numbered(syscall_record(7), 1), at(0ms), out);
  aut.add(numbered(syscall_record(8), 2), at(0ms), out);
  aut.add(numbered(proctitle_record(7), 3), at(0ms), out);
  CHECK(aut.oldest_held_sequence() == 1);
  aut.add(numbered(eoe_record(7), 4), at(0ms), out);
  REQUIRE(out.size() == 1);
  // Event 7 closed with records 1, 3, 4: only 8's record 2 is held.
  CHECK(aut.oldest_held_sequence() == 2);
  aut.add(numbered(eoe_record(8), 5), at(0ms), out);
  CHECK(aut.oldest_held_sequence() == UINT64_MAX);
}
