#include "runtime/metrics.hpp"

#include <cstdio>

#include "runtime/container_evidence.hpp"

namespace auditree {

namespace {

struct writer {
  std::string out;

  void family(const char* name, const char* type, const char* help) {
    out += "# HELP auditree_";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE auditree_";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
  }

  void line(const std::string& name, const std::string& labels,
            const std::string& value) {
    out += "auditree_";
    out += name;
    if (!labels.empty())
      out += '{' + labels + '}';
    out += ' ';
    out += value;
    out += '\n';
  }

  void sample(const std::string& name, uint64_t value,
              const std::string& labels = {}) {
    line(name, labels, std::to_string(value));
  }

  void counter(const char* name, const char* help, uint64_t value) {
    family(name, "counter", help);
    sample(name, value);
  }

  void gauge(const char* name, const char* help, uint64_t value) {
    family(name, "gauge", help);
    sample(name, value);
  }

  /// Latencies in microseconds, reported in seconds.
  void summary(const char* name, const char* help, uint64_t count,
               int64_t p50, int64_t p99, int64_t max) {
    family(name, "summary", help);
    for (auto [quantile, us] : {std::pair{"0.5", p50}, std::pair{"0.99", p99},
                                std::pair{"1", max}}) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.6f", static_cast<double>(us) / 1e6);
      line(name, std::string{"quantile=\""} + quantile + "\"", buf);
    }
    sample(std::string{name} + "_count", count);
  }
};

// The stream's forks that waited for evidence (runtime/start_gate).
void write_stream_starts(writer& w, const tree_counters& t) {
  w.family("stream_starts_total", "counter",
           "Audit forks of the stream: held for evidence of what they made, "
           "confirmed as processes late, dropped as threads, resolved "
           "without evidence at the bound, evicted past start-max-held, "
           "placed after it.");
  w.sample("stream_starts_total", t.num_starts_held, "fate=\"held\"");
  w.sample("stream_starts_total", t.num_starts_confirmed,
           "fate=\"confirmed\"");
  w.sample("stream_starts_total", t.num_starts_threads,
           "fate=\"thread\"");
  w.sample("stream_starts_total", t.num_starts_unresolved,
           "fate=\"unresolved\"");
  w.sample("stream_starts_total", t.num_starts_evicted, "fate=\"evicted\"");
  w.sample("stream_starts_total", t.num_starts_too_late,
           "fate=\"too_late\"");
  w.gauge("stream_starts_waiting", "Audit forks waiting for evidence now.",
          t.num_starts_waiting);
  w.summary("stream_start_hold_seconds",
            "How long a confirmed fork waited for evidence (audit stamps "
            "in replay).",
            t.start_hold_count, t.start_hold_p50_us,
            t.start_hold_p99_us, t.start_hold_max_us);
}

// The /proc sweeps, and those abandoned for want of descriptors.
void write_sweeps(writer& w, const proc_sweep_stats& s) {
  w.family("proc_sweeps_total", "counter",
           "Sweeps of /proc: applied to the tree, or abandoned because a "
           "pid could not be read (descriptors ran out).");
  w.sample("proc_sweeps_total", s.num_sweeps, "outcome=\"applied\"");
  w.sample("proc_sweeps_total", s.num_abandoned, "outcome=\"abandoned\"");
  w.counter("proc_pids_unknown_total",
            "Pids a /proc sweep could not read for a reason other than "
            "their end; never taken as ended.",
            s.num_unknown_pids);
}

// What the query API's bounds refused (actors/query_server).
void write_query_api(writer& w, const query_api_stats& a) {
  w.family("api_connections_refused_total", "counter",
           "Query API connections closed at once: http-max-connections or "
           "socket-max-connections were open.");
  w.sample("api_connections_refused_total", a.num_http_refused,
           "listener=\"http\"");
  w.sample("api_connections_refused_total", a.num_socket_refused,
           "listener=\"socket\"");
  w.family("api_connections_open", "gauge",
           "Query API connections open now.");
  w.sample("api_connections_open", a.num_http_open, "listener=\"http\"");
  w.sample("api_connections_open", a.num_socket_open,
           "listener=\"socket\"");
  w.counter("api_read_timeouts_total",
            "Query API connections dropped: a request did not arrive (or "
            "its answer was not taken) within request-read-timeout.",
            a.num_read_timeouts);
  w.counter("api_accept_backoffs_total",
            "Query API accepts that failed (EMFILE, ENFILE, ...) and paused "
            "the listener.",
            a.num_accept_backoffs);
}

// Container claims refused: by the tree (lineage, sweeps) and by the proc
// connector (cgroups), summed per reason; every reason is shown.
void write_container_claims(writer& w, const agent_metrics& m) {
  w.family("container_claims_rejected_total", "counter",
           "Container claims refused: argv naming a runtime whose exe is "
           "no runtime binary, or not run by root; ids outside the "
           "runtime's grammar; cgroups missing or not root's; a lookalike "
           "runc delete.");
  for (size_t i = 0; i < num_claim_rejections; ++i) {
    std::string reason = to_string(static_cast<claim_rejection>(i));
    uint64_t n = 0;
    for (auto* counts : {&m.tree.claims_rejected,
                         &m.connector.claims_rejected})
      if (auto j = counts->find(reason); j != counts->end())
        n += j->second;
    w.sample("container_claims_rejected_total", n,
             "reason=\"" + reason + "\"");
  }
  w.counter("containers_dropped_total",
            "Containers dropped with no member and no init after "
            "exit-grace.",
            m.tree.num_containers_dropped);
}

} // namespace

