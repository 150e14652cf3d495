#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "runtime/proc_scan.hpp"

using namespace auditree;

TEST_CASE("stat with spaces and parentheses in comm", "[proc]") {
  // Real layout of /proc/<pid>/stat; comm "a) (b" is legal.
  std::string text = "4242 (a) (b) S 17 4242 17 0 -1 4194560 113 0 0 0 0 "
                     "0 0 0 20 0 3 0 98765 5574656 331 18446744073709551615";
  proc_process p;
  REQUIRE(parse_proc_stat(text, p));
  CHECK(p.pid == 4242);
  CHECK(p.comm == "a) (b");
  CHECK(p.state == 'S');
  CHECK(p.ppid == 17);
  CHECK(p.num_threads == 3);
  CHECK(p.start_ticks == 98765);
}

TEST_CASE("truncated or garbage stat is refused", "[proc]") {
  proc_process p;
  CHECK_FALSE(parse_proc_stat("", p));
  CHECK_FALSE(parse_proc_stat("12 (x) S 1 2 3", p));
  CHECK_FALSE(parse_proc_stat("garbage", p));
  CHECK_FALSE(parse_proc_stat("12 (x) SZ 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 "
                              "16 17 18 19 20",
                              p));
  CHECK_FALSE(parse_proc_stat("x (y) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 "
                              "17 18 19 20",
                              p));
}

TEST_CASE("status gives real and effective uid", "[proc]") {
  std::string text = "Name:\tsudo\nUmask:\t0022\nState:\tS (sleeping)\n"
                     "Tgid:\t77\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
  proc_process p;
  REQUIRE(parse_proc_status(text, p));
  CHECK(p.uid == 1000);
  CHECK(p.euid == 0);
}

TEST_CASE("cgroup: unified path, or name=systemd under cgroup v1",
          "[proc]") {
  CHECK(parse_proc_cgroup("0::/docker/abc\n") == "/docker/abc");
  CHECK(parse_proc_cgroup("1:name=systemd:/system.slice/x.scope\n0::/\n")
        == "/system.slice/x.scope");
  CHECK(parse_proc_cgroup("") == "");
}

TEST_CASE("boot time from /proc/stat", "[proc]") {
  CHECK(parse_boot_time("cpu 1 2 3\nbtime 1795990000\nprocesses 5\n")
        == 1795990000u);
  CHECK_FALSE(parse_boot_time("cpu 1 2 3\n"));
}

TEST_CASE("the real /proc shows this test and its parent", "[proc]") {
  auto boot = read_boot_time("/proc");
  REQUIRE(boot);
  auto self = read_proc_process("/proc", getpid(), *boot);
  REQUIRE(self);
  CHECK(self->ppid == getppid());
  CHECK(self->exe.find("unit_tests") != std::string::npos);
  CHECK_FALSE(self->argv.empty());
  CHECK(self->start_ms / 1000 >= *boot);
  auto all = scan_proc("/proc");
  CHECK(std::any_of(all.begin(), all.end(),
                    [](auto& p) { return p.pid == getpid(); }));
  CHECK(std::any_of(all.begin(), all.end(),
                    [](auto& p) { return p.pid == 1; }));
  // The cgroup alone reads the same as with everything else.
  auto cgroup = read_proc_cgroup("/proc", getpid());
  REQUIRE(cgroup);
  CHECK(*cgroup == self->cgroup);
  CHECK_FALSE(read_proc_cgroup("/proc", 0));
}

namespace {

/// /proc/<pid>/stat text with the given state and thread count.
std::string stat_line(int pid, char state, int threads) {
  return std::to_string(pid) + " (x) " + state
         + " 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 " + std::to_string(threads)
         + " 0 4242 0 0";
}

} // namespace

TEST_CASE("a zombie is gone, a leader that left its threads running is not",
          "[proc]") {
  auto parse = [](char state, int threads) {
    proc_process p;
    REQUIRE(parse_proc_stat(stat_line(7, state, threads), p));
    CHECK(p.state == state);
    return p;
  };
  CHECK(is_live(parse('R', 1)));
  CHECK(is_live(parse('S', 4)));
  CHECK(is_live(parse('D', 1)));
  CHECK(is_live(parse('T', 1)));
  CHECK_FALSE(is_live(parse('Z', 1)));
  // pthread_exit() in main: the leader is a zombie, the process runs on.
  CHECK(is_live(parse('Z', 2)));
  CHECK_FALSE(is_live(parse('X', 1)));
}

