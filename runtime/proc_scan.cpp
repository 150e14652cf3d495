#include "runtime/proc_scan.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <tuple>
#include <unistd.h>

#include "runtime/audit_parser.hpp"
#include "runtime/cgroup_container.hpp"
#include "runtime/pid_views.hpp"

namespace auditree {

namespace {

// The whole file; nullopt with the reason in `error` (errno) otherwise.
std::optional<std::string> read_file(const std::string& path, int& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    error = errno;
    return std::nullopt;
  }
  std::string text;
  char buf[4096];
  for (;;) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = errno;
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0)
      break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

std::optional<std::string> read_file(const std::string& path) {
  int ignored = 0;
  return read_file(path, ignored);
}

// The process is gone (or never was one): not an error of ours.
bool is_gone(int error) {
  return error == ENOENT || error == ESRCH || error == ENOTDIR;
}

std::string read_link(const std::string& path) {
  char buf[4096];
  auto n = ::readlink(path.c_str(), buf, sizeof(buf));
  return n > 0 ? std::string{buf, static_cast<size_t>(n)} : std::string{};
}

// The next space-separated word of `s`, removed from it.
std::string_view next_word(std::string_view& s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  auto end = s.find(' ');
  auto word = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  return word;
}

} // namespace

bool parse_proc_stat(std::string_view text, proc_process& out) {
  // pid (comm) state ppid ...: comm ends at the last ')'.
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos
      || close < open)
    return false;
  auto pid = parse_unsigned(text.substr(0, open > 0 ? open - 1 : 0));
  if (!pid || *pid == 0 || *pid > INT32_MAX)
    return false;
  out.pid = static_cast<int32_t>(*pid);
  out.comm = std::string{text.substr(open + 1, close - open - 1)};
  auto rest = text.substr(close + 1);
  // Fields from 3 (state) on; ppid is 4, num_threads 20, starttime 22.
  for (int field = 3; field <= 22; ++field) {
    auto word = next_word(rest);
    if (word.empty())
      return false;
    if (field == 3) {
      if (word.size() != 1)
        return false;
      out.state = word.front();
    } else if (field == 4) {
      auto ppid = parse_unsigned(word);
      if (!ppid || *ppid > INT32_MAX)
        return false;
      out.ppid = static_cast<int32_t>(*ppid);
    } else if (field == 5 || field == 6) {
      auto id = parse_unsigned(word);
      auto value = id && *id <= INT32_MAX ? static_cast<int32_t>(*id) : 0;
      (field == 5 ? out.pgid : out.sid) = value;
    } else if (field == 20) {
      auto n = parse_unsigned(word);
      out.num_threads = n && *n <= INT32_MAX ? static_cast<int32_t>(*n) : 0;
    } else if (field == 22) {
      auto start = parse_unsigned(word);
      if (!start)
        return false;
      out.start_ticks = *start;
    }
  }
  return true;
}

bool is_live(const proc_process& p) {
  return p.state != 'X' && (p.state != 'Z' || p.num_threads > 1);
}

bool parse_proc_status(std::string_view text, proc_process& out) {
  auto pos = text.find("\nUid:");
  if (pos == std::string_view::npos)
    return false;
  auto line = text.substr(pos + 5);
  line = line.substr(0, line.find('\n'));
  std::string normalized{line};
  for (auto& c : normalized)
    if (c == '\t')
      c = ' ';
  std::string_view rest{normalized};
  auto real = parse_unsigned(next_word(rest));
  auto effective = parse_unsigned(next_word(rest));
  if (!real || !effective)
    return false;
  out.uid = static_cast<uint32_t>(*real);
  out.euid = static_cast<uint32_t>(*effective);
  out.vpid = parse_nspid(text);
  return true;
}

std::string parse_proc_cgroup(std::string_view text) {
  std::string unified;
  std::string systemd;
  while (!text.empty()) {
    auto line = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), line.size() + 1));
    if (line.rfind("0::", 0) == 0)
      unified = std::string{line.substr(3)};
    else if (auto p = line.find(":name=systemd:"); p != std::string_view::npos)
      systemd = std::string{line.substr(p + 14)};
  }
  if ((unified.empty() || unified == "/") && !systemd.empty())
    return systemd;
  return unified;
}

std::optional<uint64_t> parse_boot_time(std::string_view text) {
  auto pos = text.find("btime ");
  if (pos == std::string_view::npos)
    return std::nullopt;
  auto rest = text.substr(pos + 6);
  return parse_unsigned(rest.substr(0, rest.find('\n')));
}

std::optional<uint64_t> read_boot_time(const std::string& root) {
  auto text = read_file(root + "/stat");
  return text ? parse_boot_time(*text) : std::nullopt;
}

