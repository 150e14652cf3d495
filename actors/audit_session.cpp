#include "actors/audit_session.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libaudit.h>

#include "runtime/audit_state_file.hpp"
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
// found, before reading what "original" means for this run. Root restores
// from it, so it is trusted only as root's own 0600 regular file (never
// through a symlink) with values in range; anything else stops the start
// with nothing applied.
std::string audit_session::recover_crashed_run() {
  auto refuse = [&](const std::string& why) {
    return "refusing the state file " + opts_.state_file + ": " + why
           + "; nothing restored from it (check it, remove it, start again)";
  };
  int fd = ::open(opts_.state_file.c_str(),
                  O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT)
      return {};
    return refuse(errno == ELOOP ? "a symlink" : std::strerror(errno));
  }
  struct stat info;
  std::string text;
  std::string problem;
  if (::fstat(fd, &info) != 0) {
    problem = std::strerror(errno);
  } else {
    problem = state_file_problem(S_ISREG(info.st_mode), info.st_uid,
                                 info.st_mode & 07777);
  }
  if (problem.empty()) {
    char buf[max_state_file_bytes + 1];
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0)
      problem = std::strerror(errno);
    else
      text.assign(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  std::optional<saved_audit_state> saved;
  if (problem.empty())
    saved = parse_audit_state(text, problem);
  if (!saved)
    return refuse(problem);
  if (saved->pid != getpid() && ::kill(static_cast<pid_t>(saved->pid), 0) == 0)
    return "another auditree (pid " + std::to_string(saved->pid)
           + ") is running (" + opts_.state_file + ")";
  log::warning("restoring audit settings left by a crashed run (pid ",
               saved->pid, "): enabled=", saved->enabled,
               " backlog_limit=", saved->backlog_limit,
               " backlog_wait_time=", saved->backlog_wait_time);
  control_.set_backlog_wait_time(saved->backlog_wait_time);
  control_.set_backlog_limit(saved->backlog_limit);
  control_.set_enabled(saved->enabled);
  ::unlink(opts_.state_file.c_str());
  return {};
}

// Written to a new file and renamed over the old one: a crash never leaves
// half a file, and neither name is followed if it is a symlink.
void audit_session::save_state() const {
  auto slash = opts_.state_file.rfind('/');
  if (slash != std::string::npos && slash > 0)
    ::mkdir(opts_.state_file.substr(0, slash).c_str(), 0700);
  saved_audit_state state;
  state.pid = getpid();
  state.enabled = original_.enabled;
  state.backlog_limit = original_.backlog_limit;
  state.backlog_wait_time = original_.backlog_wait_time;
  auto text = format_audit_state(state);
  auto tmp = opts_.state_file + ".new";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  bool ok = fd >= 0
            && ::write(fd, text.data(), text.size())
                 == static_cast<ssize_t>(text.size())
            && ::fsync(fd) == 0;
  if (fd >= 0)
    ok = ::close(fd) == 0 && ok;
  ok = ok && ::rename(tmp.c_str(), opts_.state_file.c_str()) == 0;
  if (!ok) {
    log::warning("cannot write ", opts_.state_file, ": ",
                 std::strerror(errno),
                 ": a crash would leave audit settings changed");
    ::unlink(tmp.c_str());
  }
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

void audit_session::stop() {
  std::lock_guard<std::mutex> guard{mutex_};
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
    ::unlink(opts_.state_file.c_str());
  saved_state_ = false;
}

} // namespace auditree