std::string render_prometheus(const agent_metrics& m) {
  writer w;
  w.counter("records_total",
            "Audit records received: from the kernel, or as text (auditd "
            "plugin mode).",
            m.audit.num_records + m.file.num_records);
  w.counter("datagrams_malformed_total",
            "Kernel datagrams that were not audit records.",
            m.audit.num_malformed);
  w.family("socket_overruns_total", "counter",
           "ENOBUFS: datagrams the kernel dropped for a full socket.");
  w.sample("socket_overruns_total", m.audit.num_overruns, "socket=\"audit\"");
  w.sample("socket_overruns_total", m.connector.num_overruns,
           "socket=\"proc_connector\"");
  w.counter("kernel_lost_total",
            "Growth of the kernel's audit lost counter since start.",
            m.audit.kernel_lost);
  w.gauge("kernel_backlog", "Kernel audit queue length at the last poll.",
          m.audit.backlog);
  w.counter("kernel_backlog_wait_jiffies_total",
            "Time audited tasks waited for queue space.",
            m.audit.backlog_wait_time_actual);
  w.gauge("rules", "Audit rules the agent installed.", m.audit.num_rules);
  w.counter("events_total", "Audit events assembled.", m.assembly.num_events);
  w.family("events_closed_total", "counter",
           "Assembled events by what closed them.");
  w.sample("events_closed_total", m.assembly.num_closed_by_eoe,
           "reason=\"eoe\"");
  w.sample("events_closed_total", m.assembly.num_closed_standalone,
           "reason=\"standalone\"");
  w.sample("events_closed_total", m.assembly.num_closed_by_timeout,
           "reason=\"timeout\"");
  w.counter("serial_gaps_total",
            "Audit serials never seen: events lost before the agent.",
            m.assembly.num_serial_gaps);
  w.counter("records_late_total",
            "Records that arrived after their event was closed.",
            m.assembly.num_serial_late);
  w.counter("records_host_refused_total",
            "Records of hosts (node=) past max-hosts, refused.",
            m.assembly.num_hosts_refused);
  w.counter("events_malformed_total",
            "Process events whose records were malformed.",
            m.assembly.num_malformed_events);
  w.counter("process_events_total", "Process events interpreted.",
            m.assembly.num_process_events);
  w.counter("connector_messages_total", "Proc connector messages.",
            m.connector.num_messages);
  w.counter("connector_gaps_total",
            "Proc connector messages lost (per-CPU sequence gaps).",
            m.connector.num_gaps);
  w.gauge("processes", "Processes in the tree.", m.tree.num_processes);
  w.gauge("containers", "Containers with running processes.",
          m.tree.num_containers);
  w.counter("processes_vanished_total",
            "Processes ended without a record of their own.",
            m.tree.num_vanished);
  w.counter("events_unplaced_total", "Events the tree could not place.",
            m.tree.num_ignored);
  w.counter("events_duplicate_total",
            "Events sent again after a restart and dropped by the tree.",
            m.tree.num_duplicates);
  write_stream_starts(w, m.tree);
  w.counter("processes_evicted_total",
            "Ended processes removed before their reap to stay within "
            "max-processes.",
            m.tree.budget.num_evicted);
  w.counter("process_args_truncated_total",
            "Execs whose argv was cut to max-args-bytes.",
            m.tree.budget.num_args_truncated);
  w.counter("process_execs_bare_total",
            "Execs kept without argv and cwd: max-processes was full of "
            "running processes.",
            m.tree.budget.num_bare);
  w.gauge("memory_budget_pressed",
          "1 while the memory budget evicted or kept an exec bare within "
          "the last 60 s (/healthz says degraded).",
          m.tree.budget_pressed ? 1 : 0);
  write_container_claims(w, m);
  w.summary("event_latency_seconds",
            "Audit stamp (syscall entry, ms resolution) to tree update.",
            m.latency.count, m.latency.p50, m.latency.p99, m.latency.max);
  w.summary("audit_delivery_seconds",
            "Audit stamp to the event's last record read by the agent.",
            m.audit.delivery_count, m.audit.delivery_p50_us,
            m.audit.delivery_p99_us, m.audit.delivery_max_us);
  w.counter("output_lines_total", "JSON lines written.", m.lines_written);
  w.counter("output_lines_dropped_total",
            "JSON lines dropped: the consumer was too slow, or the output "
            "could not be written or opened.",
            m.lines_dropped);
  write_sweeps(w, m.sweeps);
  write_query_api(w, m.api);
  w.family("restarts_total", "counter", "Actor restarts by the supervisor.");
  for (auto& [actor, n] : m.restarts)
    w.sample("restarts_total", n, "actor=\"" + actor + "\"");
  w.family("mailbox_messages", "gauge",
           "Messages waiting in an actor's mailbox.");
  for (auto& [actor, n] : m.mailboxes)
    w.sample("mailbox_messages", n, "actor=\"" + actor + "\"");
  return w.out;
}

