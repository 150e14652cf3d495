// gzip_stream: the corpus excerpt kill-and-reuse.log, compressed here with
// zlib's deflate, inflated back in pieces of every size: one member, two
// members one after the other, a member cut short, corrupt data, and text
// that only begins like gzip.

#include <catch2/catch.hpp>

#include <string>

#include "runtime/gzip_stream.hpp"
#include "tests/gzip_data.hpp"
#include "tests/runtime/record_fixture.hpp"

using namespace auditree;
using test::gzip;

namespace {

std::string excerpt() {
  std::string text;
  for (auto& line : test::read_lines("kill-and-reuse.log"))
    text += line + '\n';
  return text;
}

struct inflated {
  std::string text;
  /// Empty when the data was whole gzip.
  std::string error;
};

/// Feeds `data` in pieces of `piece` bytes and inflates into pieces of
/// `capacity`, as a source reading a pipe does.
inflated inflate_all(const std::string& data, size_t piece, size_t capacity) {
  gzip_stream aut;
  inflated result;
  std::string out(capacity, '\0');
  for (size_t at = 0; at < data.size() && !aut.error(); at += piece) {
    aut.feed(data.data() + at, std::min(piece, data.size() - at));
    while (!aut.needs_input() && !aut.error())
      result.text.append(out.data(), aut.inflate(out.data(), capacity));
  }
  if (auto* error = aut.finish())
    result.error = error;
  return result;
}

} // namespace

TEST_CASE("gzip is recognised by its first byte", "[gzip_stream]") {
  CHECK(gzip_stream::starts_gzip(gzip("x")));
  CHECK(gzip_stream::starts_gzip("\x1f"));
  CHECK_FALSE(gzip_stream::starts_gzip("type=SYSCALL msg=audit(1.2:3): "));
  CHECK_FALSE(gzip_stream::starts_gzip(""));
}

TEST_CASE("a gzip member inflates to its text in pieces of any size",
          "[gzip_stream]") {
  auto text = excerpt();
  auto data = gzip(text);
  REQUIRE(data.size() < text.size() / 4);
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}, data.size()}) {
    for (size_t capacity : {size_t{1}, size_t{13}, size_t{1} << 20}) {
      INFO("pieces of " << piece << ", output in pieces of " << capacity);
      auto got = inflate_all(data, piece, capacity);
      CHECK(got.error.empty());
      CHECK(got.text == text);
    }
  }
}

TEST_CASE("text held back for lack of room is given out before more input "
          "is asked for",
          "[gzip_stream]") {
  // Long runs: one code of a few bits copies up to 258 bytes, so input is
  // often used up while the copy still waits for room. A reader of a pipe
  // must not wait for more input then: its records would wait with it.
  std::string text;
  for (auto& line : test::read_lines("kill-and-reuse.log"))
    text += line + '\n' + std::string(1000, 'x') + '\n';
  auto data = gzip(text);
  gzip_stream roomy;
  gzip_stream tight;
  std::string out(1 << 20, '\0');
  size_t roomy_out = 0;
  size_t tight_out = 0;
  size_t held_back = 0;
  for (size_t at = 0; at < data.size(); ++at) {
    roomy.feed(data.data() + at, 1);
    roomy_out += roomy.inflate(out.data(), out.size());
    REQUIRE(roomy.needs_input());
    tight.feed(data.data() + at, 1);
    auto before = tight_out;
    while (!tight.needs_input())
      tight_out += tight.inflate(out.data(), 100);
    if (tight_out - before > 100)
      ++held_back;
    REQUIRE(tight_out == roomy_out);
  }
  CHECK(held_back > 0);
  CHECK(tight.finish() == nullptr);
  CHECK(tight_out == text.size());
}

TEST_CASE("members one after the other give their texts in turn",
          "[gzip_stream]") {
  auto text = excerpt();
  auto got =
      inflate_all(gzip(text) + gzip("second\n") + gzip(text), 1000, 4096);
  CHECK(got.error.empty());
  CHECK(got.text == text + "second\n" + text);
}

TEST_CASE("gzip cut short gives what it holds and says so", "[gzip_stream]") {
  auto text = excerpt();
  auto data = gzip(text);
  auto got = inflate_all(data.substr(0, data.size() / 2), 512, 4096);
  REQUIRE(!got.error.empty());
  CHECK(got.error.find("cut short") != std::string::npos);
  CHECK(!got.text.empty());
  CHECK(text.compare(0, got.text.size(), got.text) == 0);
  // Only the header: nothing inflated, still cut short.
  CHECK(!inflate_all(data.substr(0, 5), 512, 4096).error.empty());
}

TEST_CASE("corrupt gzip is an error, never a crash", "[gzip_stream]") {
  auto text = excerpt();
  auto data = gzip(text);
  SECTION("a byte of the compressed data changed") {
    data[data.size() / 2] = static_cast<char>(data[data.size() / 2] ^ 0x55);
    auto got = inflate_all(data, 512, 4096);
    CHECK(!got.error.empty());
    CHECK(got.text != text);
  }
  SECTION("the checksum changed") {
    data[data.size() - 6] = static_cast<char>(data[data.size() - 6] ^ 1);
    auto got = inflate_all(data, 512, 4096);
    REQUIRE(!got.error.empty());
    CHECK(got.error.find("gzip: ") == 0);
  }
  SECTION("text after a member") {
    auto got = inflate_all(data + "type=EOE msg=audit(1.2:3):\n", 512, 4096);
    CHECK(!got.error.empty());
    CHECK(got.text == text);
  }
  SECTION("only the first byte is gzip's") {
    auto got = inflate_all("\x1f plain text\n", 512, 4096);
    CHECK(!got.error.empty());
    CHECK(got.text.empty());
  }
}

TEST_CASE("the stream counts bytes in and out", "[gzip_stream]") {
  auto text = excerpt();
  auto data = gzip(text);
  gzip_stream aut;
  std::string out(text.size() + 1, '\0');
  aut.feed(data.data(), data.size());
  CHECK(aut.inflate(out.data(), out.size()) == text.size());
  CHECK(aut.needs_input());
  CHECK(aut.finish() == nullptr);
  CHECK(aut.bytes_in() == data.size());
  CHECK(aut.bytes_out() == text.size());
  // Nothing fed: nothing out, no error.
  CHECK(aut.inflate(out.data(), out.size()) == 0);
}
