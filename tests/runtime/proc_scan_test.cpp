#include <catch2/catch.hpp>

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
  CHECK(p.ppid == 17);
  CHECK(p.num_threads == 3);
  CHECK(p.start_ticks == 98765);
}

TEST_CASE("truncated or garbage stat is refused", "[proc]") {
  proc_process p;
  CHECK_FALSE(parse_proc_stat("", p));
  CHECK_FALSE(parse_proc_stat("12 (x) S 1 2 3", p));
  CHECK_FALSE(parse_proc_stat("garbage", p));
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
}
