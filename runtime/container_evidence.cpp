#include "runtime/container_evidence.hpp"

#include <algorithm>

namespace auditree {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size()
         && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view base_of(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
         || (c >= 'A' && c <= 'Z');
}

bool is_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// containerd's identifier grammar: alphanumeric runs joined by single
// `.`, `_` or `-`, at most 76 characters.
bool is_containerd_id(std::string_view s) {
  if (s.empty() || s.size() > 76 || !is_alnum(s.front()) || !is_alnum(s.back()))
    return false;
  for (size_t i = 1; i < s.size(); ++i) {
    bool sep = s[i] == '.' || s[i] == '_' || s[i] == '-';
    if (!is_alnum(s[i]) && !sep)
      return false;
    if (sep && !is_alnum(s[i - 1]))
      return false;
  }
  return true;
}

bool is_runc_id(std::string_view s) {
  if (s.empty() || s.size() > 128 || s == "." || s == "..")
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alnum(c) || c == '_' || c == '+' || c == '-' || c == '.';
  });
}

bool is_machine_name(std::string_view s) {
  if (s.empty() || s.size() > 253 || s == "." || s == "..")
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '\\';
  });
}

// `<prefix><name><suffix>` -> name, else nullopt.
std::optional<std::string_view> between(std::string_view part,
                                        std::string_view prefix,
                                        std::string_view suffix) {
  if (part.size() <= prefix.size() + suffix.size() || !starts_with(part, prefix)
      || !ends_with(part, suffix))
    return std::nullopt;
  return part.substr(prefix.size(),
                     part.size() - prefix.size() - suffix.size());
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto part = path.substr(0, slash);
    if (!part.empty())
      parts.push_back(part);
    path.remove_prefix(slash == std::string_view::npos ? path.size()
                                                       : slash + 1);
  }
  return parts;
}

// A systemd user manager's subtree: delegated to that user, who may
// create any cgroup name in it.
bool is_delegated(const std::vector<std::string_view>& parts) {
  if (!parts.empty() && parts.front() == "user.slice")
    return true;
  return std::any_of(parts.begin(), parts.end(), [](std::string_view p) {
    return starts_with(p, "user@") && ends_with(p, ".service");
  });
}

cgroup_claim named(std::string prefix, std::string_view id, id_grammar g) {
  cgroup_claim out;
  if (valid_container_id(id, g))
    out.container = prefix + "/" + std::string{id};
  else
    out.rejected = claim_rejection::bad_id;
  return out;
}

// A scope or directory of one runtime, wherever it sits (docker's systemd
// driver, cri, podman, cri-o, LXC, systemd-nspawn).
std::optional<cgroup_claim>
scope_claim(const std::vector<std::string_view>& parts) {
  struct layout {
    std::string_view prefix, suffix, name;
    id_grammar grammar;
  };
  static const layout layouts[] = {
      {"docker-", ".scope", "docker", id_grammar::hex64},
      {"cri-containerd-", ".scope", "k8s.io", id_grammar::hex64},
      {"libpod-conmon-", ".scope", "", id_grammar::hex64},
      {"libpod-", ".scope", "libpod", id_grammar::hex64},
      {"crio-conmon-", ".scope", "", id_grammar::hex64},
      {"crio-", ".scope", "crio", id_grammar::hex64},
      {"lxc.payload.", "", "lxc", id_grammar::machine},
  };
  for (size_t i = 0; i < parts.size(); ++i) {
    for (auto& l : layouts) {
      auto id = between(parts[i], l.prefix, l.suffix);
      if (!id)
        continue;
      if (l.name.empty())
        return cgroup_claim{}; // conmon's own scope: not the container
      return named(std::string{l.name}, *id, l.grammar);
    }
    // podman's cgroupfs driver: /libpod_parent/libpod-<id>, and its
    // conmons in /libpod_parent/conmon, which is no runc cgroupsPath.
    if (i > 0 && parts[i - 1] == "libpod_parent") {
      if (auto id = between(parts[i], "libpod-", ""))
        return named("libpod", *id, id_grammar::hex64);
      if (parts[i] == "conmon")
        return cgroup_claim{};
    }
    // systemd-nspawn: machine.slice/machine-<name>.scope, or its unit
    // systemd-nspawn@<name>.service.
    if (i > 0 && parts[i - 1] == "machine.slice") {
      if (auto name = between(parts[i], "machine-", ".scope"))
        return named("nspawn", *name, id_grammar::machine);
      if (auto name = between(parts[i], "systemd-nspawn@", ".service"))
        return named("nspawn", *name, id_grammar::machine);
    }
  }
  // LXC before 4.0: /lxc/<name>.
  if (parts.size() >= 2 && parts[0] == "lxc")
    return named("lxc", parts[1], id_grammar::machine);
  return std::nullopt;
}

} // namespace

const char* to_string(claim_rejection x) {
  switch (x) {
  case claim_rejection::not_runtime_binary:
    return "not_runtime_binary";
  case claim_rejection::not_root:
    return "not_root";
  case claim_rejection::bad_id:
    return "bad_id";
  case claim_rejection::no_cgroup:
    return "no_cgroup";
  case claim_rejection::delegated_cgroup:
    return "delegated_cgroup";
  case claim_rejection::argv_only_delete:
    return "argv_only_delete";
  }
  return "?";
}

