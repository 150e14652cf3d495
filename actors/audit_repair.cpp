#include "actors/audit_repair.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/audit_restore.hpp"
#include "runtime/log.hpp"

namespace auditree {

namespace {

struct split_path {
  std::string dir;
  std::string name;
};

split_path split(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// The state file's directory, opened and checked, or -1 with `problem`.
int open_state_dir(const std::string& dir, std::string& problem) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    problem = errno == ENOENT ? std::string{}
                              : "its directory: " + std::string{std::strerror(errno)};
    return -1;
  }
  struct stat info;
  if (::fstat(fd, &info) != 0)
    problem = std::strerror(errno);
  else
    problem = state_dir_problem(S_ISDIR(info.st_mode), info.st_uid,
                                info.st_mode & 07777);
  if (!problem.empty()) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The file's text, read through `dir_fd` and checked, or `problem`.
std::string read_checked(int dir_fd, const std::string& name, bool& absent,
                         std::string& problem) {
  int fd = ::openat(dir_fd, name.c_str(),
                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    absent = errno == ENOENT;
    problem = errno == ELOOP ? "a symlink" : std::strerror(errno);
    return {};
  }
  struct stat info;
  if (::fstat(fd, &info) != 0)
    problem = std::strerror(errno);
  else
    problem = state_file_problem(S_ISREG(info.st_mode), info.st_uid,
                                 info.st_mode & 07777);
  std::string text;
  if (problem.empty()) {
    char buf[max_state_file_bytes + 1];
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0)
      problem = std::strerror(errno);
    else
      text.assign(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

// Alive, and not a zombie (a killed agent not yet reaped has closed its
// sockets and changes nothing more).
bool process_exists(int64_t pid) {
  if (pid <= 0
      || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM))
    return false;
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text{std::istreambuf_iterator<char>{stat}, {}};
  auto paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size())
    return true;
  char state = text[paren + 2];
  return state != 'Z' && state != 'X';
}

bool apply(audit_control& control, audit_setting setting, uint32_t value) {
  switch (setting) {
    case audit_setting::audit_pid:
      // Only ever unregistered: the pid found was 0 (unicast refuses else).
      return value == 0 && control.set_pid(0);
    case audit_setting::backlog_wait_time:
      return control.set_backlog_wait_time(value);
    case audit_setting::backlog_limit:
      return control.set_backlog_limit(value);
    case audit_setting::enabled:
      return control.set_enabled(value);
  }
  return false;
}

// A registered audit daemon that no process is: the kernel lets anyone
// unregister it only once its socket is gone (it tests it first), so a
// live daemon is never dropped.
void unregister_dead_daemon(audit_control& control, bool& did) {
  auto status = control.status();
  if (!status || status->pid == 0 || process_exists(status->pid))
    return;
  if (control.set_pid(0)) {
    log::warning("unregistered the audit daemon pid ", status->pid,
                 ", which no process has");
    did = true;
  } else {
    log::warning("audit daemon pid ", status->pid,
                 " left registered: ", control.error());
  }
}

} // namespace

state_file_read read_state_file(const std::string& path) {
  state_file_read out;
  auto [dir, name] = split(path);
  int dir_fd = open_state_dir(dir, out.problem);
  if (dir_fd < 0) {
    out.result = out.problem.empty() ? state_file_read::outcome::absent
                                     : state_file_read::outcome::refused;
    return out;
  }
  bool absent = false;
  auto text = read_checked(dir_fd, name, absent, out.problem);
  ::close(dir_fd);
  if (absent) {
    out.problem.clear();
    return out;
  }
  std::optional<saved_audit_state> saved;
  if (out.problem.empty())
    saved = parse_audit_state(text, out.problem);
  if (!saved) {
    out.result = state_file_read::outcome::refused;
    return out;
  }
  out.result = state_file_read::outcome::ok;
  out.state = *saved;
  return out;
}

std::string write_state_file(const std::string& path,
                             const saved_audit_state& state) {
  auto [dir, name] = split(path);
  ::mkdir(dir.c_str(), 0700);
  std::string problem;
  int dir_fd = open_state_dir(dir, problem);
  if (dir_fd < 0)
    return problem.empty() ? "its directory does not exist" : problem;
  auto text = format_audit_state(state);
  auto tmp = name + ".new";
  ::unlinkat(dir_fd, tmp.c_str(), 0);
  int fd = ::openat(dir_fd, tmp.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
  bool ok = fd >= 0 && ::fchmod(fd, 0600) == 0
            && ::write(fd, text.data(), text.size())
                 == static_cast<ssize_t>(text.size())
            && ::fsync(fd) == 0;
  if (fd >= 0)
    ok = ::close(fd) == 0 && ok;
  ok = ok && ::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) == 0
       && ::fsync(dir_fd) == 0;
  if (!ok) {
    problem = std::strerror(errno);
    ::unlinkat(dir_fd, tmp.c_str(), 0);
  }
  ::close(dir_fd);
  return problem;
}

void remove_state_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    log::error("cannot remove ", path, ": ", std::strerror(errno));
}