void compute_rates(agent_metrics& now, const agent_metrics& earlier,
                   double seconds) {
  if (seconds <= 0)
    return;
  auto rate = [&](uint64_t x, uint64_t before) {
    return static_cast<double>(x >= before ? x - before : x) / seconds;
  };
  now.rates.records = rate(now.audit.num_records + now.file.num_records,
                           earlier.audit.num_records
                             + earlier.file.num_records);
  now.rates.events = rate(now.assembly.num_events,
                          earlier.assembly.num_events);
  now.rates.lines = rate(now.lines_written, earlier.lines_written);
}

namespace {

// What was skipped and why: one line (or JSON member) per reason.
void append_reasons(std::string& out, bool json, const char* key,
                    const char* label,
                    const std::map<std::string, uint64_t>& reasons) {
  if (json) {
    out += ",\"" + std::string{key} + "\":{";
    bool first = true;
    for (auto& [reason, n] : reasons) {
      out += first ? "\"" : ",\"";
      first = false;
      // Reasons are our own literals: no character needs escaping.
      out += reason + "\":" + std::to_string(n);
    }
    out += "}";
    return;
  }
  for (auto& [reason, n] : reasons)
    out += "  " + std::string{label} + ", " + reason + ": "
           + std::to_string(n) + "\n";
}

} // namespace

