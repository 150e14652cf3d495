#include "actors/replay.hpp"

#include <fstream>

#include <caf/all.hpp>

#include "actors/file_source_actor.hpp"
#include "actors/pipeline.hpp"
#include "messages/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"

namespace auditree {

int replay(caf::actor_system& sys, const agent_config& cfg,
           const std::string& path) {
  caf::scoped_actor self{sys};
  // `output=none`: no sink at all, to measure the pipeline without JSON.
  auto stages = spawn_pipeline(sys, cfg, true);
  auto& sink = stages.sink;
  auto& tree = stages.tree;
  auto& assemblers = stages.assemblers;
  auto n = assemblers.size();
  auto source = sys.spawn<caf::detached>(file_source_actor, path, assemblers);
  int exit_code = 0;
  auto fail = [&](const caf::error& err) {
    // A source that cannot open its input has logged why and quit.
    if (err != caf::sec::request_receiver_down)
      log::error("replay failed: ", sys.render(err));
    exit_code = 1;
  };
  auto stop_all = [&] {
    for (auto& a : assemblers)
      self->send_exit(a, caf::exit_reason::user_shutdown);
    self->send_exit(source, caf::exit_reason::user_shutdown);
    self->send_exit(tree, caf::exit_reason::user_shutdown);
    if (sink)
      self->send_exit(sink, caf::exit_reason::user_shutdown);
  };
  source_stats src;
  self->request(source, caf::infinite, run_atom::value)
    .receive([&](const source_stats& x) { src = x; }, fail);
  if (exit_code != 0) {
    stop_all(); // The source could not open its input: nothing to report.
    return exit_code;
  }
  assembler_stats total;
  for (auto& a : assemblers)
    self->request(a, caf::infinite, flush_atom::value)
      .receive([&](const assembler_stats& x) { total += x; }, fail);
  if (cfg.print_tree)
    self->request(tree, caf::infinite, tree_atom::value, std::string{},
                  false)
      .receive([&](const std::string& x) { std::fputs(x.c_str(), stdout); },
               fail);
  if (!cfg.tree_json.empty())
    self->request(tree, caf::infinite, tree_atom::value, std::string{}, true)
      .receive(
        [&](const std::string& x) {
          std::ofstream out{cfg.tree_json, std::ios::trunc};
          out << x << '\n';
          if (!out) {
            log::error("cannot write ", cfg.tree_json);
            exit_code = 1;
          }
        },
        fail);
  agent_metrics m;
  m.file = src;
  m.assembly = total;
  self->request(tree, caf::infinite, stats_atom::value)
    .receive([&](const tree_counters& x) { m.tree = x; }, fail);
  if (sink) {
    self->request(sink, caf::infinite, flush_atom::value)
      .receive([&](uint64_t) {}, fail);
    self->request(sink, caf::infinite, stats_atom::value)
      .receive(
        [&](uint64_t written, uint64_t dropped) {
          m.lines_written = written;
          m.lines_dropped = dropped;
        },
        fail);
  }
  stop_all();
  std::fprintf(stderr, "auditree replay summary (%zu assemblers)\n%s", n,
               render_stats(m, false).c_str());
  return exit_code;
}

} // namespace auditree