TEST_CASE("a scan leaves zombies out", "[proc]") {
  // A /proc of four processes: running, zombie, zombie leader with a live
  // thread, dead.
  namespace fs = std::filesystem;
  auto root =
      fs::temp_directory_path() / ("auditree-proc-" + std::to_string(getpid()));
  fs::create_directories(root);
  std::ofstream{root / "stat"} << "cpu 1 2 3\nbtime 1795990000\n";
  auto add = [&](int pid, char state, int threads) {
    fs::create_directories(root / std::to_string(pid));
    std::ofstream{root / std::to_string(pid) / "stat"}
        << stat_line(pid, state, threads) << "\n";
  };
  add(1, 'S', 1);
  add(2, 'Z', 1);
  add(3, 'Z', 2);
  add(4, 'X', 1);
  auto all = scan_proc(root.string());
  fs::remove_all(root);
  std::vector<int32_t> pids;
  for (auto& p : all)
    pids.push_back(p.pid);
  std::sort(pids.begin(), pids.end());
  CHECK(pids == std::vector<int32_t>{1, 3});
}

TEST_CASE("a real zombie is in /proc but not in the scan", "[proc]") {
  auto child = fork();
  REQUIRE(child >= 0);
  if (child == 0)
    _exit(0);
  // Not waited for: a zombie until waitpid() below.
  auto boot = read_boot_time("/proc");
  REQUIRE(boot);
  std::optional<proc_process> seen;
  for (int i = 0; i < 500; ++i) {
    seen = read_proc_process("/proc", child, *boot);
    if (!seen || seen->state == 'Z')
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  auto all = scan_proc("/proc");
  waitpid(child, nullptr, 0);
  REQUIRE(seen);
  CHECK(seen->state == 'Z');
  CHECK_FALSE(is_live(*seen));
  CHECK(std::none_of(all.begin(), all.end(),
                     [&](auto& p) { return p.pid == child; }));
}

TEST_CASE("the bootstrap takes the container from the cgroup", "[proc]") {
  std::string hex(64, 'd');
  proc_process host;
  host.pid = 1;
  host.cgroup = "/init.scope";
  proc_process member;
  member.pid = 4000;
  member.ppid = 1;
  member.start_ticks = 5;
  member.cgroup = "/system.slice/docker-" + hex + ".scope";
  auto events = to_process_events({member, host});
  REQUIRE(events.size() == 2);
  CHECK(events[0].pid == 1);
  CHECK(events[0].container.empty());
  CHECK(events[1].pid == 4000);
  CHECK(events[1].container == "docker/" + hex);
  CHECK(events[1].source == fact_source::proc_scan);
}

TEST_CASE("a sweep tells an unreadable pid from a gone one", "[proc]") {
  // Descriptors running out make opening a stat fail with EMFILE: that pid
  // is unknown, never ended. Here its stat is a directory (EISDIR), a
  // failure that is no end either; a pid without stat is gone.
  namespace fs = std::filesystem;
  auto root = fs::temp_directory_path()
              / ("auditree-sweep-" + std::to_string(getpid()));
  fs::create_directories(root);
  std::ofstream{root / "stat"} << "cpu 1 2 3\nbtime 1795990000\n";
  fs::create_directories(root / "1");
  std::ofstream{root / "1" / "stat"} << stat_line(1, 'S', 1) << "\n";
  fs::create_directories(root / "2" / "stat");
  fs::create_directories(root / "3");
  auto sweep = sweep_proc(root.string());
  fs::remove_all(root);
  CHECK(sweep.error == 0);
  REQUIRE(sweep.live.size() == 1);
  CHECK(sweep.live.front().pid == 1);
  CHECK(sweep.unknown == std::vector<int32_t>{2});
  CHECK(sweep.unknown_error == EISDIR);
  // A root that cannot be listed is an error, not an empty host.
  auto missing = sweep_proc("/nonexistent-auditree-proc");
  CHECK(missing.error == ENOENT);
  CHECK(missing.live.empty());
}

TEST_CASE("a sweep under EMFILE counts pids unknown, ends none", "[proc]") {
  // The real /proc with the descriptor limit at what is open now: the
  // directory cannot even be listed, or no stat opens.
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  auto dir = ::opendir("/proc");
  REQUIRE(dir != nullptr);
  // Open descriptors now: this directory's is the highest in use, give or
  // take; the limit lets /proc be opened once more but no stat after it.
  int highest = ::dirfd(dir);
  ::closedir(dir);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(highest + 1);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  auto sweep = sweep_proc("/proc");
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
  CHECK(sweep.live.empty());
  CHECK(!sweep.unknown.empty());
  CHECK(sweep.unknown_error == EMFILE);
}
