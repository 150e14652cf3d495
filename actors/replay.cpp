#include "actors/replay.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <caf/all.hpp>

#include "actors/file_source_actor.hpp"
#include "actors/pipeline.hpp"
#include "messages/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/terminal_text.hpp"

namespace auditree {

namespace {

// Like the query API's 404: an unknown --host is an error, never an empty
// tree.
bool known_host(caf::scoped_actor& self, const caf::actor& tree,
                const std::string& host) {
  if (host.empty())
    return true;
  bool known = false;
  std::string names;
  self->request(tree, caf::infinite, host_atom::value, host)
    .receive(
      [&](bool x, std::string& y) {
        known = x;
        names = std::move(y);
      },
      [](const caf::error&) {});
  if (known)
    return true;
  log::error("no host ", terminal_safe(host), " in the log; its hosts: ",
             names.empty() ? "none" : terminal_safe(names));
  return false;
}

} // namespace

int replay(caf::actor_system& sys, const agent_config& cfg,
           const std::string& path) {
  caf::scoped_actor self{sys};
  auto started = std::chrono::steady_clock::now();
  // `output=none`: no sink at all, to measure the pipeline without JSON.
  // Counters over every actor's incarnations (faults replace them).
  auto ledger = std::make_shared<counter_ledger>(cfg.num_assemblers());
  auto children = pipeline_children(sys, cfg, true, ledger);
  auto* system = &sys;
  children.push_back({"source", false,
                      [=](const pipeline& p, const tree_checkpoint_ptr&) {
                        return system->spawn<caf::detached>(
                          file_source_actor, path, p.assemblers);
                      }});
  auto supervisor = sys.spawn(supervisor_actor, std::move(children),
                              cfg.restart_limits());
  int exit_code = 0;
  auto fail = [&](const caf::error& err) {
    // A source that cannot open its input has logged why and quit.
    if (err != caf::sec::request_receiver_down)
      log::error("replay failed: ", sys.render(err));
    exit_code = 1;
  };
  auto stages = current_pipeline(self, supervisor);
  source_stats src;
  if (stages)
    self->request(stages->source, caf::infinite, run_atom::value)
      .receive([&](const source_stats& x) { src = x; }, fail);
  std::optional<assembler_stats> total;
  pipeline drained;
  if (exit_code == 0)
    total = drain_pipeline(self, supervisor, drained);
  if (!total) {
    // The input could not be read, or the restart budget is spent: the
    // supervisor said why.
    self->send_exit(supervisor, caf::exit_reason::user_shutdown);
    return 1;
  }
  auto& tree = drained.tree;
  bool show_tree = cfg.print_tree || !cfg.tree_json.empty();
  if (show_tree && !known_host(self, tree, cfg.host)) {
    exit_code = 1;
    show_tree = false;
  }
  if (show_tree && cfg.print_tree)
    self->request(tree, caf::infinite, tree_atom::value, std::string{},
                  cfg.host, false)
      .receive([&](const std::string& x) { std::fputs(x.c_str(), stdout); },
               fail);
  if (show_tree && !cfg.tree_json.empty())
    self->request(tree, caf::infinite, tree_atom::value, std::string{},
                  cfg.host, true)
      .receive(
        [&](const std::string& x) {
          std::string error;
          auto* out = output_writer::open_file(cfg.tree_json, true, error);
          bool ok = out != nullptr && std::fputs(x.c_str(), out) >= 0
                    && std::fputc('\n', out) != EOF;
          if (out != nullptr)
            ok = std::fclose(out) == 0 && ok;
          if (!ok) {
            log::error("cannot write ", cfg.tree_json, ": ",
                       error.empty() ? std::strerror(errno) : error);
            exit_code = 1;
          }
        },
        fail);
  agent_metrics m;
  m.file = src;
  // The assemblers reported as they flushed; the tree and the sink report
  // as they answer.
  self->request(tree, caf::infinite, stats_atom::value)
    .receive([](const tree_counters&) {}, fail);
  if (drained.sink)
    self->request(drained.sink, caf::infinite, stats_atom::value)
      .receive([](uint64_t, uint64_t) {}, fail);
  ledger->fill(m);
  self->request(supervisor, caf::infinite, stats_atom::value)
    .receive(
      [&](const supervision_stats& x) {
        for (size_t i = 0; i < x.children.size(); ++i)
          m.restarts.emplace_back(x.children[i], x.restarts[i]);
      },
      fail);
  self->send_exit(supervisor, caf::exit_reason::user_shutdown);
  std::chrono::duration<double> took = std::chrono::steady_clock::now()
                                       - started;
  compute_rates(m, agent_metrics{}, took.count());
  std::fprintf(stderr, "auditree replay summary (%zu assemblers)\n%s",
               drained.assemblers.size(), render_stats(m, false).c_str());
  return exit_code;
}

} // namespace auditree
