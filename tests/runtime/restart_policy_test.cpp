#include "runtime/restart_policy.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace auditree;
using namespace std::chrono_literals;

namespace {

// Time starts at the clock's epoch; tests move it forward by hand.
const restart_clock::time_point t0{};

restart_options budget(size_t max_restarts,
                       restart_clock::duration window = 60s) {
  restart_options result;
  result.max_restarts = max_restarts;
  result.window = window;
  result.initial_backoff = 100ms;
  result.max_backoff = 1s;
  return result;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("restart_policy restarts a child while it has budget",
          "[restart_policy]") {
  restart_policy aut{budget(3)};
  for (int i = 1; i <= 3; ++i) {
    auto d = aut.on_failure("assembler-0", t0 + i * 1s);
    CHECK(d.restart);
    CHECK(d.delay > 0ms);
    CHECK(contains(d.reason, "assembler-0"));
    CHECK(contains(d.reason, "restart " + std::to_string(i) + " of 3"));
  }
}

TEST_CASE("restart_policy backoff doubles up to the cap", "[restart_policy]") {
  restart_policy aut{budget(10)};
  std::vector<restart_clock::duration> delays;
  for (int i = 0; i < 7; ++i)
    delays.push_back(aut.on_failure("tree", t0 + i * 2s).delay);
  CHECK(delays
        == std::vector<restart_clock::duration>{100ms, 200ms, 400ms, 800ms, 1s,
                                                1s, 1s});
}

TEST_CASE("restart_policy backoff resets after a healthy window",
          "[restart_policy]") {
  restart_policy aut{budget(10, 10s)};
  REQUIRE(aut.on_failure("tree", t0).delay == 100ms);
  REQUIRE(aut.on_failure("tree", t0 + 1s).delay == 200ms);
  // The replacement started at 1.2s; a window later it has proven healthy.
  auto healthy_from = t0 + 1s + 200ms;
  SECTION("a failure before a whole healthy window keeps doubling") {
    CHECK(aut.on_failure("tree", healthy_from + 10s - 1ms).delay == 400ms);
  }
  SECTION("a failure after a whole healthy window starts over") {
    CHECK(aut.on_failure("tree", healthy_from + 10s).delay == 100ms);
    CHECK(aut.on_failure("tree", healthy_from + 11s).delay == 200ms);
  }
}

TEST_CASE("restart_policy escalates when the budget is spent",
          "[restart_policy]") {
  restart_policy aut{budget(2)};
  REQUIRE(aut.on_failure("netlink_source", t0).restart);
  REQUIRE(aut.on_failure("netlink_source", t0 + 1s).restart);
  auto d = aut.on_failure("netlink_source", t0 + 2s);
  CHECK_FALSE(d.restart);
  CHECK(d.delay == 0ms);
  CHECK(d.reason
        == "netlink_source failed 3 times within 60s, more than its budget "
           "of 2 restarts: giving up");
  // Giving up is final while the failures stay in the window.
  CHECK_FALSE(aut.on_failure("netlink_source", t0 + 3s).restart);
}

TEST_CASE("restart_policy with a budget of 0 never restarts",
          "[restart_policy]") {
  restart_policy aut{budget(0)};
  auto d = aut.on_failure("json_sink", t0);
  CHECK_FALSE(d.restart);
  CHECK(contains(d.reason, "json_sink failed 1 times"));
}

TEST_CASE("restart_policy window slides rather than resets",
          "[restart_policy]") {
  restart_policy aut{budget(2, 10s)};
  REQUIRE(aut.on_failure("tree", t0).restart);
  REQUIRE(aut.on_failure("tree", t0 + 1s).restart);
  REQUIRE_FALSE(aut.on_failure("tree", t0 + 9s).restart);
  // The restart at 0s has left the window; the one at 1s has not.
  CHECK(aut.on_failure("tree", t0 + 10s).restart);
  CHECK_FALSE(aut.on_failure("tree", t0 + 10s + 500ms).restart);
  // Both 10s and 1s are forgotten by 20s.
  CHECK(aut.on_failure("tree", t0 + 20s).restart);
}

TEST_CASE("restart_policy keeps a budget and backoff per child",
          "[restart_policy]") {
  restart_policy aut{budget(1)};
  REQUIRE(aut.on_failure("assembler-0", t0).restart);
  auto other = aut.on_failure("assembler-1", t0 + 1s);
  CHECK(other.restart);
  CHECK(other.delay == 100ms);
  CHECK_FALSE(aut.on_failure("assembler-0", t0 + 2s).restart);
  CHECK(aut.on_failure("tree", t0 + 3s).restart);
}

TEST_CASE("restart_policy reports children one failure from escalation",
          "[restart_policy]") {
  using names = std::vector<std::string>;
  SECTION("a budget of 3 is near after 2 restarts") {
    restart_policy aut{budget(3, 10s)};
    CHECK(aut.near_exhaustion(t0).empty());
    aut.on_failure("tree", t0);
    aut.on_failure("assembler-1", t0);
    CHECK(aut.near_exhaustion(t0 + 1s).empty());
    aut.on_failure("tree", t0 + 1s);
    CHECK(aut.near_exhaustion(t0 + 1s) == names{"tree"});
    aut.on_failure("assembler-1", t0 + 2s);
    CHECK(aut.near_exhaustion(t0 + 2s) == names{"assembler-1", "tree"});
    // The restart at 0s of both leaves the window.
    CHECK(aut.near_exhaustion(t0 + 10s).empty());
  }
  SECTION("a budget of 1 is near after its one restart") {
    restart_policy aut{budget(1)};
    aut.on_failure("tree", t0);
    CHECK(aut.near_exhaustion(t0) == names{"tree"});
    // Its restart out of the window, it has a whole budget again.
    CHECK(aut.near_exhaustion(t0 + 60s).empty());
  }
  SECTION("a budget of 0 has nothing to run out of") {
    restart_policy aut{budget(0)};
    aut.on_failure("tree", t0);
    CHECK(aut.near_exhaustion(t0).empty());
  }
}

TEST_CASE("restart_policy counts restarts per child", "[restart_policy]") {
  using counts = std::vector<std::pair<std::string, uint64_t>>;
  restart_policy aut{budget(2, 10s)};
  CHECK(aut.restarts().empty());
  aut.on_failure("tree", t0);
  aut.on_failure("tree", t0 + 1s);
  aut.on_failure("tree", t0 + 2s); // gives up: not a restart
  aut.on_failure("assembler-0", t0 + 3s);
  CHECK(aut.restarts() == counts{{"assembler-0", 1}, {"tree", 2}});
  // A counter: the window forgetting restarts does not lower it.
  aut.on_failure("tree", t0 + 30s);
  CHECK(aut.restarts() == counts{{"assembler-0", 1}, {"tree", 3}});
}

TEST_CASE("assembler names carry their index", "[restart_policy]") {
  CHECK(assembler_name(3) == "assembler-3");
  CHECK(assembler_index("assembler-0") == 0);
  CHECK(assembler_index("assembler-12") == 12);
  CHECK(assembler_index("assembler-") == SIZE_MAX);
  CHECK(assembler_index("assembler-1x") == SIZE_MAX);
  CHECK(assembler_index("tree") == SIZE_MAX);
}
