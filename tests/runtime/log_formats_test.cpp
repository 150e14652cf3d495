// Audit text as real hosts and their tools write it: node= prefixes,
// ENRICHED suffixes, values a shipper quoted, older daemons' records,
// ausearch's separators; and the assembler keeping hosts apart.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "runtime/audit_parser.hpp"
#include "runtime/event_assembler.hpp"
#include "runtime/event_interpreter.hpp"
#include "runtime/record_types.hpp"

using namespace auditree;

namespace {

// From laurel's testdata (record-perl-reverse-shell.txt), shortened.
const std::string enriched_syscall
  = "type=SYSCALL msg=audit(1626611363.720:348501): arch=c000003e "
    "syscall=59 success=yes exit=0 a0=55c094deb5c0 a1=55c094dea770 "
    "a2=55c094dbf1b0 a3=fffffffffffff286 items=3 ppid=722076 pid=724395 "
    "auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 "
    "tty=pts3 ses=3 comm=\"perl\" exe=\"/usr/bin/perl\" key=(null)"
    "\x1d" "ARCH=x86_64 SYSCALL=execve AUID=\"user\" UID=\"root\"";

std::vector<audit_event> assemble(const std::vector<std::string>& lines) {
  event_assembler assembler{event_assembler::options{}};
  std::vector<audit_event> out;
  uint64_t sequence = 0;
  for (auto& line : lines) {
    std::string scratch;
    auto parsed = parse_line(line, scratch);
    INFO(line);
    REQUIRE(parsed);
    auto record = parsed.record.to_record();
    record.sequence = ++sequence;
    assembler.add(std::move(record), {}, out);
  }
  assembler.flush(out);
  return out;
}

} // namespace

TEST_CASE("parse_line keeps the node= name with the record") {
  auto line = "node=web-01.example type=EOE msg=audit(1594053514.588:4686): ";
  auto parsed = parse_line(line);
  REQUIRE(parsed);
  CHECK(parsed.record.node == "web-01.example");
  CHECK(parsed.record.to_record().node() == "web-01.example");
  CHECK(parsed.record.to_record().text().empty());
  CHECK(parse_line("type=EOE msg=audit(1.000:1): ").record.node.empty());
  CHECK_FALSE(parse_line("node= type=EOE msg=audit(1.000:1): "));
}

TEST_CASE("ENRICHED records, with and without node=, read as RAW ones") {
  for (std::string prefix : {"", "node=db-2 "}) {
    auto parsed = parse_line(prefix + enriched_syscall);
    REQUIRE(parsed);
    CHECK(parsed.record.text.find('\x1d') == std::string_view::npos);
    CHECK(parsed.record.text.find("ARCH=") == std::string_view::npos);
    CHECK(parsed.record.text.substr(parsed.record.text.size() - 10)
          == "key=(null)");
  }
  // The PATH records of an ENRICHED exec carry a suffix too.
  auto path = parse_line(
    "type=PATH msg=audit(1626611363.720:348501): item=0 "
    "name=\"/usr/bin/perl\" nametype=NORMAL cap_frootid=0\x1dOUID=\"root\"");
  REQUIRE(path);
  CHECK(find_field(path.record.text, "cap_frootid") == "0");
}

TEST_CASE("daemon records without ':' after the stamp are read") {
  // auditd 2.4 on RHEL 7 (go-libaudit's audit-rhel7.log).
  auto parsed = parse_line(
    "type=DAEMON_CONFIG msg=audit(1490239800.477:34) config changed, "
    "auid=0 pid=1512 subj=system_u:system_r:unconfined_service_t:s0 "
    "res=success");
  REQUIRE(parsed);
  CHECK(parsed.record.type == 1203u);
  CHECK(parsed.record.id.serial == 34u);
  CHECK(find_field(parsed.record.text, "pid") == "1512");
  // A kernel record without it is still malformed.
  CHECK_FALSE(parse_line("type=SYSCALL msg=audit(1.000:1) arch=c000003e"));
}

