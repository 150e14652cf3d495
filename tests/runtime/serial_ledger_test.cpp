#include "runtime/serial_ledger.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <initializer_list>
#include <random>

using namespace auditree;

namespace {

constexpr uint32_t max_serial = 4294967295u;

void observe(serial_ledger& aut, std::initializer_list<uint32_t> serials) {
  for (auto s : serials)
    aut.observe(s);
}

// The serials s with s % stride == residue from `first` on, `count` of
// them, wrapping at 2^32 as the kernel's counter does.
std::vector<uint32_t> residue_class(uint32_t first, size_t count,
                                    uint32_t stride, uint32_t residue) {
  std::vector<uint32_t> result;
  for (uint32_t s = first; result.size() < count; ++s)
    if (s % stride == residue)
      result.push_back(s);
  return result;
}

} // namespace

TEST_CASE("serial_ledger: contiguous serials leave no gap") {
  serial_ledger aut{1, 16};
  for (uint32_t s = 327459; s < 327459 + 1000; ++s)
    aut.observe(s);
  aut.finish();
  CHECK(aut.num_gaps() == 0);
  CHECK(aut.num_late() == 0);
  CHECK(aut.num_resets() == 0);
}

TEST_CASE("serial_ledger: reordering within the window is no gap") {
  serial_ledger aut{1, 8};
  // The order of fork-storm.log: 315519 arrives after 315520.
  observe(aut, {315512, 315513, 315514, 315515, 315517, 315516, 315518, 315520,
                315519, 315521});
  CHECK(aut.num_gaps() == 0);
  // Seven ahead of a missing serial still fits a window of 8.
  observe(aut, {315523, 315524, 315525, 315526, 315527, 315528, 315529});
  CHECK(aut.num_gaps() == 0);
  aut.observe(315522);
  aut.finish();
  CHECK(aut.num_gaps() == 0);
  CHECK(aut.num_late() == 0);
}

TEST_CASE("serial_ledger: a gap counts once, when it leaves the window") {
  serial_ledger aut{1, 8};
  observe(aut, {100, 101, 103, 104, 105, 106, 107, 108, 109});
  // 102 is still in the window [102, 110).
  CHECK(aut.num_gaps() == 0);
  aut.observe(110);
  CHECK(aut.num_gaps() == 1);
  for (uint32_t s = 111; s < 200; ++s)
    aut.observe(s);
  aut.finish();
  CHECK(aut.num_gaps() == 1);
  CHECK(aut.num_late() == 0);
}

TEST_CASE("serial_ledger: a run of missing serials counts each") {
  serial_ledger aut{1, 8};
  observe(aut, {1, 2, 3});
  aut.observe(1003);
  // Those that left the window count now, the rest at the end.
  CHECK(aut.num_gaps() == 999 - 7);
  aut.observe(1004);
  aut.finish();
  CHECK(aut.num_gaps() == 999);
  CHECK(aut.num_resets() == 0);
}

TEST_CASE("serial_ledger: finish() counts the holes left in the window") {
  serial_ledger aut{1, 4096};
  observe(aut, {1, 2, 5, 9});
  CHECK(aut.num_gaps() == 0);
  aut.finish();
  CHECK(aut.num_gaps() == 5); // 3, 4, 6, 7, 8
  aut.finish();
  CHECK(aut.num_gaps() == 5);
}

TEST_CASE("serial_ledger: the counter wraps from 4294967295 to 0") {
  serial_ledger aut{1, 16};
  for (uint32_t s = max_serial - 20; s != 20; ++s)
    aut.observe(s);
  aut.finish();
  CHECK(aut.num_gaps() == 0);
  CHECK(aut.num_resets() == 0);
  CHECK(aut.num_late() == 0);
}

TEST_CASE("serial_ledger: gaps and late serials across the wrap") {
  serial_ledger aut{1, 16};
  // 4294967295 and 0 are missing; 1 arrives before 4294967294.
  observe(aut, {max_serial - 3, max_serial - 2, 1, max_serial - 1, 2, 3});
  aut.finish();
  CHECK(aut.num_gaps() == 2);
  CHECK(aut.num_resets() == 0);
  aut.observe(max_serial - 2);
  CHECK(aut.num_late() == 1);
}

TEST_CASE("serial_ledger: stride N watches one residue class") {
  serial_ledger aut{4, 16};
  // The first serial sets the class; serials of other classes belong to
  // other assemblers: neither late nor gaps.
  for (uint32_t s = 1001; s < 1401; ++s)
    aut.observe(s);
  aut.finish();
  CHECK(aut.num_gaps() == 0);
  CHECK(aut.num_resets() == 0);
  SECTION("a missing member of the class is one gap") {
    serial_ledger gappy{4, 16};
    for (auto s : residue_class(1001, 100, 4, 1))
      if (s != 1201)
        gappy.observe(s);
    gappy.finish();
    CHECK(gappy.num_gaps() == 1);
    CHECK(gappy.num_late() == 0);
  }
}

