// The output writer counts what reached the output as written and nothing
// else: a failing write (a full disk) counts its lines as dropped.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <string>
#include <unistd.h>

#include "actors/output_writer.hpp"

using namespace auditree;

TEST_CASE("lines whose write fails are dropped, not written", "[output]") {
  // /dev/full opens, and every write to it fails with ENOSPC.
  output_writer out;
  output_writer::options opts;
  opts.path = "/dev/full";
  REQUIRE(out.start(opts).empty());
  CHECK(out.write(std::string(100, 'x') + "\n", 1));
  CHECK(out.write("a\nb\nc\n", 3));
  out.flush();
  CHECK(out.num_written() == 0);
  CHECK(out.num_dropped() == 4);
}

TEST_CASE("lines that reach the file count as written", "[output]") {
  char name[] = "/tmp/auditree-writer-test-XXXXXX";
  int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    output_writer out;
    output_writer::options opts;
    opts.path = name;
    REQUIRE(out.start(opts).empty());
    CHECK(out.write("a\nb\n", 2));
    out.flush();
    CHECK(out.num_written() == 2);
    CHECK(out.num_dropped() == 0);
  }
  std::remove(name);
}

TEST_CASE("a failed reopen drops lines, then the file opens again",
          "[output]") {
  // The directory moves away under the writer: the reopen after a rotation
  // fails. Lines meanwhile count as dropped; once the directory is back,
  // the next try (at most once a second) opens the file again.
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path()
             / ("auditree-reopen-" + std::to_string(::getpid()));
  auto moved = dir.string() + ".moved";
  fs::remove_all(dir);
  fs::remove_all(moved);
  fs::create_directories(dir);
  output_writer out;
  output_writer::options opts;
  opts.path = (dir / "events.json").string();
  opts.max_file_bytes = 10;
  opts.keep = 1;
  REQUIRE(out.start(opts).empty());
  out.write("1234567\n", 1);
  out.flush();
  CHECK(out.num_written() == 1);
  fs::rename(dir, moved);
  out.write("1234567\n", 1);
  out.flush();
  CHECK(out.num_written() == 1);
  CHECK(out.num_dropped() == 1);
  fs::create_directories(dir);
  std::this_thread::sleep_for(std::chrono::milliseconds{1100});
  out.write("abc\n", 1);
  out.flush();
  CHECK(out.num_written() == 2);
  CHECK(out.num_dropped() == 1);
  CHECK(fs::file_size(dir / "events.json") == 4);
  fs::remove_all(dir);
  fs::remove_all(moved);
}
