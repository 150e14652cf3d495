// Memory of the process table: fills it with 100,000 live processes shaped
// like the corpus's container-lifecycle capture (exe about 14-33 bytes,
// argv 4-5 arguments of about 60 bytes in all, cwd about 35 bytes; each
// process forked, then exec'd) and prints the resident set growth per
// process, read from /proc/self/statm. Not a test: run it by hand.
//
//   bench_tree_memory [COUNT]

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/process_tree.hpp"

using namespace auditree;

namespace {

long resident_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  long size = 0;
  long resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

constexpr std::array<const char*, 8> exes = {
    "/usr/bin/date",   "/usr/bin/cat",
    "/usr/sbin/runc",  "/usr/bin/containerd-shim-runc-v2",
    "/usr/bin/mawk",   "/bin/busybox",
    "/usr/bin/docker", "/root/.pyenv/versions/3.11.7/bin/python3.11",
};

constexpr std::array<const char*, 4> cwds = {
    "/work/steering/shared/tools",
    "/run/containerd/io.containerd.runtime.v2.task/default/c-life-1",
    "/var/lib/feas-containers/bundles/r-life-1",
    "/",
};

event_id stamp(uint64_t ms, uint32_t serial) {
  return event_id{ms / 1000, static_cast<uint32_t>(ms % 1000), serial};
}

} // namespace

int main(int argc, char** argv) {
  int32_t count = argc > 1 ? std::atoi(argv[1]) : 100000;
  process_tree::options opts;
  opts.keep_exited = true;
  std::vector<reap_request> reaps;
  process_tree::time_point now{};
  auto before = resident_bytes();
  process_tree tree{opts};
  uint64_t ms = 1'795'990'000'000;
  uint32_t serial = 0;
  constexpr int32_t first_pid = 1000;
  for (int32_t i = 0; i < count; ++i) {
    int32_t pid = first_pid + i;
    // A 4-ary tree under pid 1: parents are earlier processes.
    int32_t parent = i == 0 ? 1 : first_pid + (i - 1) / 4;
    process_event fork;
    fork.action = process_action::fork;
    fork.id = stamp(ms++, ++serial);
    fork.syscall = "clone";
    fork.pid = parent;
    fork.ppid =
        parent == 1 ? 0 : first_pid + std::max(0, (parent - first_pid - 1) / 4);
    fork.child = pid;
    fork.clone_flags = 0x1200011;
    fork.clone_flags_known = true;
    fork.comm = "bash";
    fork.exe = "/usr/bin/bash";
    fork.uid = fork.euid = fork.auid = 0;
    tree.apply(fork, now, reaps);
    process_event exec;
    exec.action = process_action::exec;
    exec.id = stamp(ms++, ++serial);
    exec.syscall = "execve";
    exec.pid = pid;
    exec.ppid = parent;
    exec.exe = exes[static_cast<size_t>(i) % exes.size()];
    exec.comm = "worker";
    exec.argv = {exec.exe, "--config", "/var/lib/feas-containers/a.toml", "-n",
                 std::to_string(i)};
    exec.cwd = cwds[static_cast<size_t>(i) % cwds.size()];
    exec.uid = exec.euid = exec.auid = 0;
    tree.apply(exec, now, reaps);
  }
  auto after = resident_bytes();
  auto grown = after - before;
  std::printf("processes: %zu\n", tree.size());
  std::printf("resident growth: %ld bytes\n", grown);
  std::printf("bytes per process: %.0f\n",
              static_cast<double>(grown) / static_cast<double>(tree.size()));
  return 0;
}
