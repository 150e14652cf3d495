#include "actors/agent.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/file_source_actor.hpp"
#include "actors/netlink_source_actor.hpp"
#include "actors/ownership_checks.hpp"
#include "actors/pipeline.hpp"
#include "actors/proc_connector_actor.hpp"
#include "actors/proc_sweeper_actor.hpp"
#include "actors/query_answer.hpp"
#include "actors/query_server.hpp"
#include "actors/tree_actor.hpp"
#include "messages/type_ids.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/proc_scan.hpp"
#include "runtime/tree_render.hpp"

namespace auditree {

namespace {

constexpr int cap_net_admin = 12;
constexpr int cap_audit_control = 30;
constexpr int cap_audit_read = 37;

uint64_t effective_capabilities() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("CapEff:", 0) == 0)
      return std::stoull(line.substr(7), nullptr, 16);
  return 0;
}

// What `auditree stop` promises: after SIGTERM (SIGINT, SIGHUP, SIGQUIT)
// the rules are gone and the settings back within 5 s, wedged actor or
// not. The actors get the first part of it to hand over their counters
// and halt the sources; the restore comes after, whatever they did.
constexpr auto restore_budget = std::chrono::seconds(3);
// A stop that has restored but cannot drain (a wedged actor) ends the
// process this long after the signal rather than hang on.
constexpr auto stop_limit = std::chrono::seconds(10);
// Rates and periodic trees ask the actors from the loop that waits for
// signals: a wedged actor may delay a signal by this much at most.
constexpr auto loop_budget = std::chrono::seconds(1);


// The supervisor's current handles, or nullopt when it does not answer by
// `deadline`.
std::optional<pipeline> pipeline_by(
    caf::scoped_actor& self, const caf::actor& supervisor,
    std::chrono::steady_clock::time_point deadline) {
  std::optional<pipeline> result;
  self->request(supervisor, wait_until(deadline), handles_atom::value)
    .receive([&](pipeline& x) { result = std::move(x); },
             [](const caf::error&) {});
  return result;
}

// Ends the process `stop_limit` after a stop signal unless it has ended by
// then: the settings are restored by then, and an actor that never
// returns must not keep a stopped agent alive (nor systemd waiting).
void arm_stop_watchdog(std::chrono::steady_clock::time_point signalled) {
  std::thread{[signalled] {
    std::this_thread::sleep_until(signalled + stop_limit);
    log::error("an actor did not stop within ",
               std::chrono::seconds(stop_limit).count(),
               " s of the signal; exiting without draining it (rules were "
               "removed and settings restored)");
    std::fflush(nullptr);
    std::_Exit(1);
  }}.detach();
}


// The first part of a stop, bounded by restore_budget from the signal: the
// counters read just before the sources halt, then the rules removed and
// the settings restored (unless auditd owns them, in plugin mode), with or
// without the actors' answers.
agent_metrics halt_and_restore(caf::scoped_actor& self,
                               const caf::actor& supervisor,
                               audit_session& session, bool from_stdin,
                               const counter_ledger& ledger,
                               std::chrono::steady_clock::time_point signalled) {
  auto restore_by = signalled + restore_budget;
  pipeline h;
  if (auto current = pipeline_by(self, supervisor, restore_by))
    h = *current;
  auto final_metrics = gather(self, h, from_stdin, ledger, restore_by);
  bool halted = false;
  self->request(supervisor, wait_until(restore_by), halt_atom::value)
    .receive([&](caf::ok_atom) { halted = true; }, [](const caf::error&) {});
  if (!halted)
    log::error("the sources did not halt within ",
               std::chrono::seconds(restore_budget).count(),
               " s of the signal: restoring the audit settings without "
               "them");
  if (!from_stdin) {
    session.stop();
    std::chrono::duration<double, std::milli> took
      = std::chrono::steady_clock::now() - signalled;
    log::info("rules removed and audit settings restored ",
              static_cast<int64_t>(took.count()), " ms after the signal");
  }
  return final_metrics;
}

} // namespace

sigset_t agent_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1})
    sigaddset(&signals, sig);
  return signals;
}

std::string missing_capabilities(const agent_config& cfg) {
  auto caps = effective_capabilities();
  std::string missing;
  auto need = [&](int cap, const char* name, const char* why) {
    if ((caps >> cap & 1) == 0)
      missing += std::string{missing.empty() ? "" : ", "} + name + " (" + why
                 + ")";
  };
  if (cfg.mode != "stdin")
    need(cap_audit_control, "CAP_AUDIT_CONTROL", "to install rules");
  if (cfg.mode == "multicast")
    need(cap_audit_read, "CAP_AUDIT_READ", "to join the multicast group");
  if (cfg.proc_connector)
    need(cap_net_admin, "CAP_NET_ADMIN", "to join the proc connector");
  return missing;
}

