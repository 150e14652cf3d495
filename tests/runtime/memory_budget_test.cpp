// The memory budget: argv cut to max-args-bytes at an argument or UTF-8
// boundary, and at max-processes the ended lifetimes evicted oldest first
// while running ones (and their ancestors) stay.
//
//   init(1)───bash(100)─┬─worker(200..)   long-lived, never end
//                       └─job(1000..)     fork, exec (100 KB argv), exit

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "runtime/memory_budget.hpp"
#include "runtime/process_tree.hpp"
#include "tests/runtime/tree_world.hpp"

using namespace auditree;
using namespace std::chrono_literals;

namespace {

process_tree::options small_budget(size_t max_processes,
                                   size_t max_args_bytes = 64) {
  process_tree::options opts;
  opts.budget.max_processes = max_processes;
  opts.budget.max_args_bytes = max_args_bytes;
  return opts;
}

} // namespace

TEST_CASE("argv within the cap is left alone", "[budget]") {
  std::vector<std::string> argv{"ls", "-l", "/tmp"};
  CHECK(joined_size(argv) == 10);
  CHECK_FALSE(cap_argv(argv, 10));
  CHECK(argv == std::vector<std::string>{"ls", "-l", "/tmp"});
}

TEST_CASE("argv past the cap keeps whole arguments, then a cut one",
          "[budget]") {
  std::vector<std::string> argv{"echo", "abcdef", "ghijkl"};
  REQUIRE(cap_argv(argv, 8)); // "echo\0abc"
  CHECK(argv == std::vector<std::string>{"echo", "abc"});
  CHECK(joined_size(argv) <= 8);

  std::vector<std::string> exact{"echo", "abcdef", "ghijkl"};
  REQUIRE(cap_argv(exact, 11)); // "echo\0abcdef" and no room for more
  CHECK(exact == std::vector<std::string>{"echo", "abcdef"});

  std::vector<std::string> first{std::string(100, 'x')};
  REQUIRE(cap_argv(first, 10));
  CHECK(first == std::vector<std::string>{std::string(10, 'x')});
}

TEST_CASE("a cut never splits a UTF-8 character", "[budget]") {
  // "é" is 2 bytes, "€" 3: a cut at 5 would fall inside the second €.
  std::vector<std::string> argv{"a\xc3\xa9\xe2\x82\xac\xe2\x82\xac"};
  REQUIRE(cap_argv(argv, 7));
  CHECK(argv[0] == "a\xc3\xa9\xe2\x82\xac");
  std::vector<std::string> inside{"\xe2\x82\xac\xe2\x82\xac"};
  REQUIRE(cap_argv(inside, 4));
  CHECK(inside[0] == "\xe2\x82\xac");
  // Not UTF-8 (continuation bytes only): cut at the byte.
  std::vector<std::string> junk{"\x80\x80\x80\x80\x80\x80"};
  REQUIRE(cap_argv(junk, 3));
  CHECK(junk[0].size() == 3);
}

TEST_CASE("join_capped stores what cap_argv keeps", "[budget]") {
  std::vector<std::string> argv{"echo", "abcdef", "ghijkl"};
  uint32_t argc = 0;
  CHECK(join_capped(argv, 8, argc) == std::string("echo\0abc", 8));
  CHECK(argc == 2);
  CHECK(join_capped(argv, 100, argc) == std::string("echo\0abcdef\0ghijkl", 18));
  CHECK(argc == 3);
}

TEST_CASE("an exec event past the cap is cut and says what it had",
          "[budget]") {
  process_event ev;
  ev.action = process_action::exec;
  ev.argv = {"prog", std::string(100 * 1024, 'a'), "tail"};
  REQUIRE(cap_event_args(ev, 4096));
  CHECK(joined_size(ev.argv) <= 4096);
  CHECK(ev.argv.size() == 2);
  CHECK(ev.args_original_bytes == 5 + 100 * 1024 + 5);
  CHECK(ev.args_original_count == 3);

  process_event fork;
  fork.action = process_action::fork;
  fork.argv = {std::string(10000, 'a')};
  CHECK_FALSE(cap_event_args(fork, 4096));
  CHECK(fork.args_original_bytes == 0);
}

TEST_CASE("the table stores at most max-args-bytes of argv and counts cuts",
          "[budget]") {
  test::tree_world w{small_budget(1000, 64)};
  process_event ev;
  ev.action = process_action::exec;
  ev.id = test::stamp(1, 1);
  ev.pid = 100;
  ev.ppid = 1;
  ev.exe = "/usr/bin/prog";
  ev.argv = {"prog", std::string(100 * 1024, 'b')};
  CHECK(w.aut.cap_args(ev));
  w.apply(ev);
  auto p = w.aut.find(100);
  REQUIRE(p);
  CHECK(joined_size(p->argv) == 64);
  CHECK(w.aut.stats().budget.num_args_truncated == 1);

  // An event that skipped cap_args (a /proc read) is cut all the same.
  w.exec(101, 100, 2, "/usr/bin/prog", {"prog", std::string(5000, 'c')});
  REQUIRE(w.aut.find(101));
  CHECK(joined_size(w.aut.find(101)->argv) == 64);
}

