#include "runtime/podman_names.hpp"

#include "runtime/container_evidence.hpp"
#include "runtime/container_lineage.hpp"
#include "runtime/docker_names.hpp"

namespace auditree {

namespace {

// The value of option `short_opt`/`long_opt` at argv[i] (`-c ID`, `--cid
// ID`, `--cid=ID`), advancing i past a separate value.
std::optional<std::string> option_value(const std::vector<std::string>& argv,
                                        size_t& i, std::string_view short_opt,
                                        std::string_view long_opt) {
  std::string_view arg = argv[i];
  if ((arg == short_opt || arg == long_opt) && i + 1 < argv.size())
    return argv[++i];
  if (arg.size() > long_opt.size() && arg.substr(0, long_opt.size()) == long_opt
      && arg[long_opt.size()] == '=')
    return std::string{arg.substr(long_opt.size() + 1)};
  return std::nullopt;
}

} // namespace

std::optional<conmon_container> conmon_of(const proc_process& p) {
  if (p.uid != 0 || p.euid != 0 || base_name(p.exe) != "conmon")
    return std::nullopt;
  conmon_container out;
  for (size_t i = 1; i < p.argv.size(); ++i) {
    if (auto id = option_value(p.argv, i, "-c", "--cid"))
      out.id = *id;
    else if (auto name = option_value(p.argv, i, "-n", "--name"))
      out.name = *name;
  }
  if (!valid_container_id(out.id, id_grammar::hex64))
    return std::nullopt;
  if (!is_docker_style_name(out.name))
    out.name.clear();
  return out;
}

std::optional<std::string> podman_name(const std::vector<proc_process>& procs,
                                       std::string_view hex_id) {
  for (auto& p : procs)
    if (auto c = conmon_of(p); c && c->id == hex_id && !c->name.empty())
      return c->name;
  return std::nullopt;
}

} // namespace auditree
