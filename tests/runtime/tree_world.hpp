#pragma once

// A synthetic audit source for tests of the pure process table: event
// builders that stamp events at T0 + an offset, and the table under test.

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/process_tree.hpp"

namespace auditree::test {

inline constexpr uint64_t t0_ms = 1'795'990'000'000;
inline constexpr uint64_t clone_thread_flags = 0x50f00;
inline constexpr uint64_t fork_flags = 0x1200011;
inline constexpr uint64_t clone_parent_flags = 0x8011;

inline event_id stamp(uint64_t offset_ms, uint32_t serial) {
  auto ms = t0_ms + offset_ms;
  return event_id{ms / 1000, static_cast<uint32_t>(ms % 1000), serial};
}

/// A synthetic audit source and the table under test (`aut`). Records
/// carry `uid` and `cwd`.
struct tree_world {
  explicit tree_world(process_tree::options opts = {})
    : aut(std::move(opts)) {
  }

  process_tree aut;
  process_tree::time_point now{};
  std::vector<reap_request> reaps;
  uint32_t serial = 1000;
  uint32_t uid = 0;
  std::string cwd = "/";

  /// Called with every event after the table applied it (the tree actor's
  /// next steps: the stream).
  std::function<void(process_event&)> after_apply;

  void apply(process_event ev) {
    aut.apply(ev, now, reaps);
    if (after_apply)
      after_apply(ev);
  }

  /// fork/clone by `caller` (whose parent is `ppid`) returning `child`.
  void fork(int32_t caller, int32_t ppid, int32_t child, uint64_t at,
            std::optional<uint64_t> flags = fork_flags,
            const std::string& comm = "bash") {
    process_event ev;
    ev.action = process_action::fork;
    ev.id = stamp(at, ++serial);
    ev.syscall = flags ? "clone" : "clone3";
    ev.pid = caller;
    ev.ppid = ppid;
    ev.child = child;
    ev.clone_flags_known = flags.has_value();
    ev.clone_flags = flags.value_or(0);
    ev.comm = comm;
    ev.exe = "/usr/bin/" + comm;
    ev.uid = ev.euid = ev.auid = uid;
    apply(ev);
  }

  void exec(int32_t pid, int32_t ppid, uint64_t at, std::string exe,
            std::vector<std::string> argv) {
    process_event ev;
    ev.action = process_action::exec;
    ev.id = stamp(at, ++serial);
    ev.syscall = "execve";
    ev.pid = pid;
    ev.ppid = ppid;
    ev.comm = argv.empty() ? "?" : argv[0].substr(argv[0].rfind('/') + 1);
    ev.exe = std::move(exe);
    ev.argv = std::move(argv);
    ev.cwd = cwd;
    ev.uid = ev.euid = ev.auid = uid;
    apply(ev);
  }

  /// The connector's view of a fork: the real parent, the host pid, and
  /// the child's cgroup as /proc showed it.
  void connector_fork(int32_t parent, int32_t child, uint64_t at,
                      std::string container = {}) {
    process_event ev;
    ev.action = process_action::fork;
    ev.source = fact_source::proc_connector;
    ev.id = stamp(at, ++serial);
    ev.pid = parent;
    ev.child = child;
    ev.container = std::move(container);
    apply(ev);
  }

  /// The connector's exec, with what /proc showed (nothing if `exe` is
  /// empty: the process was gone).
  void connector_exec(int32_t pid, uint64_t at, std::string exe = {},
                      std::vector<std::string> argv = {},
                      std::string container = {}) {
    process_event ev;
    ev.action = process_action::exec;
    ev.source = fact_source::proc_connector;
    ev.id = stamp(at, ++serial);
    ev.pid = pid;
    ev.exe = std::move(exe);
    ev.argv = std::move(argv);
    ev.container = std::move(container);
    apply(ev);
  }

  void connector_exit(int32_t pid, int32_t ppid, uint64_t at,
                      int32_t signal = 0) {
    process_event ev;
    ev.action = process_action::exit;
    ev.source = fact_source::proc_connector;
    ev.id = stamp(at, ++serial);
    ev.pid = pid;
    ev.ppid = ppid;
    ev.signal = signal;
    apply(ev);
  }

  void exit(int32_t pid, int32_t ppid, uint64_t at, int32_t code = 0) {
    process_event ev;
    ev.action = process_action::exit;
    ev.id = stamp(at, ++serial);
    ev.syscall = "exit_group";
    ev.pid = pid;
    ev.ppid = ppid;
    ev.exit_code = code;
    apply(ev);
  }

  /// Moves time forward and fires the reaps that fall due, as the tree
  /// actor's delayed self-messages would.
  void advance(std::chrono::milliseconds d) {
    now += d;
    std::vector<reap_request> later;
    for (auto& r : reaps) {
      if (r.due <= now)
        aut.reap(r.key, r.generation);
      else
        later.push_back(r);
    }
    reaps = std::move(later);
  }

  process_info get(int32_t pid) {
    auto p = aut.find(pid);
    REQUIRE(p);
    return *p;
  }

  /// Every lifetime of `pid`, oldest first.
  std::vector<process_info> lifetimes(int32_t pid) {
    std::vector<process_info> out;
    for (auto& p : aut.snapshot())
      if (p.pid == pid)
        out.push_back(p);
    return out;
  }
};


} // namespace auditree::test
