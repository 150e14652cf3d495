#include "runtime/record_batcher.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace auditree;

namespace {

// A view into `buffer`, as a source's parser makes it.
record_view view(uint32_t serial, const std::string& buffer) {
  return record_view{1300, event_id{1795990082, 726, serial}, buffer, {}};
}

} // namespace

TEST_CASE("the batcher routes records by serial and keeps their order") {
  record_batcher batcher{3};
  std::string buffer;
  for (uint32_t serial : {7, 8, 10, 9, 13}) {
    buffer = "serial " + std::to_string(serial);
    batcher.add(view(serial, buffer), serial * 10);
  }
  auto batches = batcher.take();
  REQUIRE(batches.size() == 3);
  // 7 % 3 = 1, 8 % 3 = 2, 10 % 3 = 1, 9 % 3 = 0, 13 % 3 = 1.
  REQUIRE(batches[0].size() == 1);
  REQUIRE(batches[1].size() == 3);
  REQUIRE(batches[2].size() == 1);
  CHECK(batches[0][0].text() == "serial 9");
  CHECK(batches[1][0].text() == "serial 7");
  CHECK(batches[1][1].text() == "serial 10");
  CHECK(batches[1][2].text() == "serial 13");
  CHECK(batches[1][2].sequence == 130);
  CHECK(batches[1][2].id.serial == 13);
  CHECK(batches[1][2].type == 1300);
  CHECK(batches[2][0].text() == "serial 8");
}

TEST_CASE("the batcher copies each text when it is added") {
  record_batcher batcher{1};
  std::string buffer = "pid=1 comm=\"a\"";
  batcher.add(view(1, buffer), 1);
  // The source reads the next datagram into the same buffer.
  buffer.assign(buffer.size(), 'x');
  batcher.add(view(2, buffer), 2);
  auto batch = batcher.take().front();
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].text() == "pid=1 comm=\"a\"");
  CHECK(batch[1].text() == std::string(buffer.size(), 'x'));
}

TEST_CASE("the records of one take share one block; copies share it too") {
  record_batcher batcher{2};
  std::string a = "first", b = "second", c = "";
  batcher.add(view(1, a), 1);
  batcher.add(view(2, b), 2);
  batcher.add(view(4, c), 3);
  auto batches = batcher.take();
  auto& first = batches[1][0];
  auto& second = batches[0][0];
  // One block, the texts one after the other.
  CHECK(first.text().data() + first.text().size() == second.text().data());
  CHECK(batches[0][1].text().empty());
  // A copy of a record (CAF copies a message its sender keeps) views the
  // same text rather than copying it.
  auto copy = batches;
  CHECK(copy[1][0].text().data() == first.text().data());
  // The block lives as long as any record of it.
  batches.clear();
  CHECK(copy[0][0].text() == "second");
}

TEST_CASE("take starts anew: the next read gets its own block") {
  record_batcher batcher{1};
  std::string text = "one";
  batcher.add(view(1, text), 1);
  auto first = batcher.take();
  CHECK(batcher.take().front().empty());
  text = "two";
  batcher.add(view(2, text), 2);
  auto second = batcher.take();
  REQUIRE(second.front().size() == 1);
  CHECK(second.front()[0].text() == "two");
  CHECK(first.front()[0].text() == "one");
}
