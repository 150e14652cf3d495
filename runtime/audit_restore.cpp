#include "runtime/audit_restore.hpp"

namespace auditree {

restore_decision decide_restore(const audit_setting_change& change,
                                uint32_t current) {
  if (change.set == change.original)
    return restore_decision::untouched;
  if (current == change.set)
    return restore_decision::restore;
  if (current == change.original)
    return restore_decision::already_original;
  return restore_decision::changed_by_other;
}

std::vector<restore_step> plan_restore(const saved_audit_state& saved,
                                       const current_audit_settings& now) {
  std::vector<restore_step> steps;
  auto add = [&](audit_setting setting, const audit_setting_change& change,
                 uint32_t current) {
    steps.push_back({setting, change, current,
                     decide_restore(change, current)});
  };
  add(audit_setting::audit_pid, saved.audit_pid, now.audit_pid);
  add(audit_setting::backlog_wait_time, saved.backlog_wait_time,
      now.backlog_wait_time);
  add(audit_setting::backlog_limit, saved.backlog_limit, now.backlog_limit);
  add(audit_setting::enabled, saved.enabled, now.enabled);
  return steps;
}

const char* setting_name(audit_setting setting) {
  switch (setting) {
    case audit_setting::audit_pid:
      return "audit pid";
    case audit_setting::backlog_wait_time:
      return "backlog_wait_time";
    case audit_setting::backlog_limit:
      return "backlog_limit";
    case audit_setting::enabled:
      return "enabled";
  }
  return "?";
}

std::string describe_step(const restore_step& step) {
  auto name = std::string{setting_name(step.setting)};
  auto original = std::to_string(step.change.original);
  auto set = std::to_string(step.change.set);
  switch (step.decision) {
    case restore_decision::untouched:
      return {};
    case restore_decision::restore:
      return name + ": " + set + " -> " + original + " (restored)";
    case restore_decision::already_original:
      return name + ": already back at " + original;
    case restore_decision::changed_by_other:
      return name + ": " + std::to_string(step.current)
             + " was set during the run by someone else (auditree had set "
             + set + ", found " + original + "): left as they set it";
  }
  return {};
}

} // namespace auditree