TEST_CASE("ausearch's separators and time lines are skipped, not malformed") {
  for (auto line : {"----", "time->Tue Mar 21 11:23:20 2017"}) {
    auto parsed = parse_line(line);
    INFO(line);
    CHECK_FALSE(parsed);
    CHECK(parsed.error == nullptr);
    REQUIRE(parsed.skipped != nullptr);
    CHECK(std::string{parsed.skipped}.rfind("ausearch", 0) == 0);
  }
  CHECK(parse_line("---- ").skipped != nullptr);
  CHECK(parse_line("--").error != nullptr);
}

TEST_CASE("a shipper's quotes around numbers and flags are removed") {
  std::string scratch;
  auto parsed = parse_line(
    "type=SYSCALL msg=audit(1.000:7): arch=\"c000003e\" syscall=\"59\" "
    "success=\"yes\" exit=\"0\" a0=\"55c0\" items=\"2\" ppid=\"10\" "
    "pid=\"11\" auid=\"1000\" tty=\"pts0\" comm=\"ls\" exe=\"/bin/ls\" "
    "key=\"exec\"",
    scratch);
  REQUIRE(parsed);
  CHECK(parsed.record.text
        == "arch=c000003e syscall=59 success=yes exit=0 a0=55c0 items=2 "
           "ppid=10 pid=11 auid=1000 tty=pts0 comm=\"ls\" exe=\"/bin/ls\" "
           "key=\"exec\"");
  // EXECVE arguments are untrusted strings: their quotes mean "not hex".
  auto execve = parse_line(
    "type=EXECVE msg=audit(1.000:7): argc=\"2\" a0=\"ls\" a1=\"2F746D70\" "
    "a2_len=\"4\"",
    scratch);
  REQUIRE(execve);
  CHECK(execve.record.text
        == "argc=2 a0=\"ls\" a1=\"2F746D70\" a2_len=4");
  // Kernel text is left as it is, and not copied.
  std::string other;
  auto kernel = parse_line(
    "type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=59 "
    "comm=\"ls\" exe=\"/bin/ls\"",
    other);
  REQUIRE(kernel);
  CHECK(other.empty());
  // ANOM_ABEND's numbers too; its reason is text.
  std::string abend;
  CHECK(unquote_plain_fields(
    record_types::anom_abend,
    "auid=\"12345\" pid=\"1234\" reason=\"memory violation\" sig=\"6\"",
    abend));
  CHECK(abend == "auid=12345 pid=1234 reason=\"memory violation\" sig=6");
  // Words without '=' keep their place.
  std::string word;
  CHECK(unquote_plain_fields(record_types::syscall,
                             "config changed, auid=\"0\" pid=1", word));
  CHECK(word == "config changed, auid=0 pid=1");
  // Records no process event is read from are left alone.
  std::string other_type;
  CHECK_FALSE(unquote_plain_fields(1203, "auid=\"0\" pid=\"1\"",
                                   other_type));
}

TEST_CASE("a quoted exec is the same process event as the kernel's") {
  auto quoted = assemble({
    "type=SYSCALL msg=audit(1.000:7): arch=\"c000003e\" syscall=\"59\" "
    "success=\"yes\" exit=\"0\" ppid=\"10\" pid=\"11\" uid=\"0\" "
    "comm=\"ls\" exe=\"/bin/ls\"",
    "type=EXECVE msg=audit(1.000:7): argc=\"1\" a0=\"ls\"",
    "type=EOE msg=audit(1.000:7): "});
  REQUIRE(quoted.size() == 1);
  auto result = interpret(quoted.front());
  REQUIRE(result.event);
  CHECK(result.event->action == process_action::exec);
  CHECK(result.event->pid == 11);
  CHECK(result.event->argv == std::vector<std::string>{"ls"});
}

