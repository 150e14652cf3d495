#include "runtime/docker_names.hpp"

#include <algorithm>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/audit_parser.hpp"
#include "runtime/container_lineage.hpp"
#include "runtime/proc_scan.hpp"

namespace auditree {

namespace {

constexpr std::string_view default_data_root = "/var/lib/docker";
constexpr std::string_view default_daemon_config = "/etc/docker/daemon.json";
constexpr size_t max_config_bytes = 4 * 1024 * 1024;
constexpr size_t max_name_size = 255;

void skip_space(std::string_view s, size_t& i) {
  while (i < s.size()
         && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    ++i;
}

// Skips a JSON string starting at s[i] == '"'; false if unterminated.
bool skip_string(std::string_view s, size_t& i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\')
      ++i;
    else if (s[i] == '"')
      return ++i, true;
  }
  return false;
}

// Skips one JSON value (string, object, array or scalar) at s[i].
bool skip_value(std::string_view s, size_t& i) {
  if (i >= s.size())
    return false;
  if (s[i] == '"')
    return skip_string(s, i);
  if (s[i] != '{' && s[i] != '[') {
    auto start = i;
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']'
           && s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
      ++i;
    return i > start;
  }
  // Nested: count brackets outside strings.
  size_t depth = 0;
  while (i < s.size()) {
    auto c = s[i];
    if (c == '"') {
      if (!skip_string(s, i))
        return false;
      continue;
    }
    if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']')
      --depth;
    ++i;
    if (depth == 0)
      return true;
  }
  return false;
}

} // namespace

bool is_docker_style_name(std::string_view name) {
  if (name.empty() || name.size() > max_name_size)
    return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front()))
    return false;
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return alnum(c) || c == '_' || c == '.' || c == '-';
  });
}

namespace {

bool is_hex_id(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Owned by root, writable by nobody else.
bool root_only(const struct stat& st) {
  return st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

std::optional<std::string> read_root_owned_in(const std::string& dir,
                                              const std::string& file) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || !root_only(st))
    return std::nullopt;
  auto path = dir + "/" + file;
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return std::nullopt;
  std::optional<std::string> text;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && root_only(st)
      && static_cast<size_t>(st.st_size) <= max_config_bytes) {
    std::string buf(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < buf.size()) {
      auto n = ::read(fd, buf.data() + got, buf.size() - got);
      if (n <= 0)
        break;
      got += static_cast<size_t>(n);
    }
    buf.resize(got);
    text = std::move(buf);
  }
  ::close(fd);
  return text;
}

} // namespace

std::optional<std::string_view> json_top_value(std::string_view json,
                                               std::string_view key) {
  size_t i = 0;
  skip_space(json, i);
  if (i >= json.size() || json[i] != '{')
    return std::nullopt;
  ++i;
  while (true) {
    skip_space(json, i);
    if (i >= json.size() || json[i] != '"')
      return std::nullopt; // `}` of an object without the key, or garbage.
    auto key_start = i + 1;
    if (!skip_string(json, i))
      return std::nullopt;
    auto found = json.substr(key_start, i - 1 - key_start) == key;
    skip_space(json, i);
    if (i >= json.size() || json[i] != ':')
      return std::nullopt;
    ++i;
    skip_space(json, i);
    auto value_start = i;
    if (!skip_value(json, i))
      return std::nullopt;
    if (found)
      return json.substr(value_start, i - value_start);
    skip_space(json, i);
    if (i >= json.size() || json[i] != ',')
      return std::nullopt;
    ++i;
  }
}

std::optional<std::string> json_top_string(std::string_view json,
                                           std::string_view key) {
  auto value = json_top_value(json, key);
  if (!value || value->size() < 2 || value->front() != '"'
      || value->find('\\') != std::string_view::npos)
    return std::nullopt;
  return std::string{value->substr(1, value->size() - 2)};
}

std::optional<std::string> docker_name_from_config(std::string_view json) {
  auto name = json_top_string(json, "Name");
  if (!name)
    return name;
  std::string_view bare = *name;
  if (!bare.empty() && bare.front() == '/')
    bare.remove_prefix(1);
  if (!is_docker_style_name(bare))
    return std::nullopt;
  return std::string{bare};
}

std::vector<std::string>
docker_data_roots(const std::vector<proc_process>& procs,
                  const read_file_fn& read_root_owned_file) {
  std::vector<std::string> roots;
  for (auto& p : procs) {
    if (p.uid != 0 || p.euid != 0 || base_name(p.exe) != "dockerd")
      continue;
    std::optional<std::string> root;
    std::string config{default_daemon_config};
    for (size_t i = 1; i < p.argv.size(); ++i) {
      std::string_view arg = p.argv[i];
      auto value_of = [&](std::string_view opt) -> std::optional<std::string> {
        if (arg == opt && i + 1 < p.argv.size())
          return p.argv[i + 1];
        if (arg.size() > opt.size() + 1 && arg.substr(0, opt.size()) == opt
            && arg[opt.size()] == '=')
          return std::string{arg.substr(opt.size() + 1)};
        return std::nullopt;
      };
      for (std::string_view opt : {"--data-root", "--graph", "-g"})
        if (auto x = value_of(opt))
          root = x;
      if (auto x = value_of("--config-file"))
        config = *x;
    }
    // Without the option, dockerd takes data-root from its config file.
    if (!root)
      if (auto text = read_root_owned_file(config))
        root = json_top_string(*text, "data-root");
    if (!root)
      root = std::string{default_data_root};
    // Only absolute paths: a relative one depends on dockerd's cwd.
    if (!root->empty() && root->front() == '/'
        && std::find(roots.begin(), roots.end(), *root) == roots.end())
      roots.push_back(*root);
  }
  return roots;
}

std::optional<std::string> read_root_owned(const std::string& path) {
  auto slash = path.rfind('/');
  if (path.empty() || path.front() != '/' || slash == std::string::npos)
    return std::nullopt;
  return read_root_owned_in(slash == 0 ? "/" : path.substr(0, slash),
                            path.substr(slash + 1));
}

std::vector<proc_process> find_processes_named(const std::string& proc_root,
                                               std::string_view exe_name) {
  std::vector<proc_process> found;
  auto dir = ::opendir(proc_root.c_str());
  if (dir == nullptr)
    return found;
  auto boot_time = read_boot_time(proc_root).value_or(0);
  while (auto entry = ::readdir(dir)) {
    auto pid = parse_unsigned(entry->d_name);
    if (!pid || *pid == 0 || *pid > INT32_MAX)
      continue;
    char target[256];
    auto link = proc_root + "/" + entry->d_name + "/exe";
    auto n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0 || base_name(std::string_view{target, static_cast<size_t>(n)})
                    != exe_name)
      continue;
    if (auto p = read_proc_process(proc_root, static_cast<int32_t>(*pid),
                                   boot_time))
      found.push_back(std::move(*p));
  }
  ::closedir(dir);
  return found;
}

std::vector<proc_process> find_dockerd(const std::string& proc_root) {
  return find_processes_named(proc_root, "dockerd");
}

std::optional<std::string> read_docker_name(const std::vector<std::string>& roots,
                                            std::string_view hex_id) {
  if (!is_hex_id(hex_id))
    return std::nullopt;
  for (auto& root : roots) {
    auto text = read_root_owned_in(root + "/containers/" + std::string{hex_id},
                                   "config.v2.json");
    if (text)
      if (auto name = docker_name_from_config(*text))
        return name;
  }
  return std::nullopt;
}

} // namespace auditree
