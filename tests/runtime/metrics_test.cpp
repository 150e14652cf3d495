#include <catch2/catch.hpp>

#include "runtime/metrics.hpp"

using namespace auditree;

TEST_CASE("metrics in the Prometheus text format", "[metrics]") {
  agent_metrics m;
  m.audit.num_records = 70369;
  m.audit.num_overruns = 2;
  m.connector.num_overruns = 1;
  m.assembly.num_closed_by_eoe = 15082;
  m.assembly.num_closed_by_timeout = 3;
  m.tree.num_processes = 812;
  m.restarts = {{"assembler", 2}, {"tree", 1}};
  m.mailboxes = {{"assembler-0", 0}, {"tree", 17}};
  auto text = render_prometheus(m);
  CHECK(text.find("# TYPE auditree_mailbox_messages gauge\n"
                  "auditree_mailbox_messages{actor=\"assembler-0\"} 0\n"
                  "auditree_mailbox_messages{actor=\"tree\"} 17\n")
        != std::string::npos);
  CHECK(text.find("# TYPE auditree_records_total counter\n"
                  "auditree_records_total 70369\n")
        != std::string::npos);
  CHECK(text.find("auditree_socket_overruns_total{socket=\"audit\"} 2\n"
                  "auditree_socket_overruns_total{socket=\"proc_connector\"} "
                  "1\n")
        != std::string::npos);
  CHECK(text.find("auditree_events_closed_total{reason=\"eoe\"} 15082\n")
        != std::string::npos);
  CHECK(text.find("auditree_events_closed_total{reason=\"timeout\"} 3\n")
        != std::string::npos);
  CHECK(text.find("# TYPE auditree_processes gauge\nauditree_processes 812\n")
        != std::string::npos);
  CHECK(text.find("auditree_restarts_total{actor=\"tree\"} 1\n")
        != std::string::npos);
  agent_metrics held;
  held.tree.num_starts_held = 618;
  held.tree.num_starts_confirmed = 14;
  held.tree.num_starts_threads = 502;
  held.tree.num_starts_evicted = 3;
  held.tree.start_hold_count = 14;
  held.tree.start_hold_p99_us = 4000;
  auto starts = render_prometheus(held);
  CHECK(starts.find("auditree_stream_starts_total{fate=\"held\"} 618\n"
                    "auditree_stream_starts_total{fate=\"confirmed\"} 14\n"
                    "auditree_stream_starts_total{fate=\"thread\"} 502\n")
        != std::string::npos);
  CHECK(starts.find("auditree_stream_starts_total{fate=\"evicted\"} 3\n")
        != std::string::npos);
  CHECK(starts.find("auditree_stream_start_hold_seconds{quantile=\"0.99\"} "
                    "0.004000\n")
        != std::string::npos);
  CHECK(starts.find("auditree_stream_start_hold_seconds_count 14\n")
        != std::string::npos);
  agent_metrics budget;
  budget.tree.budget.num_evicted = 41;
  budget.tree.budget.num_args_truncated = 7;
  budget.tree.budget.num_bare = 2;
  budget.tree.budget_pressed = true;
  auto pressed = render_prometheus(budget);
  CHECK(pressed.find("# TYPE auditree_processes_evicted_total counter\n"
                     "auditree_processes_evicted_total 41\n")
        != std::string::npos);
  CHECK(pressed.find("\nauditree_process_args_truncated_total 7\n")
        != std::string::npos);
  CHECK(pressed.find("\nauditree_process_execs_bare_total 2\n")
        != std::string::npos);
  CHECK(pressed.find("\nauditree_memory_budget_pressed 1\n")
        != std::string::npos);
  CHECK(render_stats(budget, false).find("  processes evicted:        41\n")
        != std::string::npos);
  CHECK(render_stats(budget, true).find("\"evicted_processes\":41,")
        != std::string::npos);
  // In auditd plugin mode the records come as text.
  agent_metrics plugin;
  plugin.file.num_records = 944;
  CHECK(render_prometheus(plugin).find("\nauditree_records_total 944\n")
        != std::string::npos);
  // Every sample line belongs to a family declared before it.
  size_t pos = 0;
  while ((pos = text.find("\nauditree_", pos)) != std::string::npos) {
    auto name_end = text.find_first_of("{ ", pos + 1);
    auto name = text.substr(pos + 1, name_end - pos - 1);
    // A summary's _count sample belongs to the summary's family.
    if (name.size() > 6 && name.substr(name.size() - 6) == "_count")
      name.resize(name.size() - 6);
    CHECK(text.find("# TYPE " + name + " ") < pos);
    ++pos;
  }
}