std::string render_stats(const agent_metrics& m, bool json) {
  struct row {
    const char* key;
    const char* label;
    uint64_t value;
  };
  const row rows[] = {
    {"lines", "lines", m.file.num_lines},
    {"malformed_lines", "malformed lines", m.file.num_malformed_lines},
    {"records", "records", m.audit.num_records + m.file.num_records},
    {"malformed_datagrams", "malformed datagrams", m.audit.num_malformed},
    {"enobufs", "ENOBUFS overruns", m.audit.num_overruns},
    {"kernel_lost", "kernel lost", m.audit.kernel_lost},
    {"max_kernel_backlog", "max kernel backlog", m.audit.max_backlog},
    {"backlog_wait_jiffies", "backlog wait (jiffies)",
     m.audit.backlog_wait_time_actual},
    {"rules", "rules installed", m.audit.num_rules},
    {"events", "events", m.assembly.num_events},
    {"closed_by_eoe", "closed by EOE", m.assembly.num_closed_by_eoe},
    {"closed_standalone", "closed standalone",
     m.assembly.num_closed_standalone},
    {"closed_by_timeout", "closed by timeout",
     m.assembly.num_closed_by_timeout},
    {"evicted", "evicted", m.assembly.num_evicted},
    {"serial_gaps", "serial gaps", m.assembly.num_serial_gaps},
    {"late_records", "late records", m.assembly.num_serial_late},
    {"serial_resets", "serial resets", m.assembly.num_serial_resets},
    {"hosts_refused", "records of hosts refused",
     m.assembly.num_hosts_refused},
    {"malformed_events", "malformed events", m.assembly.num_malformed_events},
    {"process_events", "process events", m.assembly.num_process_events},
    {"connector_messages", "connector messages", m.connector.num_messages},
    {"connector_gaps", "connector gaps", m.connector.num_gaps},
    {"connector_overruns", "connector overruns", m.connector.num_overruns},
    {"processes", "processes in tree", m.tree.num_processes},
    {"containers", "containers running", m.tree.num_containers},
    {"vanished", "ended without a record", m.tree.num_vanished},
    {"duplicates", "duplicates dropped", m.tree.num_duplicates},
    {"evicted_processes", "processes evicted", m.tree.budget.num_evicted},
    {"args_truncated", "argv truncated", m.tree.budget.num_args_truncated},
    {"bare_execs", "execs kept bare", m.tree.budget.num_bare},
    {"starts_held", "forks held for evidence", m.tree.num_starts_held},
    {"starts_confirmed", "forks confirmed late", m.tree.num_starts_confirmed},
    {"starts_threads", "forks dropped as threads", m.tree.num_starts_threads},
    {"starts_unresolved", "forks unresolved", m.tree.num_starts_unresolved},
    {"starts_evicted", "forks evicted (start-max-held)",
     m.tree.num_starts_evicted},
    {"starts_waiting", "forks waiting", m.tree.num_starts_waiting},
    {"start_hold_p50_us", "fork hold p50 (us)",
     static_cast<uint64_t>(m.tree.start_hold_p50_us)},
    {"start_hold_p99_us", "fork hold p99 (us)",
     static_cast<uint64_t>(m.tree.start_hold_p99_us)},
    {"latency_samples", "latency samples", m.latency.count},
    {"latency_p50_us", "latency p50 (us)", static_cast<uint64_t>(m.latency.p50)},
    {"latency_p99_us", "latency p99 (us)", static_cast<uint64_t>(m.latency.p99)},
    {"latency_max_us", "latency max (us)", static_cast<uint64_t>(m.latency.max)},
    {"delivery_p50_us", "delivery p50 (us)",
     static_cast<uint64_t>(m.audit.delivery_p50_us)},
    {"delivery_p99_us", "delivery p99 (us)",
     static_cast<uint64_t>(m.audit.delivery_p99_us)},
    {"delivery_max_us", "delivery max (us)",
     static_cast<uint64_t>(m.audit.delivery_max_us)},
    {"lines_written", "lines written", m.lines_written},
    {"lines_dropped", "lines dropped", m.lines_dropped},
    {"sweeps_abandoned", "/proc sweeps abandoned",
     m.sweeps.num_abandoned},
    {"sweep_pids_unknown", "/proc pids unknown", m.sweeps.num_unknown_pids},
    {"api_http_refused", "API HTTP conns refused", m.api.num_http_refused},
    {"api_socket_refused", "API socket conns refused",
     m.api.num_socket_refused},
    {"api_read_timeouts", "API read timeouts", m.api.num_read_timeouts},
    {"api_accept_backoffs", "API accept backoffs",
     m.api.num_accept_backoffs},
  };
  std::string out = json ? "{" : "";
  for (auto& r : rows) {
    if (json) {
      out += out.size() > 1 ? ",\"" : "\"";
      out += r.key;
      out += "\":" + std::to_string(r.value);
    } else {
      auto label = std::string{r.label} + ":";
      label.resize(26, ' ');
      out += "  " + label + std::to_string(r.value) + "\n";
    }
  }
  append_reasons(out, json, "skipped_lines", "skipped lines",
                 m.file.skipped_lines);
  append_reasons(out, json, "skipped_events", "skipped events",
                 m.assembly.skipped_events);
  char rates[160];
  std::snprintf(rates, sizeof(rates),
                json ? ",\"rates\":{\"records\":%.1f,\"events\":%.1f,"
                       "\"lines\":%.1f}"
                     : "  rates (per second):       %.1f records, %.1f "
                       "events, %.1f lines\n",
                m.rates.records, m.rates.events, m.rates.lines);
  out += rates;
  if (json) {
    out += ",\"restarts\":{";
    for (size_t i = 0; i < m.restarts.size(); ++i)
      out += (i > 0 ? ",\"" : "\"") + m.restarts[i].first
             + "\":" + std::to_string(m.restarts[i].second);
    out += "}}\n";
  } else {
    for (auto& [actor, n] : m.restarts)
      out += "  restarts of " + actor + ": " + std::to_string(n) + "\n";
  }
  return out;
}

} // namespace auditree
