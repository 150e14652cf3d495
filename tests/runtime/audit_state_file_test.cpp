// The crash-repair state file: only root's own 0600 file with sane values
// is ever restored from.

#include <catch2/catch.hpp>

#include "runtime/audit_state_file.hpp"

using namespace auditree;

TEST_CASE("state_file_problem: a root-owned regular file, mode 0600") {
  CHECK(state_file_problem(true, 0, 0600).empty());
  CHECK(state_file_problem(true, 1000, 0600) == "owned by uid 1000, not root");
  CHECK(state_file_problem(true, 0, 0644) == "mode 0644, not 0600");
  CHECK(state_file_problem(true, 0, 0400) == "mode 0400, not 0600");
  CHECK(state_file_problem(true, 0, 04600) == "mode 4600, not 0600");
  CHECK(state_file_problem(false, 0, 0600) == "not a regular file");
}

TEST_CASE("parse_audit_state reads back what format_audit_state wrote") {
  saved_audit_state x;
  x.pid = 4321;
  x.enabled = 1;
  x.backlog_limit = 8192;
  x.backlog_wait_time = 60000;
  auto text = format_audit_state(x);
  CHECK(text == "4321 1 8192 60000\n");
  std::string error;
  auto back = parse_audit_state(text, error);
  REQUIRE(back);
  CHECK(back->pid == 4321);
  CHECK(back->enabled == 1);
  CHECK(back->backlog_limit == 8192);
  CHECK(back->backlog_wait_time == 60000);
  CHECK(error.empty());
}

TEST_CASE("parse_audit_state refuses corrupt text and values out of range") {
  struct bad {
    const char* text;
    const char* why;
  };
  for (auto [text, why] : {
         bad{"", "not one whole line"},
         bad{"12 1 8192 0", "not one whole line"},
         bad{"12 1 8192\n", "not four"},
         bad{"12 1 8192 0 7\n", "not four"},
         bad{"12  1 8192 0\n", "not four"},
         bad{"12 1 8192 x\n", "not four"},
         bad{"12 -1 8192 0\n", "not four"},
         bad{"12 1 8192 0 \n", "not four"},
         bad{" 12 1 8192 0\n", "not four"},
         bad{"0 1 8192 0\n", "pid=0 out of range"},
         bad{"4194305 1 8192 0\n", "pid=4194305 out of range"},
         bad{"12 2 8192 0\n", "enabled=2 out of range 0..1"},
         bad{"12 1 16777217 0\n", "backlog_limit=16777217 out of range"},
         bad{"12 1 8192 600001\n", "backlog_wait_time=600001 out of range"},
         bad{"12 1 99999999999999999999 0\n", "not four"},
       }) {
    INFO(text);
    std::string error;
    CHECK_FALSE(parse_audit_state(text, error));
    CHECK(error.find(why) != std::string::npos);
  }
  std::string error;
  CHECK_FALSE(parse_audit_state(std::string(200, '1') + "\n", error));
  CHECK(error == "longer than 128 bytes");
}
