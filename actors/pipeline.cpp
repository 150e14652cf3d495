#include "actors/pipeline.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <fstream>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/assembler_actor.hpp"
#include "actors/json_sink_actor.hpp"
#include "actors/ownership_checks.hpp"
#include "actors/tree_actor.hpp"
#include "messages/type_ids.hpp"

namespace auditree {

namespace {

// The machine's name, as host.name shows it; empty if it has none.
std::string local_hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0)
    return {};
  return name;
}

// The first line of a small id file (boot id, machine id); empty if it
// cannot be read.
std::string read_id_file(const char* path) {
  std::ifstream in{path};
  std::string line;
  std::getline(in, line);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
    line.pop_back();
  return line;
}

} // namespace

fault_injector faults_for(const agent_config& cfg, const std::string& name) {
  std::vector<fault_spec> mine;
  for (auto& spec : cfg.fault_specs())
    if (spec.actor == name)
      mine.push_back(spec);
  return mine.empty() ? fault_injector{} : fault_injector{std::move(mine)};
}

std::vector<child_spec>
pipeline_children(caf::actor_system& sys, const agent_config& cfg,
                  bool stream_time,
                  const std::shared_ptr<counter_ledger>& ledger,
                  process_event_batch bootstrap) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  std::vector<child_spec> result;
  auto* system = &sys;
  if (cfg.output != "none") {
    auto opts = cfg.output_options();
    auto faults = faults_for(cfg, "sink");
    auto progress = std::make_shared<sink_progress>();
    result.push_back({"sink", true, [=](const pipeline&,
                                        const tree_checkpoint_ptr&) {
                        return system->spawn(json_sink_actor, opts, faults,
                                             progress, ledger);
                      }});
  }
  auto n = cfg.num_assemblers();
  tree_actor_options tree_opts;
  tree_opts.tree.exit_grace = duration_cast<milliseconds>(cfg.exit_grace);
  tree_opts.tree.keep_exited = cfg.keep_exited;
  tree_opts.tree.budget = {cfg.max_processes, cfg.max_args_bytes};
  tree_opts.tree.runtime_binaries = cfg.runtime_binaries;
  // Live, a runtime binary must be root's now; replay trusts the log's
  // exe= and uid= (see process_tree::options::binary_root_owned).
  if (!stream_time) {
    auto owners = std::make_shared<binary_owner_cache>();
    tree_opts.tree.binary_root_owned = [owners](const std::string& exe) {
      return owners->root_owned(exe);
    };
  }
  // Only the live connector reports every death. Its word comes in batches
  // up to connector-delay late, and a child's death may be read just after
  // its parent's: orphans wait twice that plus 100 ms, within exit-grace.
  tree_opts.tree.deaths_reported = !stream_time && cfg.proc_connector;
  tree_opts.tree.orphan_wait = std::min(
    tree_opts.tree.exit_grace,
    duration_cast<milliseconds>(2 * cfg.connector_delay) + milliseconds{100});
  tree_opts.ancestors_depth = cfg.ancestors_depth;
  tree_opts.gate.hold = duration_cast<milliseconds>(cfg.start_hold);
  tree_opts.gate.max_held = cfg.start_max_held;
  tree_opts.num_inputs = n;
  tree_opts.has_sink = cfg.output != "none";
  tree_opts.stream_time = stream_time;
  tree_opts.checkpoint_interval = cfg.checkpoint_interval;
  tree_opts.faults = faults_for(cfg, "tree");
  tree_opts.bootstrap = std::move(bootstrap);
  tree_opts.ledger = ledger;
  // Live, every record is this machine's; a replayed log's records without
  // node= come from an unnamed host.
  if (!stream_time) {
    tree_opts.local_host = local_hostname();
    tree_opts.local_boot_id = read_id_file("/proc/sys/kernel/random/boot_id");
    tree_opts.local_machine_id = read_id_file("/etc/machine-id");
  }
  result.push_back(
    {"tree", true,
     [=](const pipeline& p, const tree_checkpoint_ptr& checkpoint) {
       return system->spawn(tree_actor, tree_opts, p.sink, p.supervisor,
                            checkpoint);
     }});
  event_assembler::options asm_opts;
  asm_opts.timeout = duration_cast<milliseconds>(cfg.event_timeout);
  asm_opts.stride = static_cast<uint32_t>(n);
  asm_opts.max_hosts = cfg.max_hosts;
  for (size_t i = 0; i < n; ++i) {
    auto name = assembler_name(i);
    auto faults = faults_for(cfg, name);
    result.push_back({name, true, [=](const pipeline& p,
                                      const tree_checkpoint_ptr&) {
                        return system->spawn(assembler_actor, p.tree,
                                             asm_opts,
                                             static_cast<uint32_t>(i),
                                             faults, ledger);
                      }});
  }
  return result;
}

} // namespace auditree
