#include "runtime/ecs_json.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <ctime>
#include <optional>
#include <set>

#include "runtime/event_interpreter.hpp"
#include "tests/json_reader.hpp"
#include "tests/runtime/record_fixture.hpp"

using namespace auditree;
using namespace std::string_literals;

namespace {

bool valid_json(std::string_view text) {
  return test::json_reader{text}.valid();
}

std::string encode(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string decode(std::string_view json) {
  auto result = test::json_reader{json}.string();
  INFO(json);
  REQUIRE(result);
  return *result;
}

const std::string replacement = "\xef\xbf\xbd"; // U+FFFD

std::string line_of(const process_event& ev) {
  std::string out;
  append_ecs_json(out, ev);
  return out;
}

process_event interpreted(const std::map<std::string, audit_event>& events,
                          uint32_t serial) {
  auto result = interpret(test::with_serial(events, serial));
  REQUIRE(result.error == nullptr);
  REQUIRE(result.event);
  return *result.event;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

TEST_CASE("the test's JSON reader rejects what it should") {
  CHECK(valid_json(R"({"a":[1,-2.5e3,"x",true,false,null,{}]})"));
  CHECK(valid_json(R"("\ud83d\udc27")"));
  CHECK_FALSE(valid_json(R"({"a":1,"a":2})"));
  CHECK_FALSE(valid_json(R"({"a":1,})"));
  CHECK_FALSE(valid_json(R"({"a":01})"));
  CHECK_FALSE(valid_json("\"a\nb\""));
  CHECK_FALSE(valid_json("\"\xff\""));
  CHECK_FALSE(valid_json("\"\xc0\x80\""));
  CHECK_FALSE(valid_json("\"\xed\xa0\x80\""));
  CHECK_FALSE(valid_json(R"("\x41")"));
  CHECK_FALSE(valid_json(R"("\udc27")"));
  CHECK_FALSE(valid_json("{} {}"));
  CHECK_FALSE(valid_json(""));
}

// -- strings ------------------------------------------------------------------

TEST_CASE("append_json_string escapes quotes, backslashes and controls") {
  CHECK(encode("") == R"("")");
  CHECK(encode("true") == R"("true")");
  CHECK(encode("say \"hi\"") == R"("say \"hi\"")");
  CHECK(encode("back\\slash") == R"("back\\slash")");
  CHECK(encode("new\nline") == R"("new\nline")");
  CHECK(encode("tab\there") == R"("tab\there")");
  CHECK(encode("\x1b[31mred\x1b[0m") == R"("\u001b[31mred\u001b[0m")");
  CHECK(encode("\x7f") == R"("\u007f")");
  CHECK(encode("a\0b"s) == R"("a\u0000b")");
  CHECK(encode("\x1f") == R"("\u001f")");
  CHECK(encode("/") == R"("/")");
}

TEST_CASE("append_json_string: every byte below 0x80 round-trips") {
  std::string all;
  for (int c = 0; c < 0x80; ++c)
    all += static_cast<char>(c);
  auto json = encode(all);
  CHECK(valid_json(json));
  CHECK(decode(json) == all);
  for (int c = 0; c < 0x20; ++c)
    CHECK(json.find(static_cast<char>(c)) == std::string::npos);
}

TEST_CASE("append_json_string keeps valid UTF-8 as it is") {
  for (std::string text :
       {"prög ñame"s, "\xe6\x97\xa5\xe6\x9c\xac"s, "\xf0\x9f\x90\xa7"s,
        "\xed\x9f\xbf"s, "\xee\x80\x80"s, "\xef\xbf\xbf"s, "\xf4\x8f\xbf\xbf"s,
        "\xc2\xa0"s, "\xe2\x80\x8d"s}) {
    INFO(text);
    CHECK(encode(text) == "\"" + text + "\"");
    CHECK(valid_json(encode(text)));
  }
}

TEST_CASE("append_json_string escapes C1 controls and bidi marks") {
  // Valid text, but a consumer printing the value raw (jq -r) would hand
  // them to a terminal; escaped, the JSON decodes to the same string.
  CHECK(encode("a\xc2\x80\xc2\x9b" "b") == R"("a\u0080\u009bb")");
  CHECK(encode("evil\xe2\x80\xaetxt.exe") == R"("evil\u202etxt.exe")");
  CHECK(encode("\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f\xe2\x81\xa6\xe2\x81\xa9")
        == R"("\u061c\u200e\u200f\u2066\u2069")");
  CHECK(valid_json(encode("x\xe2\x80\xaay\xe2\x80\xac")));
}

TEST_CASE("append_json_string replaces each invalid byte with U+FFFD") {
  using row = std::pair<std::string, std::string>;
  auto [in, out] = GENERATE(
      as<row>{}, row{"\xff", replacement},
      row{"\xfe\xff", replacement + replacement}, row{"\x80", replacement},
      row{"a\xc3", "a" + replacement}, row{"\xc3!", replacement + "!"},
      row{"\xc0\x80", replacement + replacement},
      row{"\xc1\xbf", replacement + replacement},
      row{"\xe0\x80\xaf", replacement + replacement + replacement},
      row{"\xed\xa0\x80", replacement + replacement + replacement},
      row{"\xe2\x82", replacement + replacement},
      row{"\xf4\x90\x80\x80",
          replacement + replacement + replacement + replacement},
      row{"\xf5\x80\x80\x80",
          replacement + replacement + replacement + replacement},
      row{"\xf0\x9f\x90", replacement + replacement + replacement},
      row{"ok\xf0\x9f\x90\xa7\xff", "ok\xf0\x9f\x90\xa7" + replacement});
  auto json = encode(in);
  INFO(json);
  CHECK(valid_json(json));
  CHECK(decode(json) == out);
}

TEST_CASE("append_json_string: random bytes always give valid JSON") {
  uint32_t state = 12345;
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    auto n = round % 40;
    for (int k = 0; k < n; ++k) {
      state = state * 1103515245 + 12345;
      text += static_cast<char>(state >> 16);
    }
    auto json = encode(text);
    INFO("round " << round);
    REQUIRE(valid_json(json));
  }
}

// -- timestamps ---------------------------------------------------------------

TEST_CASE("append_timestamp writes RFC 3339 UTC with milliseconds") {
  // Expected values from `date -u -d @SECONDS`.
  using row = std::pair<event_id, std::string>;
  auto [id, text] = GENERATE(
      as<row>{}, row{event_id{0, 0, 0}, "1970-01-01T00:00:00.000Z"},
      row{event_id{951782400, 5, 1}, "2000-02-29T00:00:00.005Z"},
      row{event_id{1795990173, 86, 327459}, "2026-11-29T22:09:33.086Z"},
      row{event_id{1795990174, 310, 327586}, "2026-11-29T22:09:34.310Z"},
      row{event_id{1795990090, 999, 1}, "2026-11-29T22:08:10.999Z"});
  std::string out = "x";
  append_timestamp(out, id);
  CHECK(out == "x" + text);
}

TEST_CASE("append_timestamp agrees with gmtime_r from 1970 to 9999") {
  // Leap days, century years and the last second before year 10000.
  for (uint64_t seconds :
       {uint64_t{0}, uint64_t{68169599}, uint64_t{951868799},
        uint64_t{978307199}, uint64_t{4107542400}, uint64_t{4102444799},
        uint64_t{13569465599}, uint64_t{253402300799}}) {
    auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char expected[96];
    std::snprintf(expected, sizeof(expected),
                  "%04d-%02d-%02dT%02d:%02d:%02d.042Z", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    std::string out;
    append_timestamp(out, event_id{seconds, 42, 1});
    CHECK(out == expected);
  }
  for (uint64_t seconds = 0; seconds < 253402300800; seconds += 7776013) {
    auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char expected[96];
    std::snprintf(expected, sizeof(expected),
                  "%04d-%02d-%02dT%02d:%02d:%02d.999Z", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    std::string out;
    append_timestamp(out, event_id{seconds, 999, 1});
    REQUIRE(out == expected);
  }
}

// -- lines --------------------------------------------------------------------

TEST_CASE("append_ecs_json: a fork line") {
  auto events = test::events_by_stamp("threads-i386.log");
  auto line = line_of(interpreted(events, 327586));
  INFO(line);
  CHECK(valid_json(line));
  REQUIRE(line.size() > 2);
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(line.rfind(R"({"@timestamp":"2026-11-29T22:09:34.310Z",)", 0) == 0);
  CHECK(contains(line,
                 R"("event":{"kind":"event","category":["process"],)"
                 R"("type":["start"],)"
                 R"("action":"fork","id":"1795990174.310:327586"})"));
  // The child is the process, the caller its parent.
  CHECK(contains(line, R"("process":{"pid":1755,"parent":{"pid":1739})"));
  CHECK(contains(line, R"("name":"threads")"));
  CHECK(contains(line, R"("executable":"/var/tmp/audit-corpus/lat/threads")"));
  CHECK(contains(line, R"("user":{"id":"0","effective":{"id":"0"}})"));
  CHECK_FALSE(contains(line, R"("audit":)"));
  CHECK_FALSE(contains(line, R"("args")"));
  CHECK_FALSE(contains(line, R"("exit_code")"));
  CHECK(contains(line, R"("auditree":{"source":"audit","syscall":"clone",)"
                       R"("arch":"x86_64","clone_flags":"0x1200011",)"
                       R"("caller_ppid":1651})"));
  auto clone3 = line_of(interpreted(events, 327580));
  CHECK(contains(clone3, R"("syscall":"clone3")"));
  CHECK_FALSE(contains(clone3, "clone_flags"));
  auto i386 = line_of(interpreted(events, 327610));
  CHECK(contains(i386, R"("arch":"i386")"));
}

TEST_CASE("append_ecs_json: a fork placed in a namespace or by CLONE_PARENT") {
  auto events = test::events_by_stamp("threads-i386.log");
  auto fork = interpreted(events, 327586);
  // As start_gate names a child that the caller saw as pid 7 in its pid
  // namespace, whose parent is the caller's parent.
  fork.vpid = 7;
  fork.fork_parent = 1651;
  auto line = line_of(fork);
  INFO(line);
  CHECK(valid_json(line));
  CHECK(contains(line, R"("process":{"pid":1755,"vpid":7,"parent":{"pid":1651})"));
  CHECK(contains(line, R"("caller_ppid":1651)"));
  // Other lines never carry them.
  auto exec = interpreted(events, 327586);
  exec.action = process_action::exec;
  exec.vpid = 7;
  CHECK_FALSE(contains(line_of(exec), "vpid"));
  // Every line of a process whose namespace pid the tree knows carries it,
  // and its parent's.
  exec.lineage.vpid = 9;
  exec.lineage.parent_pid = 1651;
  exec.lineage.parent_vpid = 1;
  auto with_views = line_of(exec);
  INFO(with_views);
  CHECK(contains(with_views, R"("vpid":9)"));
  CHECK(contains(with_views, R"("parent":{"pid":1651,"vpid":1)"));
}

TEST_CASE("append_ecs_json: an exec line escapes every argument") {
  auto events = test::events_by_stamp("long-argv.log");
  auto line = line_of(interpreted(events, 327486));
  INFO(line);
  CHECK(valid_json(line));
  CHECK(line.rfind(R"({"@timestamp":"2026-11-29T22:09:33.434Z",)", 0) == 0);
  CHECK(contains(line, R"("type":["start"],"action":"exec",)"));
  CHECK(contains(line, R"("process":{"pid":1673,"parent":{"pid":)"));
  CHECK(contains(line, R"("executable":"/var/tmp/audit-corpus/lat/argvdump")"));
  CHECK(contains(line, R"("args":["/var/tmp/audit-corpus/lat/argvdump",)"
                       R"("hello world","say \"hi\"","it's","tab\there",)"
                       R"("new\nline","",)"));
  CHECK(contains(line, R"(,"back\\slash",)"));
  CHECK(contains(line, R"(,"\u007f",)"));
  CHECK(contains(line, R"(,"\u001b[31mred\u001b[0m",)"));
  CHECK(contains(line, R"(,"\"",",","x"],"args_count":23,)"));
  CHECK(contains(line, "\"\xf0\x9f\x90\xa7\""));
  CHECK(contains(line, R"("working_directory":"/work/steering/shared/tools")"));
  CHECK(contains(line, R"("syscall":"execve")"));
}

TEST_CASE("append_ecs_json: exit and abend lines") {
  auto threads = test::events_by_stamp("threads-i386.log");
  auto exit = line_of(interpreted(threads, 327606));
  INFO(exit);
  CHECK(valid_json(exit));
  CHECK(contains(exit, R"("type":["end"],"action":"exit",)"));
  CHECK(contains(exit, R"("process":{"pid":1774,"parent":{"pid":1651})"));
  CHECK(contains(exit, R"("exit_code":5})"));
  CHECK(contains(exit, R"("syscall":"exit_group")"));
  auto kill = test::events_by_stamp("kill-and-reuse.log");
  auto abend = line_of(interpreted(kill, 322985));
  INFO(abend);
  CHECK(valid_json(abend));
  CHECK(contains(abend, R"("type":["end"],"action":"abend",)"));
  CHECK(contains(abend, R"("process":{"pid":20076,"name":"sleep",)"));
  CHECK(contains(abend, R"("signal":11)"));
  CHECK_FALSE(contains(abend, R"("parent")"));
  CHECK_FALSE(contains(abend, R"("syscall")"));
  CHECK(contains(abend, R"("user":{"id":"0"})"));
}

TEST_CASE("append_ecs_json: hostile names stay valid JSON") {
  process_event ev;
  ev.action = process_action::exec;
  ev.id = event_id{1795990173, 914, 327500};
  ev.pid = 1702;
  ev.ppid = 1651;
  ev.comm = "a\"b\\c\nd\x01\xff";
  ev.exe = "/tmp/\xc3(\"x";
  ev.cwd = "\x7f\xed\xa0\x80";
  ev.argv = {"", "\0"s, "\"", "\\", "\xc3", "}],{\"x\":["};
  ev.uid = 1000;
  auto line = line_of(ev);
  INFO(line);
  CHECK(valid_json(line));
  CHECK(contains(line, R"("name":"a\"b\\c\nd\u0001)" + replacement + "\""));
  CHECK(contains(line, R"("args":["","\u0000","\"","\\",")" + replacement
                           + R"(","}],{\"x\":["],"args_count":6)"));
  CHECK(contains(line, R"("user":{"id":"1000"})"));
}

TEST_CASE("append_ecs_json appends: lines accumulate in one buffer") {
  auto events = test::events_by_stamp("threads-i386.log");
  std::string out;
  append_ecs_json(out, interpreted(events, 327586));
  auto first = out;
  append_ecs_json(out, interpreted(events, 327587));
  CHECK(out.rfind(first, 0) == 0);
  CHECK(std::count(out.begin(), out.end(), '\n') == 2);
}

TEST_CASE("append_ecs_json: every process event of the excerpts is one valid "
          "JSON line") {
  auto name =
      GENERATE(as<std::string>{}, "fork-storm.log", "kill-and-reuse.log",
               "threads-i386.log", "long-argv.log");
  INFO(name);
  size_t num_lines = 0;
  for (auto& [stamp, ev] : test::events_by_stamp(name)) {
    auto result = interpret(ev);
    if (!result.event)
      continue;
    auto line = line_of(*result.event);
    INFO(stamp);
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);
    CHECK(valid_json(line));
    ++num_lines;
  }
  CHECK(num_lines > 0);
}

TEST_CASE("append_ecs_json: ancestors go under auditree.process, only when "
          "asked") {
  auto events = test::events_by_stamp("long-argv.log");
  auto ev = interpreted(events, 327486);
  auto plain = line_of(ev);
  CHECK_FALSE(contains(plain, "ancestors"));
  ev.lineage.ancestors.push_back({"0123456789abcdef", 20, "/usr/bin/bash",
                                  {"-bash"}});
  ev.lineage.ancestors.push_back({"fedcba9876543210", 1, "/sbin/init", {}});
  auto line = line_of(ev);
  INFO(line);
  CHECK(valid_json(line));
  CHECK(contains(line, R"(,"process":{"ancestors":[{"pid":20,)"
                       R"("entity_id":"0123456789abcdef",)"
                       R"("executable":"/usr/bin/bash","args":["-bash"],)"
                       R"("args_count":1},{"pid":1,)"
                       R"("entity_id":"fedcba9876543210",)"
                       R"("executable":"/sbin/init"}]}}})"));
}
