#pragma once

// The corpus (tests/data/corpus) for the tests that compare with its truth:
// the captures, their PROC lines, and their audit and proc connector
// streams as the pipeline's pure parts make them.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/audit_parser.hpp"
#include "runtime/cgroup_container.hpp"
#include "runtime/event_assembler.hpp"
#include "runtime/event_interpreter.hpp"
#include "runtime/process_tree.hpp"
#include "tests/gzip_data.hpp"

namespace auditree::test {

namespace fs = std::filesystem;

/// The corpus's four captures (tests/data/corpus/README.md), or another
/// capture folder of the same layout (`AUDITREE_CORPUS`). A missing file
/// fails the test.
inline fs::path corpus_dir() {
  if (auto* env = std::getenv("AUDITREE_CORPUS"))
    return env;
  return fs::path{AUDITREE_TEST_DATA} / "corpus";
}

inline std::vector<fs::path> corpus_logs() {
  auto dir = corpus_dir();
  std::vector<fs::path> logs;
  for (auto name : {"container-lifecycle", "fork-storm", "kill-and-reuse",
                    "long-argv-and-threads"}) {
    for (auto suffix : {".log.gz", ".truth.txt.gz", ".procevents.txt.gz"}) {
      auto path = dir / (std::string{name} + suffix);
      INFO(path << " is missing");
      REQUIRE(fs::exists(path));
    }
    logs.push_back(dir / (std::string{name} + ".log.gz"));
  }
  return logs;
}

/// `dir/NAME.log.gz` -> `NAME`.
inline std::string scenario(const fs::path& log) {
  auto name = log.filename().string();
  return name.substr(0, name.find('.'));
}

/// `dir/NAME.log.gz` -> `dir/NAME` + suffix.
inline fs::path sibling(const fs::path& log, const std::string& suffix) {
  return log.parent_path() / (scenario(log) + suffix);
}

// -- truth
// ----------------------------------------------------------------------

// Truth values escape `,` as `\,` and space, backslash and control bytes as
// `\xNN`.
inline std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == ',') {
      out += ',';
      ++i;
    } else if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      out += static_cast<char>(
          std::stoi(std::string{s.substr(i + 2, 2)}, nullptr, 16));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct truth_proc {
  int32_t pid = 0;
  std::string ppid;
  std::string exit_ppid;
  double start = 0;
  double end = -1; // -1: running
  std::string status;
  std::string exe;
  std::string container;
  std::string audit;
  uint32_t threads = 0;
  bool in_scenario = false;
  /// Not forked during the capture: `start` is its first event.
  bool pre_existing = false;

  bool audit_saw(std::string_view what) const {
    return audit.find(what) != std::string::npos;
  }
};

inline std::vector<truth_proc> read_truth(const fs::path& path) {
  std::vector<truth_proc> out;
  std::istringstream in{test::gunzip_file(path.string())};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PROC ", 0) != 0)
      continue;
    truth_proc p;
    std::istringstream words{line.substr(5)};
    std::string word;
    while (words >> word) {
      auto eq = word.find('=');
      if (eq == std::string::npos)
        continue;
      auto key = word.substr(0, eq);
      auto value = word.substr(eq + 1);
      if (key == "pid")
        p.pid = std::stoi(value);
      else if (key == "ppid")
        p.ppid = value;
      else if (key == "exit_ppid")
        p.exit_ppid = value;
      else if (key == "start")
        p.start = std::stod(value);
      else if (key == "end")
        p.end = value == "-" ? -1 : std::stod(value);
      else if (key == "status")
        p.status = value;
      else if (key == "exe")
        p.exe = value == "-" || value == "?" ? value : unescape(value);
      else if (key == "container")
        p.container = value == "-" ? "" : value;
      else if (key == "audit")
        p.audit = value;
      else if (key == "threads")
        p.threads = static_cast<uint32_t>(std::stoul(value));
      else if (key == "in_scenario")
        p.in_scenario = value == "1";
      else if (key == "pre_existing")
        p.pre_existing = value == "1";
    }
    out.push_back(std::move(p));
  }
  return out;
}

// -- sources
// ----------------------------------------------------------------------

struct audit_stream {
  /// Process events in the order the pipeline closes them.
  std::vector<process_event> events;
  size_t num_lines = 0;
  size_t num_malformed = 0;
  size_t num_interpret_errors = 0;
};

