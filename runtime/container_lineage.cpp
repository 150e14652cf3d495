#include "runtime/container_lineage.hpp"

#include <algorithm>
#include <array>

namespace auditree {

namespace {

// runc options that take a value as the next argument, global ones and
// those of the subcommands we read. An option we do not know is taken as a
// flag; getting that wrong can only misplace the id of a command we then
// fail to match, never invent a container from a host process.
constexpr std::array<std::string_view, 22> runc_value_options = {
    "--root",
    "--log",
    "--log-format",
    "--criu",
    "--rootless",
    "--bundle",
    "-b",
    "--pid-file",
    "--console-socket",
    "--preserve-fds",
    "--cwd",
    "--env",
    "-e",
    "--user",
    "-u",
    "--additional-gids",
    "-g",
    "--process",
    "-p",
    "--process-label",
    "--apparmor",
    "--cap",
};

bool takes_value(std::string_view opt) {
  return std::find(runc_value_options.begin(), runc_value_options.end(), opt)
             != runc_value_options.end()
         || opt == "-c" || opt == "--cgroup";
}

// The path element after `marker` in `path`, e.g. the namespace in
// `/run/containerd/io.containerd.runtime.v2.task/<ns>/<id>`.
std::string element_after(std::string_view path, std::string_view marker) {
  auto pos = path.find(marker);
  if (pos == std::string_view::npos)
    return {};
  auto rest = path.substr(pos + marker.size());
  return std::string{rest.substr(0, rest.find('/'))};
}

std::string namespace_from_bundle(std::string_view bundle) {
  for (auto marker : {std::string_view{"io.containerd.runtime.v2.task/"},
                      std::string_view{"io.containerd.runtime.v1.linux/"}}) {
    if (auto ns = element_after(bundle, marker); !ns.empty())
      return ns;
  }
  return {};
}

std::string namespace_from_root(std::string_view root) {
  // containerd: /run/containerd/runc/<ns>; dockerd (with its own runc
  // root): /var/run/docker/runtime-runc/<ns>.
  for (auto marker : {std::string_view{"/containerd/runc/"},
                      std::string_view{"/runtime-runc/"}}) {
    if (auto ns = element_after(root, marker); !ns.empty())
      return ns;
  }
  return {};
}

bool is_sigkill(std::string_view sig) {
  return sig == "9" || sig == "KILL" || sig == "SIGKILL";
}

} // namespace

std::string_view base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::optional<shim_args> parse_shim(const std::vector<std::string>& argv,
                                    std::string_view exe) {
  auto name = argv.empty() ? base_name(exe) : base_name(argv[0]);
  auto prefix = std::string_view{"containerd-shim"};
  if (name.substr(0, prefix.size()) != prefix
      && base_name(exe).substr(0, prefix.size()) != prefix)
    return std::nullopt;
  shim_args result;
  for (size_t i = 1; i < argv.size(); ++i) {
    std::string_view arg = argv[i];
    // Go's flag package accepts -x and --x, with the value next or after =.
    if (arg.size() > 1 && arg[0] == '-') {
      arg.remove_prefix(arg[1] == '-' ? 2 : 1);
      std::string value;
      auto eq = arg.find('=');
      if (eq != std::string_view::npos) {
        value = std::string{arg.substr(eq + 1)};
        arg = arg.substr(0, eq);
      } else if (arg == "namespace" || arg == "id") {
        if (i + 1 < argv.size())
          value = argv[++i];
      }
      if (arg == "namespace")
        result.ns = value;
      else if (arg == "id")
        result.id = value;
    }
  }
  if (result.id.empty())
    return std::nullopt;
  auto last = std::string_view{argv.back()};
  result.serves = last != "start" && last != "delete";
  return result;
}

std::optional<runc_args> parse_runc(const std::vector<std::string>& argv,
                                    std::string_view exe) {
  if (argv.empty())
    return std::nullopt;
  // runc re-executes itself from a memfd, so exe can be "/" while argv[0]
  // still says runc.
  if (base_name(argv[0]) != "runc" && base_name(exe) != "runc")
    return std::nullopt;
  runc_args result;
  std::string bundle;
  std::string root;
  std::string subcommand;
  std::vector<std::string_view> positional;
  bool detach = false;
  for (size_t i = 1; i < argv.size(); ++i) {
    std::string_view arg = argv[i];
    if (arg.size() > 1 && arg[0] == '-') {
      std::string_view opt = arg;
      std::string_view value;
      bool has_value = false;
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        opt = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        has_value = true;
      } else if (takes_value(arg) && i + 1 < argv.size()) {
        value = argv[++i];
        has_value = true;
      }
      if (has_value && (opt == "--bundle" || opt == "-b"))
        bundle = std::string{value};
      else if (has_value && opt == "--root")
        root = std::string{value};
      else if (opt == "-d" || opt == "--detach")
        detach = true;
      continue;
    }
    if (subcommand.empty())
      subcommand = std::string{arg};
    else
      positional.push_back(arg);
  }
  if (subcommand == "init") {
    result.command = runc_command::init;
    return result;
  }
  if (subcommand == "create" || subcommand == "run") {
    result.command = runc_command::create;
    // `run -d` returns once the container started; only a foreground
    // `run` lives as long as the container.
    result.foreground = subcommand == "run" && !detach;
  } else if (subcommand == "exec") {
    result.command = runc_command::exec;
  } else if (subcommand == "delete") {
    result.command = runc_command::stop;
  } else if (subcommand == "kill") {
    // `runc kill <id> [signal]`, SIGTERM by default.
    if (positional.size() >= 2 && is_sigkill(positional[1]))
      result.command = runc_command::stop;
  }
  if (result.command == runc_command::other || positional.empty()) {
    result.command = runc_command::other;
    return result;
  }
  result.id = std::string{positional[0]};
  result.ns = namespace_from_bundle(bundle);
  if (result.ns.empty())
    result.ns = namespace_from_root(root);
  return result;
}

} // namespace auditree
