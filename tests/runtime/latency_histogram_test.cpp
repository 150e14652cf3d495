#include "runtime/latency_histogram.hpp"

#include <catch2/catch.hpp>

using namespace auditree;

TEST_CASE("latency_histogram: empty has no percentiles") {
  latency_histogram aut;
  CHECK(aut.count() == 0);
  CHECK(aut.percentile_us(0.5) == 0);
  CHECK(aut.percentile_us(0.99) == 0);
  CHECK(aut.max_us() == 0);
}

TEST_CASE("latency_histogram: percentiles are bucket upper bounds") {
  latency_histogram aut{100, 1000};
  // 1..1000 microseconds, one each: [0, 100) holds 1..99, [100, 200)
  // holds 100..199, ... and [1000, 1100) holds 1000.
  for (int64_t us = 1; us <= 1000; ++us)
    aut.add(us);
  CHECK(aut.count() == 1000);
  CHECK(aut.max_us() == 1000);
  CHECK(aut.percentile_us(0.5) == 600); // Sample 500 lies in [500, 600).
  CHECK(aut.percentile_us(0.99) == 1000);
  CHECK(aut.percentile_us(1.0) == 1000);
  CHECK(aut.percentile_us(0.001) == 100);
}

TEST_CASE("latency_histogram: a percentile never exceeds the maximum") {
  latency_histogram aut{1000, 10};
  aut.add(1200);
  CHECK(aut.percentile_us(0.5) == 1200);
}

TEST_CASE("latency_histogram: a backlog lands in the coarse buckets") {
  latency_histogram aut{100, 10}; // Fine [0, 1 ms), coarse [0, 100 ms).
  for (int i = 0; i < 97; ++i)
    aut.add(50);
  aut.add(25'000);
  aut.add(38'000);
  aut.add(39'500);
  CHECK(aut.percentile_us(0.5) == 100);
  CHECK(aut.percentile_us(0.98) == 30'000); // Sample 98 is in [20, 30) ms.
  CHECK(aut.percentile_us(0.99) == 39'500); // [30, 40) ms, below the max.
  CHECK(aut.max_us() == 39'500);
}

TEST_CASE("latency_histogram: past the last bucket the maximum stands in") {
  latency_histogram aut{100, 10}; // Coarse buckets end at 100 ms.
  for (int i = 0; i < 98; ++i)
    aut.add(50);
  aut.add(500'000);
  aut.add(700'000);
  CHECK(aut.count() == 100);
  CHECK(aut.percentile_us(0.5) == 100);
  CHECK(aut.percentile_us(0.99) == 700'000);
  CHECK(aut.max_us() == 700'000);
}

TEST_CASE("latency_histogram: negative latencies count as zero") {
  latency_histogram aut;
  aut.add(-300);
  aut.add(-1);
  CHECK(aut.count() == 2);
  CHECK(aut.num_negative() == 2);
  CHECK(aut.max_us() == 0);
  CHECK(aut.percentile_us(1.0) == 0);
}