TEST_CASE("records of two nodes with one serial make two events") {
  auto events = assemble({
    "node=a type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=57 "
    "success=yes exit=200 ppid=1 pid=100",
    "node=b type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=57 "
    "success=yes exit=300 ppid=1 pid=100",
    "node=b type=EOE msg=audit(1.000:7): ",
    "node=a type=EOE msg=audit(1.000:7): "});
  REQUIRE(events.size() == 2);
  for (auto& ev : events) {
    CHECK(ev.closed_by == close_reason::eoe);
    REQUIRE(ev.records.size() == 2);
    CHECK(ev.records[0].node() == ev.records[1].node());
  }
  CHECK(events[0].records[0].node() == "b");
  CHECK(events[1].records[0].node() == "a");
}

TEST_CASE("each node's serials have their own ledger") {
  event_assembler assembler{event_assembler::options{}};
  std::vector<audit_event> out;
  uint64_t sequence = 0;
  // Two hosts far apart in serials, each without a gap.
  for (uint32_t i = 0; i < 50; ++i)
    for (auto [node, base] : {std::pair{"a", 100u}, std::pair{"b", 900000u}}) {
      auto line = std::string{"node="} + node + " type=USER_CMD msg=audit(1.000:"
                  + std::to_string(base + i) + "): pid=1";
      auto record = parse_line(line).record.to_record();
      record.sequence = ++sequence;
      assembler.add(std::move(record), {}, out);
    }
  assembler.flush(out);
  CHECK(out.size() == 100);
  CHECK(assembler.stats().num_serial_gaps == 0);
  CHECK(assembler.stats().num_serial_late == 0);
  CHECK(assembler.stats().num_serial_resets == 0);
}

TEST_CASE("records of hosts past max_hosts are refused and counted") {
  event_assembler::options opts;
  opts.max_hosts = 2;
  event_assembler assembler{opts};
  std::vector<audit_event> out;
  auto add = [&](const std::string& node, uint32_t serial) {
    auto line = "node=" + node + " type=EOE msg=audit(1.000:"
                + std::to_string(serial) + "): ";
    return assembler.add(parse_line(line).record.to_record(), {}, out);
  };
  CHECK(add("a", 1));
  CHECK(add("b", 2));
  CHECK_FALSE(add("c", 3));
  CHECK_FALSE(add("d", 4));
  CHECK(add("a", 5)); // the hosts admitted stay admitted
  // Records without node= are the local host's: never refused.
  CHECK(assembler.add(parse_line("type=EOE msg=audit(1.000:6): ")
                        .record.to_record(),
                      {}, out));
  assembler.flush(out);
  CHECK(out.size() == 4);
  for (auto& ev : out)
    CHECK(ev.records.front().node() != "c");
  CHECK(assembler.stats().num_hosts_refused == 2);
  CHECK(assembler.stats().num_records == 6);
}

TEST_CASE("the interpreter says why an event gave no process event") {
  auto reason = [](std::vector<std::string> lines) {
    auto events = assemble(lines);
    REQUIRE(events.size() == 1);
    auto result = interpret(events.front());
    CHECK_FALSE(result.event);
    return std::string{result.skipped ? result.skipped : ""};
  };
  CHECK(reason({"type=USER_CMD msg=audit(1.000:1): pid=1"})
        == "other record types");
  CHECK(reason({"type=SYSCALL msg=audit(1.000:2): arch=c000003e syscall=59 "
                "success=no exit=-2 ppid=1 pid=5",
                "type=EOE msg=audit(1.000:2): "})
        == "failed syscall");
  CHECK(reason({"type=SYSCALL msg=audit(1.000:3): arch=c000003e syscall=0 "
                "success=yes exit=0 ppid=1 pid=5",
                "type=EOE msg=audit(1.000:3): "})
        == "other syscall");
  CHECK(reason({"type=SYSCALL msg=audit(1.000:4): arch=deadbeef syscall=59 "
                "success=yes exit=0 ppid=1 pid=5",
                "type=EOE msg=audit(1.000:4): "})
        == "unknown arch");
}