bool is_live_auditree(int64_t pid) {
  if (!process_exists(pid))
    return false;
  auto proc = "/proc/" + std::to_string(pid);
  struct stat info;
  char exe[4096];
  auto n = ::readlink((proc + "/exe").c_str(), exe, sizeof(exe) - 1);
  // Alive but unreadable: it may be ours, so it is not taken as dead.
  if (::stat(proc.c_str(), &info) != 0 || n < 0)
    return true;
  std::string target{exe, static_cast<size_t>(n)};
  const std::string deleted = " (deleted)"; // replaced by an upgrade
  if (target.size() > deleted.size()
      && target.compare(target.size() - deleted.size(), deleted.size(),
                        deleted) == 0)
    target.resize(target.size() - deleted.size());
  return info.st_uid == 0 && split(target).name == "auditree";
}

bool restore_settings(audit_control& control, const saved_audit_state& saved) {
  auto status = control.status();
  if (!status) {
    log::error("cannot read the audit settings to restore: ", control.error());
    return false;
  }
  current_audit_settings now{status->enabled, status->backlog_limit,
                             status->backlog_wait_time, status->pid};
  bool ok = true;
  for (auto& step : plan_restore(saved, now)) {
    switch (step.decision) {
      case restore_decision::untouched:
        break;
      case restore_decision::restore:
        if (apply(control, step.setting, step.change.original)) {
          log::info(describe_step(step));
        } else {
          log::error(setting_name(step.setting), ": not restored: ",
                     control.error());
          ok = false;
        }
        break;
      case restore_decision::already_original:
        log::info(describe_step(step));
        break;
      case restore_decision::changed_by_other:
        log::warning(describe_step(step));
        break;
    }
  }
  return ok;
}

repair_result repair_dead_run(audit_control& control,
                              const std::string& state_file,
                              const std::string& key) {
  using outcome = repair_result::outcome;
  auto read = read_state_file(state_file);
  if (read.result == state_file_read::outcome::refused)
    return {outcome::refused,
            "refusing the state file " + state_file + ": " + read.problem
              + "; nothing applied (check it, remove it, then run auditree "
                "repair)"};
  bool have_file = read.result == state_file_read::outcome::ok;
  auto pid = read.state.pid;
  // A container's agent is pid 1 at every start: its own pid is a dead run.
  if (have_file && pid != ::getpid() && is_live_auditree(pid))
    return {outcome::refused, "auditree pid " + std::to_string(pid)
                                + " is running and owns " + state_file
                                + "; nothing repaired (stop it first)"};
  bool did = false;
  auto stale = control.rules_with_key(key);
  if (!stale)
    return {outcome::failed, control.error()};
  size_t removed = 0;
  for (auto& rule : *stale)
    removed += control.remove(rule) ? 1 : 0;
  if (!stale->empty()) {
    log::warning("removed ", removed, " of ", stale->size(),
                 " rules with key ", key, " left by a dead run");
    did = true;
  }
  bool ok = removed == stale->size();
  if (have_file) {
    log::warning("restoring the audit settings a dead run (pid ", pid,
                 ") changed, from ", state_file);
    ok = restore_settings(control, read.state) && ok;
    did = true;
  }
  unregister_dead_daemon(control, did);
  if (!ok)
    return {outcome::failed, "repair incomplete; " + state_file
                               + " kept for another try"};
  if (have_file)
    remove_state_file(state_file);
  return {did ? outcome::repaired : outcome::nothing,
          did ? "repaired what a dead run left" : "nothing to repair"};
}

int repair_command(const std::string& state_file, const std::string& key) {
  audit_control control;
  if (!control.open()) {
    log::error(control.error());
    return 1;
  }
  auto result = repair_dead_run(control, state_file, key);
  switch (result.result) {
    case repair_result::outcome::nothing:
    case repair_result::outcome::repaired:
      log::info(result.message);
      return 0;
    case repair_result::outcome::refused:
    case repair_result::outcome::failed:
      log::error(result.message);
      return 1;
  }
  return 1;
}

} // namespace auditree
