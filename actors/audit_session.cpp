#include "actors/audit_session.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libaudit.h>

#include "actors/audit_repair.hpp"
#include "runtime/log.hpp"
#include "runtime/rule_arches.hpp"

namespace auditree {

namespace {

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// What decides whether this host runs 32-bit programs (rule_arches.hpp).
host_facts read_host_facts() {
  host_facts facts;
  utsname names{};
  if (::uname(&names) == 0)
    facts.machine = names.machine;
  // libaudit's own view of the machine, as it resolves b32 and b64.
  facts.is_64bit
    = (audit_machine_to_elf(audit_detect_machine()) & __AUDIT_ARCH_64BIT) != 0;
  facts.proc_sys_readable = exists("/proc/sys/kernel");
  facts.vsyscall32_exists = exists("/proc/sys/abi/vsyscall32");
  std::ifstream config{std::string{"/boot/config-"} + names.release};
  std::stringstream text;
  text << config.rdbuf();
  facts.kernel_config = text.str();
  return facts;
}

} // namespace

audit_session::~audit_session() {
  stop();
}

std::string audit_session::fail(const std::string& why) {
  stop();
  return why;
}

// The rules this host needs, in kernel form: b32 rules only where 32-bit
// programs run, and without the system calls a machine lacks.
std::optional<std::vector<kernel_rule>> audit_session::build_rules(
    const std::vector<audit_rule_spec>& specs) {
  auto host = decide_host_abi(read_host_facts());
  log::info("32-bit programs: ",
            host.compat == compat_abi::present   ? "yes"
            : host.compat == compat_abi::absent ? "no"
                                                : "perhaps",
            " (", host.evidence, ")");
  auto selection = select_rules(specs, host);
  for (auto& why : selection.left_out)
    log::info(opts_.rules_origin, ": rule on ", why, "; left out");
  std::vector<kernel_rule> rules;
  for (auto& spec : selection.install) {
    auto built = control_.build(spec, opts_.key,
                                static_cast<uint32_t>(getpid()));
    if (!built.rule && !control_.error().empty())
      return std::nullopt;
    std::string names;
    for (auto& name : built.left_out)
      names += (names.empty() ? "" : ",") + name;
    if (!names.empty())
      log::info(opts_.rules_origin, ": rule on line ", spec.line, ": ", names,
                built.rule ? " left out" : ", the whole rule left out",
                " (no such system call on ", built.machine, ")");
    if (built.rule)
      rules.push_back(std::move(*built.rule));
  }
  return rules;
}

// The values this run will set, saved before any is set: a crash at any
// point leaves a file that compare-and-restore undoes exactly.
saved_audit_state audit_session::plan_changes() const {
  saved_audit_state plan;
  plan.pid = getpid();
  plan.enabled = {original_.enabled, original_.enabled == 0 ? 1u
                                                            : original_.enabled};
  plan.backlog_limit = {original_.backlog_limit,
                        std::max(opts_.backlog_limit, original_.backlog_limit)};
  // Unicast: a stalled agent must never make audited tasks sleep.
  plan.backlog_wait_time = {original_.backlog_wait_time,
                            opts_.unicast ? 0u : original_.backlog_wait_time};
  plan.audit_pid = {original_.pid, opts_.unicast
                                     ? static_cast<uint32_t>(getpid())
                                     : original_.pid};
  return plan;
}

std::string audit_session::start(const audit_session_options& opts) {
  opts_ = opts;
  started_ = true;
  auto parsed = parse_audit_rules(opts.rules_text);
  if (!parsed.error.empty())
    return fail(opts.rules_origin + ":" + parsed.error);
  if (!control_.open())
    return fail(control_.error());
  // What a dead run left goes first, so its values are never taken for
  // this run's originals.
  auto repaired = repair_dead_run(control_, opts.state_file, opts.key);
  if (repaired.result == repair_result::outcome::refused
      || repaired.result == repair_result::outcome::failed)
    return fail(repaired.message);
  auto status = control_.status();
  if (!status)
    return fail(control_.error());
  original_ = *status;
  if (original_.enabled > 1)
    return fail("audit is locked (enabled=2): its rules and settings "
                "cannot change until reboot");
  if (opts.unicast && original_.pid != 0)
    return fail("another audit daemon (pid " + std::to_string(original_.pid)
                + ") is registered; stop it or use "
                  "--auditree.mode=multicast");
  auto rules = build_rules(parsed.rules);
  if (!rules)
    return fail(opts.rules_origin + ": " + control_.error());
  saved_ = plan_changes();
  if (auto problem = write_state_file(opts.state_file, saved_);
      !problem.empty())
    return fail("cannot write the state file " + opts.state_file + ": "
                + problem + " (a crash would leave audit changed)");
  saved_state_ = true;
  if (saved_.backlog_wait_time.set != original_.backlog_wait_time
      && !control_.set_backlog_wait_time(saved_.backlog_wait_time.set))
    return fail(control_.error());
  if (saved_.backlog_limit.set != original_.backlog_limit
      && !control_.set_backlog_limit(saved_.backlog_limit.set))
    return fail(control_.error());
  if (saved_.enabled.set != original_.enabled
      && !control_.set_enabled(saved_.enabled.set))
    return fail(control_.error());
  for (auto& rule : *rules) {
    if (!control_.add(rule))
      return fail(control_.error());
    installed_.push_back(std::move(rule));
  }
  return {};
}

std::string audit_session::register_listener(int listener_fd) {
  if (!started_ || !opts_.unicast)
    return {};
  // The kernel unicasts to the socket that registered the pid; a lost
  // socket's registration lapses when the kernel fails to reach it.
  auto rc = audit_set_pid(listener_fd, static_cast<uint32_t>(getpid()),
                          WAIT_YES);
  if (rc <= 0)
    return "cannot register as the audit daemon (AUDIT_SET pid)";
  return {};
}

std::optional<kernel_audit_status> audit_session::poll_status(
    std::string& error) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (!started_) {
    error = "the audit session has stopped";
    return std::nullopt;
  }
  auto status = control_.status();
  if (!status)
    error = control_.error();
  return status;
}

// Compare-and-restore: a setting someone changed during the run (auditctl)
// is theirs and stays; the log says which.
void audit_session::stop() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (!started_)
    return;
  started_ = false;
  bool ok = true;
  for (auto i = installed_.rbegin(); i != installed_.rend(); ++i) {
    if (!control_.remove(*i)) {
      log::error("removing a rule failed: ", control_.error());
      ok = false;
    }
  }
  installed_.clear();
  if (saved_state_) {
    ok = restore_settings(control_, saved_) && ok;
    // A failed restore keeps the file for `auditree repair`.
    if (ok)
      remove_state_file(opts_.state_file);
  }
  saved_state_ = false;
}

} // namespace auditree
