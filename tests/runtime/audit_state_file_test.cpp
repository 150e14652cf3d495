// The crash-repair state file: only root's own 0600 file, in a directory
// only root may write, with sane values is ever restored from.

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

TEST_CASE("state_dir_problem: root's directory that no one else may write") {
  CHECK(state_dir_problem(true, 0, 0700).empty());
  CHECK(state_dir_problem(true, 0, 0755).empty());
  CHECK(state_dir_problem(true, 0, 01777)
        == "its directory has mode 1777: group or others may write to it");
  CHECK(state_dir_problem(true, 0, 0770)
        == "its directory has mode 0770: group or others may write to it");
  CHECK(state_dir_problem(true, 65534, 0700)
        == "its directory is owned by uid 65534, not root");
  CHECK(state_dir_problem(false, 0, 0700) == "its directory is not a directory");
}

TEST_CASE("parse_audit_state reads back what format_audit_state wrote") {
  saved_audit_state x;
  x.pid = 4321;
  x.enabled = {0, 1};
  x.backlog_limit = {64, 8192};
  x.backlog_wait_time = {60000, 0};
  x.audit_pid = {0, 4321};
  auto text = format_audit_state(x);
  CHECK(text
        == "auditree-state pid=4321 enabled=0:1 backlog_limit=64:8192 "
           "backlog_wait_time=60000:0 audit_pid=0:4321\n");
  std::string error;
  auto back = parse_audit_state(text, error);
  REQUIRE(back);
  CHECK(error.empty());
  CHECK(back->pid == 4321);
  CHECK(back->enabled.original == 0);
  CHECK(back->enabled.set == 1);
  CHECK(back->backlog_limit.original == 64);
  CHECK(back->backlog_limit.set == 8192);
  CHECK(back->backlog_wait_time.original == 60000);
  CHECK(back->backlog_wait_time.set == 0);
  CHECK(back->audit_pid.original == 0);
  CHECK(back->audit_pid.set == 4321);
}

TEST_CASE("parse_audit_state refuses corrupt text and values out of range") {
  struct bad {
    const char* text;
    const char* why;
  };
  const std::string tail
    = " backlog_limit=64:8192 backlog_wait_time=0:0 audit_pid=0:0\n";
  auto line = [&](const char* head) { return std::string{head} + tail; };
  for (auto [text, why] : {
         bad{"", "not one whole line"},
         bad{"auditree-state pid=12", "not one whole line"},
         bad{"12 1 8192 0\n", "does not start with auditree-state"},
         bad{"auditree-state\n", "expected pid=PID"},
         bad{"auditree-state pid=x enabled=0:1\n", "expected pid=PID"},
         bad{"auditree-state pid=-3 enabled=0:1\n", "expected pid=PID"},
         bad{"auditree-state pid=0 enabled=0:1\n", "pid=0 out of range"},
         bad{"auditree-state pid=4194305 enabled=0:1\n",
             "pid=4194305 out of range"},
         bad{"auditree-state pid=12\n", "expected enabled=ORIGINAL:SET"},
         bad{"auditree-state pid=12 enabled=1\n",
             "enabled: not two decimal numbers"},
         bad{"auditree-state pid=12 enabled=1:\n",
             "enabled: not two decimal numbers"},
         bad{"auditree-state pid=12 enabled=1:1:1\n",
             "enabled: not two decimal numbers"},
         bad{"auditree-state pid=12 enabled=0:2\n",
             "enabled=2 out of range 0..1"},
         bad{"auditree-state pid=12 enabled=0:1 backlog_limit=64:16777217\n",
             "backlog_limit=16777217 out of range"},
         bad{"auditree-state pid=12 enabled=0:1 backlog_limit=64:99999999999"
             "999999999\n",
             "backlog_limit: not two decimal numbers"},
         bad{"auditree-state pid=12 enabled=0:1 backlog_limit=64:64 "
             "backlog_wait_time=600001:0\n",
             "backlog_wait_time=600001 out of range"},
         bad{"auditree-state pid=12 enabled=0:1 backlog_limit=64:64 "
             "backlog_wait_time=0:0 audit_pid=0:4194305\n",
             "audit_pid=4194305 out of range"},
         bad{"auditree-state pid=12 enabled=0:1 backlog_limit=64:64 "
             "backlog_wait_time=0:0\n",
             "expected audit_pid=ORIGINAL:SET"},
         bad{"auditree-state pid=12 enabled=0:1 backlog_limit=64:64 "
             "backlog_wait_time=0:0 audit_pid=0:0 more=1\n",
             "more than the five fields"},
         bad{"auditree-state pid=12 enabled=0:1 backlog_limit=64:64 "
             "backlog_wait_time=0:0 audit_pid=0:0 \n",
             "more than the five fields"},
         bad{"auditree-state  pid=12 enabled=0:1\n", "expected pid=PID"},
       }) {
    INFO(text);
    std::string error;
    CHECK_FALSE(parse_audit_state(text, error));
    CHECK(error.find(why) != std::string::npos);
  }
  std::string error;
  CHECK(parse_audit_state(line("auditree-state pid=12 enabled=0:1"), error));
  // A setting the run left alone is never applied: out of range is fine.
  auto untouched = parse_audit_state(
    "auditree-state pid=12 enabled=1:1 backlog_limit=4294967295:4294967295 "
    "backlog_wait_time=0:0 audit_pid=0:0\n",
    error);
  REQUIRE(untouched);
  CHECK(untouched->backlog_limit.original == 4294967295u);
  CHECK_FALSE(parse_audit_state(
    "auditree-state pid=12 enabled=1:1 backlog_limit=4294967296:4294967296 "
    "backlog_wait_time=0:0 audit_pid=0:0\n",
    error));
  CHECK_FALSE(
    parse_audit_state(line("auditree-state pid=12 enabled=+0:1"), error));
  CHECK_FALSE(parse_audit_state(std::string(300, '1') + "\n", error));
  CHECK(error == "longer than 256 bytes");
}