TEST_CASE("serial_ledger: stride N across the wrap") {
  // 2^32 is no multiple of 3, 5 or 6: after the wrap the class continues
  // at serial `residue`, not at the old serial plus N.
  auto stride = GENERATE(2u, 3u, 4u, 5u, 6u);
  auto residue = GENERATE(0u, 1u);
  INFO("stride " << stride << " residue " << residue);
  auto serials = residue_class(max_serial - 30, 24, stride, residue);
  REQUIRE(serials.front() > serials.back());
  REQUIRE(serials.back() < 200);
  SECTION("in order") {
    serial_ledger aut{stride, 8};
    for (auto s : serials)
      aut.observe(s);
    aut.finish();
    CHECK(aut.num_gaps() == 0);
    CHECK(aut.num_late() == 0);
    CHECK(aut.num_resets() == 0);
  }
  SECTION("one missing on each side of the wrap") {
    serial_ledger aut{stride, 8};
    size_t last_before = 0;
    while (serials[last_before + 1] > serials[last_before])
      ++last_before;
    for (size_t i = 0; i < serials.size(); ++i)
      if (i != last_before && i != last_before + 1)
        aut.observe(serials[i]);
    aut.finish();
    CHECK(aut.num_gaps() == 2);
    CHECK(aut.num_late() == 0);
    CHECK(aut.num_resets() == 0);
  }
}

TEST_CASE("serial_ledger: duplicates and stragglers are late") {
  serial_ledger aut{1, 8};
  observe(aut, {10, 11, 12});
  aut.observe(11);
  CHECK(aut.num_late() == 1);
  observe(aut, {14, 15});
  aut.observe(15); // seen, still inside the window
  CHECK(aut.num_late() == 2);
  aut.observe(9); // before the first serial ever seen
  CHECK(aut.num_late() == 3);
  // 13 falls out of the window as a gap, then arrives after all.
  for (uint32_t s = 16; s < 40; ++s)
    aut.observe(s);
  CHECK(aut.num_gaps() == 1);
  aut.observe(13);
  CHECK(aut.num_late() == 4);
  CHECK(aut.num_resets() == 0);
}

TEST_CASE("serial_ledger: a huge jump restarts the count") {
  auto jump = GENERATE(uint32_t{1} << 30, uint32_t{1} << 25,
                       uint32_t(-(int64_t{1} << 30)));
  INFO("jump " << jump);
  serial_ledger aut{1, 16};
  observe(aut, {5000, 5001, 5002});
  auto restart = 5002 + jump;
  for (uint32_t s = restart; s != restart + 100; ++s)
    aut.observe(s);
  aut.finish();
  CHECK(aut.num_resets() == 1);
  CHECK(aut.num_gaps() == 0);
  CHECK(aut.num_late() == 0);
}

TEST_CASE("serial_ledger: the first serial seen starts the count quietly") {
  serial_ledger aut;
  aut.observe(0);
  aut.observe(1);
  aut.finish();
  CHECK(aut.num_resets() == 0);
  CHECK(aut.num_gaps() == 0);
  serial_ledger empty;
  empty.finish();
  CHECK(empty.num_gaps() == 0);
}

TEST_CASE("serial_ledger: random drops and local reordering, any stride") {
  // Drops are the only gaps as long as no serial arrives a window or more
  // after a later one: shuffle within blocks of half a window.
  auto stride = GENERATE(1u, 3u, 4u, 7u);
  auto first = GENERATE(1000u, max_serial - 5000);
  INFO("stride " << stride << " first " << first);
  constexpr uint32_t window = 64;
  std::mt19937 rng{stride * 7919 + first};
  auto serials = residue_class(first, 3000, stride, first % stride);
  std::vector<uint32_t> kept;
  uint64_t dropped = 0;
  for (size_t i = 0; i < serials.size(); ++i) {
    // Keep the ends, so every drop lies between two seen serials.
    if (i > 0 && i + 1 < serials.size() && rng() % 10 == 0)
      ++dropped;
    else
      kept.push_back(serials[i]);
  }
  // The first serial seen starts the count: it stays first.
  for (size_t i = 1; i < kept.size(); i += window / 2) {
    auto end = std::min(kept.size(), i + window / 2);
    std::shuffle(kept.begin() + i, kept.begin() + end, rng);
  }
  REQUIRE(dropped > 200);
  serial_ledger aut{stride, window};
  for (auto s : kept)
    aut.observe(s);
  aut.finish();
  CHECK(aut.num_gaps() == dropped);
  CHECK(aut.num_late() == 0);
  CHECK(aut.num_resets() == 0);
}