TEST_CASE("rates are growth per second; a reset counts from zero",
          "[metrics]") {
  agent_metrics earlier, now;
  earlier.audit.num_records = 1000;
  now.audit.num_records = 6000;
  earlier.assembly.num_events = 900; // the assemblers restarted since
  now.assembly.num_events = 100;
  now.lines_written = 50;
  compute_rates(now, earlier, 5.0);
  CHECK(now.rates.records == Approx(1000.0));
  CHECK(now.rates.events == Approx(20.0));
  CHECK(now.rates.lines == Approx(10.0));
}

TEST_CASE("stats for people and as JSON", "[metrics]") {
  agent_metrics m;
  m.audit.kernel_lost = 7;
  m.assembly.num_serial_gaps = 3;
  m.restarts = {{"tree", 1}};
  m.rates.records = 1520.25;
  m.rates.events = 380;
  auto text = render_stats(m, false);
  CHECK(text.find("  rates (per second):       1520.2 records, 380.0 events, "
                  "0.0 lines\n")
        != std::string::npos);
  CHECK(text.find("  kernel lost:              7\n") != std::string::npos);
  CHECK(text.find("  serial gaps:              3\n") != std::string::npos);
  CHECK(text.find("  restarts of tree: 1\n") != std::string::npos);
  auto json = render_stats(m, true);
  CHECK(json.rfind("{\"lines\":0,\"malformed_lines\":0,\"records\":0,", 0)
        == 0);
  CHECK(json.find("\"kernel_lost\":7,") != std::string::npos);
  CHECK(json.find(",\"rates\":{\"records\":1520.2,\"events\":380.0,"
                  "\"lines\":0.0},\"restarts\":{\"tree\":1}}\n")
        != std::string::npos);
}

TEST_CASE("what the query API and the /proc sweeps refused", "[metrics]") {
  agent_metrics m;
  m.api.num_http_refused = 1037;
  m.api.num_socket_refused = 2;
  m.api.num_read_timeouts = 64;
  m.api.num_accept_backoffs = 5;
  m.api.num_http_open = 3;
  m.sweeps = {12, 2, 40};
  auto text = render_prometheus(m);
  CHECK(text.find("# TYPE auditree_api_connections_refused_total counter\n"
                  "auditree_api_connections_refused_total{listener=\"http\"} "
                  "1037\n"
                  "auditree_api_connections_refused_total{listener="
                  "\"socket\"} 2\n")
        != std::string::npos);
  CHECK(text.find("auditree_api_connections_open{listener=\"http\"} 3\n")
        != std::string::npos);
  CHECK(text.find("\nauditree_api_read_timeouts_total 64\n")
        != std::string::npos);
  CHECK(text.find("\nauditree_api_accept_backoffs_total 5\n")
        != std::string::npos);
  CHECK(text.find("auditree_proc_sweeps_total{outcome=\"applied\"} 12\n"
                  "auditree_proc_sweeps_total{outcome=\"abandoned\"} 2\n")
        != std::string::npos);
  CHECK(text.find("\nauditree_proc_pids_unknown_total 40\n")
        != std::string::npos);
  auto json = render_stats(m, true);
  CHECK(json.find("\"api_http_refused\":1037") != std::string::npos);
  CHECK(json.find("\"sweeps_abandoned\":2") != std::string::npos);
}