TEST_CASE("at max-processes ended processes go oldest first, running ones "
          "and their ancestors stay",
          "[budget]") {
  constexpr size_t max = 50;
  process_tree::options opts = small_budget(max);
  opts.keep_exited = true; // nothing is reaped: only the budget removes
  test::tree_world w{opts};
  // Ten long-lived workers under bash(100), itself under init.
  for (int32_t i = 0; i < 10; ++i) {
    w.fork(100, 1, 200 + i, 1);
    w.exec(200 + i, 100, 2, "/usr/bin/worker", {"worker"});
  }
  uint64_t at = 10;
  size_t most = 0;
  for (int32_t pid = 1000; pid < 1300; ++pid, at += 3) {
    w.fork(100, 1, pid, at);
    w.exec(pid, 100, at + 1, "/usr/bin/job",
           {"job", std::string(100 * 1024, 'j')});
    w.exit(pid, 100, at + 2);
    most = std::max(most, w.aut.size());
  }
  CHECK(most <= max);
  CHECK(w.aut.size() <= max);
  auto& stats = w.aut.stats().budget;
  CHECK(stats.num_evicted >= 300 - max);
  CHECK(stats.num_bare == 0);
  // Every worker and its ancestors are there, running.
  for (int32_t i = 0; i < 10; ++i) {
    auto chain = w.aut.ancestry(200 + i);
    REQUIRE(chain.size() == 3);
    CHECK(chain[0].state == process_state::running);
    CHECK(chain[1].pid == 100);
    CHECK(chain[2].pid == 1);
  }
  // The newest jobs stay, the oldest went.
  CHECK(w.aut.find(1299));
  CHECK_FALSE(w.aut.find(1000));
  // An evicted job's late fork does not bring it back.
  w.fork(100, 1, 1000, 12);
  CHECK_FALSE(w.aut.find(1000));
}

TEST_CASE("a table full of running processes admits new ones bare",
          "[budget]") {
  constexpr size_t max = 20;
  test::tree_world w{small_budget(max)};
  for (int32_t pid = 200; pid < 240; ++pid) {
    w.fork(100, 1, pid, 1);
    w.exec(pid, 100, 2, "/usr/bin/worker", {"worker", "--id"});
  }
  // None may go: the tree stays exact, past the cap.
  CHECK(w.aut.size() == 42);
  CHECK(w.aut.stats().budget.num_evicted == 0);
  auto& stats = w.aut.stats().budget;
  CHECK(stats.num_bare > 0);
  auto late = w.aut.find(239);
  REQUIRE(late);
  CHECK(late->exe == "/usr/bin/worker");
  CHECK(late->argv.empty());
  CHECK(late->ppid == 100);
  auto early = w.aut.find(200);
  REQUIRE(early);
  CHECK(early->argv == std::vector<std::string>{"worker", "--id"});
}

TEST_CASE("ended processes reaped in time leave no trace in the queue",
          "[budget]") {
  // At most 100 end between two reaps (plus bash and init).
  test::tree_world w{small_budget(200)};
  uint64_t at = 1;
  for (int32_t pid = 1000; pid < 30000; ++pid, at += 3) {
    w.fork(100, 1, pid, at);
    w.exit(pid, 100, at + 2);
    if (pid % 100 == 0)
      w.advance(2s);
  }
  w.advance(2s);
  // Reaps kept it small: the budget never had to act.
  CHECK(w.aut.stats().budget.num_evicted == 0);
  CHECK(w.aut.size() <= 2);
}

TEST_CASE("the watch says pressed for a while after the budget acted",
          "[budget]") {
  budget_watch watch;
  std::chrono::steady_clock::time_point t{};
  budget_stats stats;
  CHECK_FALSE(watch.observe(stats, t));
  CHECK_FALSE(watch.recent(t));
  stats.num_evicted = 3;
  CHECK(watch.observe(stats, t + 1s)); // passed 1 and 2: logged
  stats.num_evicted = 4;
  CHECK(watch.observe(stats, t + 1s));
  stats.num_evicted = 7;
  CHECK_FALSE(watch.observe(stats, t + 1s));
  CHECK(watch.recent(t + 2s));
  watch.observe(stats, t + 30s); // no new eviction
  CHECK(watch.recent(t + 1s + budget_health_window));
  CHECK_FALSE(watch.recent(t + 2s + budget_health_window));
  stats.num_bare = 1;
  watch.observe(stats, t + 100s);
  CHECK(watch.recent(t + 100s));

  budget_watch resumed;
  resumed.baseline(stats);
  resumed.observe(stats, t + 200s);
  CHECK_FALSE(resumed.recent(t + 200s));
}
