// Compare-and-restore: a setting goes back to what the run found only while
// it still holds what the run set.

#include <catch2/catch.hpp>

#include "runtime/audit_restore.hpp"

using namespace auditree;

TEST_CASE("decide_restore: restore only the value the run set") {
  audit_setting_change raised{64, 8192};
  CHECK(decide_restore(raised, 8192) == restore_decision::restore);
  CHECK(decide_restore(raised, 64) == restore_decision::already_original);
  CHECK(decide_restore(raised, 300) == restore_decision::changed_by_other);
  CHECK(decide_restore(raised, 0) == restore_decision::changed_by_other);
  // A setting the run left alone is never touched, whatever it holds now.
  audit_setting_change kept{8192, 8192};
  CHECK(decide_restore(kept, 8192) == restore_decision::untouched);
  CHECK(decide_restore(kept, 300) == restore_decision::untouched);
}

TEST_CASE("plan_restore: the daemon pid first, enabled last") {
  saved_audit_state saved;
  saved.pid = 777;
  saved.enabled = {0, 1};
  saved.backlog_limit = {64, 8192};
  saved.backlog_wait_time = {60000, 0};
  saved.audit_pid = {0, 777};
  current_audit_settings now;
  now.enabled = 1;
  now.backlog_limit = 300; // auditctl -b 300 during the run
  now.backlog_wait_time = 0;
  now.audit_pid = 777;
  auto steps = plan_restore(saved, now);
  REQUIRE(steps.size() == 4);
  CHECK(steps[0].setting == audit_setting::audit_pid);
  CHECK(steps[0].decision == restore_decision::restore);
  CHECK(steps[1].setting == audit_setting::backlog_wait_time);
  CHECK(steps[1].decision == restore_decision::restore);
  CHECK(steps[2].setting == audit_setting::backlog_limit);
  CHECK(steps[2].decision == restore_decision::changed_by_other);
  CHECK(steps[2].current == 300);
  CHECK(steps[3].setting == audit_setting::enabled);
  CHECK(steps[3].decision == restore_decision::restore);
}

TEST_CASE("plan_restore: another daemon registered after the run stays") {
  saved_audit_state saved;
  saved.pid = 777;
  saved.audit_pid = {0, 777};
  current_audit_settings now;
  now.audit_pid = 900;
  auto steps = plan_restore(saved, now);
  CHECK(steps[0].decision == restore_decision::changed_by_other);
  // The registration already lapsed (the kernel dropped the dead socket).
  now.audit_pid = 0;
  CHECK(plan_restore(saved, now)[0].decision
        == restore_decision::already_original);
}

TEST_CASE("describe_step says what was restored and what was left") {
  restore_step step{audit_setting::backlog_limit, {64, 8192}, 300,
                    restore_decision::changed_by_other};
  CHECK(describe_step(step)
        == "backlog_limit: 300 was set during the run by someone else "
           "(auditree had set 8192, found 64): left as they set it");
  step.decision = restore_decision::restore;
  CHECK(describe_step(step) == "backlog_limit: 8192 -> 64 (restored)");
  step.decision = restore_decision::already_original;
  CHECK(describe_step(step) == "backlog_limit: already back at 64");
  step.decision = restore_decision::untouched;
  CHECK(describe_step(step).empty());
}
