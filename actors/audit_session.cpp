#include "actors/audit_session.hpp"

#include <csignal>
#include <fstream>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libaudit.h>

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

// A run that crashed left its state file: put back the settings it had
// found, before reading what "original" means for this run.
std::string audit_session::recover_crashed_run() {
  std::ifstream in{opts_.state_file};
  if (!in)
    return {};
  long pid = 0;
  kernel_audit_status saved;
  in >> pid >> saved.enabled >> saved.backlog_limit >> saved.backlog_wait_time;
  if (!in) {
    log::warning(opts_.state_file, ": unreadable, ignored");
    std::remove(opts_.state_file.c_str());
    return {};
  }
  if (pid > 0 && pid != getpid() && ::kill(static_cast<pid_t>(pid), 0) == 0)
    return "another auditree (pid " + std::to_string(pid) + ") is running ("
           + opts_.state_file + ")";
  log::warning("restoring audit settings left by a crashed run (pid ", pid,
               "): enabled=", saved.enabled,
               " backlog_limit=", saved.backlog_limit,
               " backlog_wait_time=", saved.backlog_wait_time);
  control_.set_backlog_wait_time(saved.backlog_wait_time);
  control_.set_backlog_limit(saved.backlog_limit);
  control_.set_enabled(saved.enabled);
  std::remove(opts_.state_file.c_str());
  return {};
}

void audit_session::save_state() const {
  auto dir = opts_.state_file.substr(0, opts_.state_file.rfind('/'));
  if (!dir.empty())
    ::mkdir(dir.c_str(), 0700);
  std::ofstream out{opts_.state_file, std::ios::trunc};
  out << getpid() << ' ' << original_.enabled << ' '
      << original_.backlog_limit << ' ' << original_.backlog_wait_time
      << '\n';
  if (!out)
    log::warning("cannot write ", opts_.state_file,
                 ": a crash would leave audit settings changed");
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

std::string audit_session::start(const audit_session_options& opts) {
  opts_ = opts;
  started_ = true;
  auto parsed = parse_audit_rules(opts.rules_text);
  if (!parsed.error.empty())
    return fail(opts.rules_origin + ":" + parsed.error);
  if (!control_.open())
    return fail(control_.error());
  if (auto problem = recover_crashed_run(); !problem.empty())
    return fail(problem);
  if (auto stale = control_.rules_with_key(opts.key)) {
    for (auto& rule : *stale)
      control_.remove(rule);
    if (!stale->empty())
      log::warning("removed ", stale->size(),
                   " stale rules with key ", opts.key);
  } else {
    return fail(control_.error());
  }
  auto status = control_.status();
  if (!status)
    return fail(control_.error());
  original_ = *status;
  if (opts.unicast && original_.pid != 0)
    return fail("another audit daemon (pid " + std::to_string(original_.pid)
                + ") is registered; stop it or use "
                  "--auditree.mode=multicast");
  save_state();
  saved_state_ = true;
  auto rules = build_rules(parsed.rules);
  if (!rules)
    return fail(opts.rules_origin + ": " + control_.error());
  if (opts.unicast) {
    if (original_.backlog_wait_time != 0) {
      // A stalled agent must never make audited tasks sleep.
      if (!control_.set_backlog_wait_time(0))
        return fail(control_.error());
      set_wait_time_ = true;
    }
  }
  if (opts.backlog_limit > original_.backlog_limit) {
    if (!control_.set_backlog_limit(opts.backlog_limit))
      return fail(control_.error());
    set_backlog_limit_ = true;
  }
  if (original_.enabled == 0) {
    if (!control_.set_enabled(1))
      return fail(control_.error());
    set_enabled_ = true;
  }
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
  registered_ = true;
  return {};
}

void audit_session::stop() {
  if (!started_)
    return;
  started_ = false;
  for (auto i = installed_.rbegin(); i != installed_.rend(); ++i)
    if (!control_.remove(*i))
      log::error("removing a rule failed: ", control_.error());
  installed_.clear();
  if (registered_ && !control_.set_pid(0))
    log::error(control_.error());
  if (set_wait_time_ && !control_.set_backlog_wait_time(original_.backlog_wait_time))
    log::error(control_.error());
  if (set_backlog_limit_ && !control_.set_backlog_limit(original_.backlog_limit))
    log::error(control_.error());
  if (set_enabled_ && !control_.set_enabled(original_.enabled))
    log::error(control_.error());
  registered_ = set_wait_time_ = set_backlog_limit_ = set_enabled_ = false;
  if (saved_state_)
    std::remove(opts_.state_file.c_str());
  saved_state_ = false;
}

} // namespace auditree
