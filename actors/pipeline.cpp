#include "actors/pipeline.hpp"

#include <caf/all.hpp>

#include "actors/assembler_actor.hpp"
#include "actors/json_sink_actor.hpp"
#include "actors/tree_actor.hpp"
#include "messages/type_ids.hpp"

namespace auditree {

pipeline spawn_pipeline(caf::actor_system& sys, const agent_config& cfg,
                        bool stream_time) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  pipeline result;
  if (cfg.output != "none")
    result.sink = sys.spawn(json_sink_actor, cfg.output_options());
  auto n = cfg.num_assemblers();
  tree_actor_options tree_opts;
  tree_opts.tree.exit_grace = duration_cast<milliseconds>(cfg.exit_grace);
  tree_opts.tree.keep_exited = cfg.keep_exited;
  tree_opts.num_inputs = n;
  tree_opts.stream_time = stream_time;
  result.tree = sys.spawn(tree_actor, tree_opts, result.sink);
  event_assembler::options asm_opts;
  asm_opts.timeout = duration_cast<milliseconds>(cfg.event_timeout);
  asm_opts.stride = static_cast<uint32_t>(n);
  for (size_t i = 0; i < n; ++i)
    result.assemblers.push_back(sys.spawn(assembler_actor, result.tree,
                                          asm_opts, static_cast<uint32_t>(i)));
  return result;
}

} // namespace auditree