std::optional<std::string> read_proc_cgroup(const std::string& root,
                                            int32_t pid) {
  auto text = read_file(root + "/" + std::to_string(pid) + "/cgroup");
  if (!text)
    return std::nullopt;
  return parse_proc_cgroup(*text);
}

int32_t read_proc_vpid(const std::string& root, int32_t pid) {
  auto text = read_file(root + "/" + std::to_string(pid) + "/status");
  return text ? parse_nspid(*text) : 0;
}

namespace {

// One process; nullopt when it is gone, or (with `error` set) when its
// stat could not be read for another reason.
std::optional<proc_process> read_one(const std::string& root, int32_t pid,
                                     uint64_t boot_time, int& error) {
  auto dir = root + "/" + std::to_string(pid);
  proc_process result;
  int stat_error = 0;
  auto stat = read_file(dir + "/stat", stat_error);
  if (!stat) {
    error = is_gone(stat_error) ? 0 : stat_error;
    return std::nullopt;
  }
  if (!parse_proc_stat(*stat, result))
    return std::nullopt;
  // A file that vanished with the process leaves its facts unknown; one
  // that failed otherwise (descriptors ran out) makes the process unknown.
  int file_error = 0;
  auto fact = [&](const char* name) {
    int e = 0;
    auto text = read_file(dir + "/" + name, e);
    if (!text && !is_gone(e))
      file_error = e;
    return text;
  };
  if (auto status = fact("status"))
    parse_proc_status(*status, result);
  if (auto cmdline = fact("cmdline"))
    result.argv = split_proctitle(*cmdline);
  if (auto cgroup = fact("cgroup"))
    result.cgroup = parse_proc_cgroup(*cgroup);
  if (file_error != 0) {
    error = file_error;
    return std::nullopt;
  }
  result.exe = read_link(dir + "/exe");
  result.cwd = read_link(dir + "/cwd");
  static const auto ticks_per_second = ::sysconf(_SC_CLK_TCK);
  result.start_ms = boot_time * 1000
                    + result.start_ticks * 1000
                        / static_cast<uint64_t>(ticks_per_second);
  return result;
}

} // namespace

std::optional<proc_process> read_proc_process(const std::string& root,
                                              int32_t pid,
                                              uint64_t boot_time) {
  int ignored = 0;
  return read_one(root, pid, boot_time, ignored);
}

proc_sweep sweep_proc(const std::string& root) {
  proc_sweep result;
  auto boot_time = read_boot_time(root).value_or(0);
  auto dir = ::opendir(root.c_str());
  if (dir == nullptr) {
    result.error = errno;
    return result;
  }
  for (;;) {
    errno = 0;
    auto entry = ::readdir(dir);
    if (entry == nullptr) {
      result.error = errno;
      break;
    }
    auto pid = parse_unsigned(entry->d_name);
    if (!pid || *pid == 0 || *pid > INT32_MAX)
      continue;
    int error = 0;
    auto p = read_one(root, static_cast<int32_t>(*pid), boot_time, error);
    if (error != 0) {
      result.unknown.push_back(static_cast<int32_t>(*pid));
      result.unknown_error = error;
    } else if (p && is_live(*p)) {
      result.live.push_back(std::move(*p));
    }
  }
  ::closedir(dir);
  return result;
}

std::vector<proc_process> scan_proc(const std::string& root) {
  return sweep_proc(root).live;
}

std::vector<process_event>
to_process_events(std::vector<proc_process> procs) {
  // A parent starts no later than its child; pid breaks ties.
  std::sort(procs.begin(), procs.end(), [](auto& x, auto& y) {
    return std::tie(x.start_ticks, x.pid) < std::tie(y.start_ticks, y.pid);
  });
  std::vector<process_event> result;
  result.reserve(procs.size());
  for (auto& p : procs) {
    process_event ev;
    ev.action = process_action::exec;
    ev.source = fact_source::proc_scan;
    ev.id = event_id{p.start_ms / 1000, static_cast<uint32_t>(p.start_ms % 1000),
                     0};
    ev.pid = p.pid;
    ev.ppid = p.ppid;
    ev.comm = std::move(p.comm);
    ev.exe = std::move(p.exe);
    ev.argv = std::move(p.argv);
    ev.cwd = std::move(p.cwd);
    ev.uid = p.uid;
    ev.euid = p.euid;
    ev.pgid = p.pgid;
    ev.sid = p.sid;
    ev.vpid = p.vpid;
    // The cgroup is the container's own word; lineage cannot name the
    // containers that started before the agent.
    if (!p.cgroup_delegated)
      ev.container = container_from_cgroup(p.cgroup);
    result.push_back(std::move(ev));
  }
  return result;
}

} // namespace auditree
