#include "actors/replay.hpp"

#include <fstream>

#include <caf/all.hpp>

#include "actors/assembler_actor.hpp"
#include "actors/file_source_actor.hpp"
#include "actors/json_sink_actor.hpp"
#include "actors/tree_actor.hpp"
#include "messages/type_ids.hpp"
#include "runtime/log.hpp"

namespace auditree {

namespace {

void print_summary(const source_stats& src, const assembler_stats& asm_,
                   uint64_t written, size_t num_assemblers) {
  std::fprintf(stderr,
               "auditree replay summary\n"
               "  lines:              %llu\n"
               "  records:            %llu\n"
               "  malformed lines:    %llu\n"
               "  events:             %llu\n"
               "  closed by EOE:      %llu\n"
               "  closed standalone:  %llu\n"
               "  closed by timeout:  %llu\n"
               "  evicted:            %llu\n"
               "  serial gaps:        %llu\n"
               "  late records:       %llu\n"
               "  serial resets:      %llu\n"
               "  malformed events:   %llu\n"
               "  process events:     %llu\n"
               "  lines written:      %llu\n"
               "  assemblers:         %zu\n",
               (unsigned long long) src.num_lines,
               (unsigned long long) src.num_records,
               (unsigned long long) src.num_malformed_lines,
               (unsigned long long) asm_.num_events,
               (unsigned long long) asm_.num_closed_by_eoe,
               (unsigned long long) asm_.num_closed_standalone,
               (unsigned long long) asm_.num_closed_by_timeout,
               (unsigned long long) asm_.num_evicted,
               (unsigned long long) asm_.num_serial_gaps,
               (unsigned long long) asm_.num_serial_late,
               (unsigned long long) asm_.num_serial_resets,
               (unsigned long long) asm_.num_malformed_events,
               (unsigned long long) asm_.num_process_events,
               (unsigned long long) written, num_assemblers);
}

} // namespace

int replay(caf::actor_system& sys, const agent_config& cfg,
           const std::string& path) {
  caf::scoped_actor self{sys};
  // `none`: no sink at all, to measure the pipeline without JSON.
  caf::actor sink;
  if (cfg.output != "none")
    sink = sys.spawn(json_sink_actor, cfg.output_options());
  tree_actor_options tree_opts;
  tree_opts.tree.exit_grace
    = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.exit_grace);
  tree_opts.tree.keep_exited = cfg.keep_exited;
  tree_opts.num_inputs = cfg.num_assemblers();
  tree_opts.stream_time = true;
  auto tree = sys.spawn(tree_actor, tree_opts, sink);
  auto n = cfg.num_assemblers();
  event_assembler::options opts;
  opts.timeout
    = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.event_timeout);
  opts.stride = static_cast<uint32_t>(n);
  std::vector<caf::actor> assemblers;
  for (size_t i = 0; i < n; ++i)
    assemblers.push_back(
      sys.spawn(assembler_actor, tree, opts, static_cast<uint32_t>(i)));
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
  uint64_t num_processes = 0;
  self->request(tree, caf::infinite, flush_atom::value)
    .receive([&](uint64_t x) { num_processes = x; }, fail);
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
  uint64_t written = 0;
  uint64_t dropped = 0;
  if (sink) {
    self->request(sink, caf::infinite, flush_atom::value)
      .receive([&](uint64_t x) { written = x; }, fail);
    self->request(sink, caf::infinite, stats_atom::value)
      .receive([&](uint64_t, uint64_t x) { dropped = x; }, fail);
  }
  stop_all();
  print_summary(src, total, written, n);
  std::fprintf(stderr,
               "  lines dropped:      %llu\n"
               "  processes in tree:  %llu\n",
               (unsigned long long) dropped,
               (unsigned long long) num_processes);
  return exit_code;
}

} // namespace auditree