int run_agent(caf::actor_system& sys, const agent_config& cfg,
              const config_text& rules) {
  caf::scoped_actor self{sys};
  bool from_stdin = cfg.mode == "stdin";
  // The query API first: a bad address stops the agent before it touches
  // the kernel. Until the actors exist, queries get 503.
  caf::actor supervisor;
  std::mutex supervisor_mutex;
  // The counters of every actor over the agent's life, restarts or not.
  auto ledger = std::make_shared<counter_ledger>(cfg.num_assemblers());
  rate_board board;
  // The handler reads the server's own counters: it runs only on the
  // server's threads, which start after `server` is whole.
  query_server server{[&](const query_route& route) {
                        caf::actor target;
                        {
                          std::lock_guard<std::mutex> guard{supervisor_mutex};
                          target = supervisor;
                        }
                        if (!target)
                          return query_reply{503, "text/plain", "starting\n"};
                        return answer(sys, target, from_stdin, *ledger,
                                      board, server.stats(), route);
                      },
                      cfg.api_limits()};
  if (auto err = server.start(cfg.socket, cfg.http, cfg.http_allow_remote);
      !err.empty()) {
    log::error(err);
    return 2;
  }
  log::info("query API on ", cfg.socket,
            cfg.http.empty() ? "" : " and http://" + cfg.http,
            "; `auditree tree` shows the tree");
  // Processes older than the agent: the tree has them before any event.
  process_event_batch bootstrap;
  if (cfg.bootstrap) {
    auto procs = scan_proc("/proc");
    if (auto refused = mark_delegated_cgroups(procs))
      log::warning("bootstrap: ", refused, " processes in container-like "
                   "cgroups that root does not own: no container");
    bootstrap = to_process_events(std::move(procs));
    log::info("bootstrap: ", bootstrap.size(), " processes from /proc");
  }
  auto children = pipeline_children(sys, cfg, false, ledger,
                                    std::move(bootstrap));
  auto* system = &sys;
  if (cfg.reconcile_interval.count() > 0) {
    auto interval = cfg.reconcile_interval;
    children.push_back({"sweeper", true,
                        [=](const pipeline& p, const tree_checkpoint_ptr&) {
                          return system->spawn(
                            proc_sweeper_actor, p.tree, interval,
                            caf::timespan{std::chrono::seconds(1)}, ledger);
                        }});
  }
  netlink_source_options src_opts;
  src_opts.session.unicast = cfg.mode == "unicast";
  src_opts.session.rules_text = rules.text;
  src_opts.session.rules_origin = rules.origin;
  src_opts.session.key = cfg.rule_key;
  src_opts.session.backlog_limit = cfg.backlog_limit;
  src_opts.session.state_file = cfg.state_file;
  src_opts.receive_buffer = static_cast<int>(cfg.receive_buffer);
  src_opts.status_interval = cfg.status_interval;
  src_opts.batch_delay = cfg.batch_delay;
  src_opts.ledger = ledger;
  // As an auditd plugin the records come on stdin and auditd owns the
  // kernel side (stdin cannot be reopened: its source is not restarted);
  // else the agent sets up the kernel's rules and settings for its whole
  // run, and its source listens.
  auto session = std::make_shared<audit_session>();
  if (!from_stdin) {
    if (auto err = session->start(src_opts.session); !err.empty()) {
      log::error(err);
      return 1;
    }
  }
  auto source_faults = faults_for(cfg, "source");
  children.push_back(
    {"source", !from_stdin,
     [=](const pipeline& p, const tree_checkpoint_ptr&) {
       return from_stdin ? system->spawn<caf::detached>(file_source_actor,
                                                        std::string{"-"},
                                                        p.assemblers)
                         : system->spawn(netlink_source_actor, src_opts,
                                         session, p.assemblers, p.sweeper,
                                         source_faults);
     }});
  auto connector_delay = cfg.connector_delay;
  auto connector_kept = std::make_shared<connector_carry>();
  if (cfg.proc_connector)
    children.push_back({"connector", true,
                        [=](const pipeline& p, const tree_checkpoint_ptr&) {
                          return system->spawn(proc_connector_actor, p.tree,
                                               connector_delay,
                                               connector_kept, ledger);
                        }});
  auto sup = sys.spawn(supervisor_actor, std::move(children),
                       cfg.restart_limits());
  self->monitor(sup);
  {
    std::lock_guard<std::mutex> guard{supervisor_mutex};
    supervisor = sup;
  }
  if (from_stdin) {
    if (auto h = current_pipeline(self, sup))
      self->send(h->source, run_atom::value); // Replies at the end of stdin.
  }
  // The timeout: a timespan, or caf::infinite for the drained tree.
  // The tree copies its processes; they are rendered here, off its thread.
  auto dump_tree = [&](const caf::actor& tree, auto timeout) {
    tree_view_ptr view;
    self->request(tree, timeout, view_atom::value, std::string{},
                  std::string{})
      .receive([&](const tree_view_ptr& x) { view = x; },
               [&](const caf::error&) {});
    if (!view)
      return;
    std::fputs(render_view_text(*view, render_pstree).c_str(), stderr);
    if (cfg.tree_json.empty())
      return;
    // Write then rename: a reader never sees half a file.
    auto text = render_view_json(*view);
    auto tmp = cfg.tree_json + ".tmp";
    std::string error;
    auto* out = output_writer::open_file(tmp, true, error);
    bool ok = out != nullptr && std::fputs(text.c_str(), out) >= 0
              && std::fputc('\n', out) != EOF;
    if (out != nullptr)
      ok = std::fclose(out) == 0 && ok;
    if (ok)
      std::rename(tmp.c_str(), cfg.tree_json.c_str());
    else
      log::error("cannot write ", tmp, ": ",
                 error.empty() ? std::strerror(errno) : error);
  };
  // Wait for a signal, the end of stdin, or the supervisor giving up.
  sigset_t signals = agent_signals();
  bool gave_up = false;
  caf::error why;
  auto next_print = std::chrono::steady_clock::now() + cfg.print_interval;
  // Rates: counters sampled every few seconds.
  constexpr auto rate_interval = std::chrono::seconds(5);
  auto last_sample_at = std::chrono::steady_clock::now();
  agent_metrics last_sample;
  auto signalled = std::chrono::steady_clock::now();
  while (!gave_up) {
    timespec tick{0, 100 * 1000 * 1000};
    auto sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig > 0 && sig != SIGUSR1) {
      signalled = std::chrono::steady_clock::now();
      log::info("stopping on SIG", sigabbrev_np(sig));
      arm_stop_watchdog(signalled);
      break;
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_sample_at >= rate_interval) {
      if (auto h = pipeline_by(self, sup, now + loop_budget)) {
        auto sample = gather(self, *h, from_stdin, *ledger,
                             now + loop_budget);
        std::chrono::duration<double> dt = now - last_sample_at;
        compute_rates(sample, last_sample, dt.count());
        std::lock_guard<std::mutex> guard{board.mutex};
        board.rates = sample.rates;
        last_sample = std::move(sample);
      }
      last_sample_at = now;
    }
    if (sig == SIGUSR1
        || (cfg.print_interval.count() > 0 && now >= next_print)) {
      if (auto h = pipeline_by(self, sup, now + loop_budget))
        dump_tree(h->tree, loop_budget);
      next_print = now + cfg.print_interval;
    }
    bool input_ended = false;
    self->receive(
      [&](caf::down_msg& down) {
        gave_up = true;
        why = down.reason;
      },
      [&](const source_stats& x) {
        log::info("stdin ended after ", x.num_records, " records");
        input_ended = true;
      },
      caf::after(std::chrono::seconds(0)) >> [] {});
    if (input_ended)
      break;
  }
  if (gave_up) {
    server.stop();
    // The supervisor stopped every actor.
    session->stop();
    log::error("stopping: ", sys.render(why));
    return 1;
  }
  auto final_metrics = halt_and_restore(self, sup, *session, from_stdin,
                                        *ledger, signalled);
  server.stop();
  pipeline drained;
  auto total = drain_pipeline(self, sup, drained);
  int exit_code = 0;
  if (total) {
    // The drained counts, from the ledger: the assemblers gave theirs as
    // they flushed, the tree and the sink as they answer.
    self->request(drained.tree, caf::infinite, stats_atom::value)
      .receive([](const tree_counters&) {}, [](const caf::error&) {});
    if (cfg.print_tree || !cfg.tree_json.empty())
      dump_tree(drained.tree, caf::infinite);
    if (drained.sink)
      self->request(drained.sink, caf::infinite, stats_atom::value)
        .receive([](uint64_t, uint64_t) {}, [](const caf::error&) {});
    ledger->fill(final_metrics);
  } else {
    log::error("stopping: the supervisor gave up while draining");
    exit_code = 1;
  }
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  self->receive([](caf::down_msg&) {});
  final_metrics.rates = board.rates;
  final_metrics.api = server.stats();
  std::fprintf(stderr, "auditree run summary\n%s",
               render_stats(final_metrics, false).c_str());
  return exit_code;
}

} // namespace auditree