std::vector<std::string> default_runtime_binaries() {
  return {"/usr/bin/runc",
          "/usr/sbin/runc",
          "/usr/bin/containerd-shim*",
          "/usr/bin/docker-init",
          "/usr/bin/tini-static",
          "/usr/sbin/docker-init",
          "/usr/bin/conmon",
          "/usr/libexec/podman/conmon",
          "/usr/bin/crun",
          "/usr/bin/lxc-start",
          "/usr/bin/systemd-nspawn"};
}

bool is_runtime_binary(std::string_view exe,
                       const std::vector<std::string>& binaries) {
  for (std::string_view b : binaries) {
    if (!b.empty() && b.back() == '*') {
      b.remove_suffix(1);
      // The rest of the name only: never a path below a matching prefix.
      if (starts_with(exe, b)
          && exe.find('/', b.size()) == std::string_view::npos)
        return true;
    } else if (exe == b) {
      return true;
    }
  }
  return false;
}

bool names_runtime(std::string_view argv0, std::string_view exe) {
  for (auto name : {base_of(argv0), base_of(exe)})
    if (name == "runc" || name == "crun" || name == "docker-init"
        || name == "conmon" || starts_with(name, "containerd-shim"))
      return true;
  return false;
}

std::optional<claim_rejection>
check_runtime(const runtime_facts_seen& facts,
              const std::vector<std::string>& binaries) {
  if (!is_runtime_binary(facts.exe, binaries) || !facts.binary_root_owned)
    return claim_rejection::not_runtime_binary;
  // A setuid runtime run by a user keeps the user's real uid.
  if (facts.uid != 0 || (facts.euid != 0 && facts.euid != 4294967295u))
    return claim_rejection::not_root;
  return std::nullopt;
}

bool valid_container_id(std::string_view id, id_grammar grammar) {
  switch (grammar) {
  case id_grammar::hex64:
    return is_hex64(id);
  case id_grammar::containerd:
    return is_containerd_id(id);
  case id_grammar::runc:
    return is_runc_id(id);
  case id_grammar::machine:
    return is_machine_name(id);
  }
  return false;
}

id_grammar grammar_for_namespace(std::string_view ns) {
  if (ns == "moby" || ns == "docker" || ns == "k8s.io")
    return id_grammar::hex64;
  return ns.empty() ? id_grammar::runc : id_grammar::containerd;
}

bool valid_runtime_id(std::string_view ns, std::string_view id) {
  if (!ns.empty() && !is_containerd_id(ns))
    return false;
  return valid_container_id(id, grammar_for_namespace(ns));
}

namespace {

// At most 64 bytes of `s`, printable ASCII only.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64))
    out += c >= 0x20 && c < 0x7f ? c : '?';
  if (s.size() > 64)
    out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

} // namespace

std::string claim_note(claim_rejection why, int32_t pid, uint32_t uid,
                       std::string_view exe,
                       const std::vector<std::string>& argv) {
  std::string out = "refused a container claim (";
  out += to_string(why);
  out += "): pid " + std::to_string(pid) + " uid " + std::to_string(uid);
  out += " exe " + printable(exe) + " argv";
  for (size_t i = 0; i < argv.size() && i < 4; ++i)
    out += " " + printable(argv[i]);
  if (argv.size() > 4)
    out += " ...";
  return out;
}

cgroup_claim classify_cgroup(std::string_view path) {
  auto parts = split_path(path);
  cgroup_claim out;
  if (parts.empty())
    return out;
  if (auto scope = scope_claim(parts)) {
    out = std::move(*scope);
  } else if (starts_with(parts.front(), "kubepods")) {
    // cri with the cgroupfs driver: kubepods/<qos>/pod<uid>/<id>.
    if (is_hex64(parts.back()))
      out.container = "k8s.io/" + std::string{parts.back()};
  } else if (parts.size() == 2 && !ends_with(parts[0], ".slice")
             && !ends_with(parts[0], ".scope")
             && !ends_with(parts[0], ".service")) {
    // containerd's /<namespace>/<id>, docker's /docker/<id> (moby is its
    // containerd namespace), runc's cgroupsPath /<parent>/<id>.
    auto parent = parts[0] == "moby" ? std::string_view{"docker"} : parts[0];
    auto grammar = parent == "docker" ? id_grammar::hex64 : id_grammar::runc;
    if (!is_runc_id(parent))
      out.rejected = claim_rejection::bad_id;
    else
      out = named(std::string{parent}, parts[1], grammar);
  }
  if (is_delegated(parts) && (!out.container.empty() || out.rejected)) {
    out.container.clear();
    out.rejected = claim_rejection::delegated_cgroup;
  }
  return out;
}

const char* runtime_of_cgroup_container(std::string_view id) {
  static const std::pair<std::string_view, const char*> runtimes[] = {
      {"docker/", "docker"},
      {"libpod/", "podman"},
      {"crio/", "cri-o"},
      {"lxc/", "lxc"},
      {"nspawn/", "systemd-nspawn"}};
  for (auto& [prefix, runtime] : runtimes)
    if (starts_with(id, prefix))
      return runtime;
  return "containerd";
}

std::vector<std::string> cgroup_dirs_to_check(std::string_view path) {
  std::vector<std::string> out;
  std::string dir;
  for (auto part : split_path(path)) {
    if (!dir.empty())
      dir += '/';
    dir += part;
    out.push_back(dir);
  }
  return out;
}

} // namespace auditree