inline audit_stream read_audit(const fs::path& log) {
  audit_stream out;
  event_assembler assembler{event_assembler::options{}};
  // The assembler's timeout does not matter here: EOE closes every event
  // and the stream's end flushes the rest.
  event_assembler::time_point now{};
  std::vector<audit_event> events;
  auto drain = [&] {
    for (auto& ev : events) {
      auto x = interpret(ev);
      if (x.error)
        ++out.num_interpret_errors;
      if (x.event)
        out.events.push_back(std::move(*x.event));
    }
    events.clear();
  };
  std::istringstream in{test::gunzip_file(log.string())};
  std::string line;
  while (std::getline(in, line)) {
    ++out.num_lines;
    auto parsed = parse_line(line);
    if (!parsed) {
      ++out.num_malformed;
      continue;
    }
    assembler.add(parsed.record.to_record(), now, events);
    drain();
  }
  assembler.flush(events);
  drain();
  return out;
}

inline std::string field(const std::string& line, std::string_view key) {
  auto pos = line.find(" " + std::string{key} + "=");
  if (pos == std::string::npos)
    return {};
  pos += key.size() + 2;
  return line.substr(pos, line.find(' ', pos) - pos);
}

/// The capture's connector log as the connector source would deliver it:
/// what runtime/proc_connector.cpp decodes (processes only, not threads),
/// with what its reader found in /proc at an exec (exe, argv, container of
/// the cgroup).
inline std::vector<process_event> read_connector(const fs::path& gz) {
  std::vector<process_event> out;
  std::istringstream in{test::gunzip_file(gz.string())};
  uint32_t seq = 0;
  std::string line;
  auto to_int = [](const std::string& s) {
    return static_cast<int32_t>(std::stol(s, nullptr, 0));
  };
  while (std::getline(in, line)) {
    std::istringstream words{line};
    std::string ktime;
    std::string wall;
    std::string what;
    words >> ktime >> wall >> what;
    if (what != "FORK" && what != "EXEC" && what != "EXIT")
      continue;
    // The decoder stamps with the receipt time cut to the millisecond.
    auto ms = static_cast<uint64_t>(std::stod(wall) * 1000.0);
    process_event ev;
    ev.source = fact_source::proc_connector;
    ev.id = event_id{ms / 1000, static_cast<uint32_t>(ms % 1000), ++seq};
    if (what == "FORK") {
      if (field(line, "child_pid") != field(line, "child_tgid"))
        continue; // a thread
      ev.action = process_action::fork;
      ev.pid = to_int(field(line, "parent_tgid"));
      ev.child = to_int(field(line, "child_tgid"));
    } else if (what == "EXEC") {
      ev.action = process_action::exec;
      ev.pid = to_int(field(line, "tgid"));
      auto exe = field(line, "exe");
      if (exe != "?") {
        // The log cuts exe at a space; the argv hex is whole.
        ev.exe = line.substr(line.find(" exe=") + 5,
                             line.find(" cgroup=") - line.find(" exe=") - 5);
      }
      auto cgroup = line.substr(line.find(" cgroup=") + 8);
      cgroup = cgroup.substr(0, cgroup.find(" argv="));
      if (cgroup != "?")
        ev.container = container_from_cgroup(cgroup);
      auto argv = field(line, "argv");
      if (argv != "?" && !argv.empty())
        if (auto bytes = decode_hex(argv))
          ev.argv = split_proctitle(*bytes);
    } else {
      if (field(line, "pid") != field(line, "tgid"))
        continue; // a thread
      ev.action = process_action::exit;
      ev.pid = to_int(field(line, "tgid"));
      ev.ppid = to_int(field(line, "parent_tgid"));
      auto code = to_int(field(line, "exit_code"));
      ev.exit_code = (code >> 8) & 0xff;
      ev.signal = code & 0x7f;
    }
    out.push_back(std::move(ev));
  }
  REQUIRE(!out.empty());
  return out;
}

/// Interleaves the two sources as the tree actor would receive them: audit
/// in its own order, with its clock (the newest stamp so far) `lag_ms`
/// late; the connector in its order.
inline std::vector<process_event> merge(const std::vector<process_event>& audit,
                                 const std::vector<process_event>& connector,
                                 uint64_t lag_ms) {
  std::vector<process_event> out;
  out.reserve(audit.size() + connector.size());
  size_t a = 0;
  size_t c = 0;
  uint64_t audit_clock = 0;
  while (a < audit.size() || c < connector.size()) {
    uint64_t next_audit =
        a < audit.size() ? std::max(audit_clock, stamp_ms(audit[a].id)) + lag_ms
                         : UINT64_MAX;
    uint64_t next_connector =
        c < connector.size() ? stamp_ms(connector[c].id) : UINT64_MAX;
    if (next_audit <= next_connector) {
      audit_clock = std::max(audit_clock, stamp_ms(audit[a].id));
      out.push_back(audit[a++]);
    } else {
      out.push_back(connector[c++]);
    }
  }
  return out;
}


} // namespace auditree::test
