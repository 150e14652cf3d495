#include <catch2/catch.hpp>

#include "runtime/fault_plan.hpp"

using namespace auditree;

TEST_CASE("faults parse from ACTOR:ACTION:SCHEDULE", "[fault_plan]") {
  std::string error;
  auto once = parse_fault("tree:throw:at=3000", error);
  REQUIRE(once);
  CHECK(once->actor == "tree");
  CHECK(once->action == fault_spec::raise);
  CHECK_FALSE(once->repeat);
  CHECK(once->units == 3000);
  auto every = parse_fault("assembler-1:kill:every=500", error);
  REQUIRE(every);
  CHECK(every->actor == "assembler-1");
  CHECK(every->action == fault_spec::kill);
  CHECK(every->repeat);
  CHECK(every->units == 500);
  auto wedge = parse_fault("tree:hang:at=1", error);
  REQUIRE(wedge);
  CHECK(wedge->action == fault_spec::hang);
  CHECK(wedge->units == 1);
}

TEST_CASE("malformed faults are rejected with the reason", "[fault_plan]") {
  for (auto bad : {"tree", "tree:throw", ":throw:at=1", "tree:explode:at=1",
                   "tree:throw:after=1", "tree:throw:at=0",
                   "tree:throw:at=12x", "tree:throw:every=-1"}) {
    std::string error;
    CHECK_FALSE(parse_fault(bad, error));
    CHECK(error.find(bad) != std::string::npos);
  }
}

TEST_CASE("a fault at N fires once, across copies of the injector",
          "[fault_plan]") {
  std::string error;
  fault_injector first{{*parse_fault("tree:kill:at=10", error)}};
  CHECK_FALSE(first.step(9));
  CHECK(first.step(3) == fault_spec::kill);
  // The replacement child gets a copy: the fault does not fire again.
  auto replacement = first;
  CHECK_FALSE(replacement.step(100));
  CHECK(first.num_fired() == 1);
}

TEST_CASE("a fault every N fires each time a multiple is passed",
          "[fault_plan]") {
  std::string error;
  fault_injector injector{{*parse_fault("sink:throw:every=5", error)}};
  int fired = 0;
  for (int i = 0; i < 23; ++i)
    if (injector.step(1))
      ++fired;
  CHECK(fired == 4);
  CHECK(injector.step(10) == fault_spec::raise); // 33: passes 25 and 30
  CHECK(injector.num_fired() == 5);
}

TEST_CASE("no faults: nothing fires", "[fault_plan]") {
  fault_injector none;
  CHECK_FALSE(none.step(1000000));
  CHECK(none.num_fired() == 0);
}

TEST_CASE("by position, work done again after a restart does not count",
          "[fault_plan]") {
  std::string error;
  fault_injector first{{*parse_fault("assembler-0:kill:every=100", error)}};
  CHECK_FALSE(first.advance_to(90));
  CHECK(first.advance_to(120) == fault_spec::kill);
  // The replacement is sent records 50..130 again: only 120..130 is new.
  auto replacement = first;
  CHECK_FALSE(replacement.advance_to(80));
  CHECK_FALSE(replacement.advance_to(130));
  CHECK(replacement.advance_to(200) == fault_spec::kill);
  CHECK(first.num_fired() == 2);
}
