#pragma once

// gzip in the tests: making it (zlib's deflate, as gzip(1) does) for the
// readers of gzip to inflate back, and reading the corpus's gzip files
// through the same gzip_stream as `auditree replay`.

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>
#include <zlib.h>

#include "runtime/gzip_stream.hpp"

namespace auditree::test {

/// One gzip member of `text`.
inline std::string gzip(const std::string& text) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY)
          == Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

/// The text of the gzip file at `path`; fails the test when it is missing
/// or not whole gzip.
inline std::string gunzip_file(const std::string& path) {
  INFO("reading " << path);
  std::ifstream in{path, std::ios::binary};
  REQUIRE(in.good());
  std::string data{std::istreambuf_iterator<char>{in}, {}};
  REQUIRE(gzip_stream::starts_gzip(data));
  gzip_stream z;
  z.feed(data.data(), data.size());
  std::string text;
  std::vector<char> out(1 << 20);
  while (!z.needs_input() && z.error() == nullptr)
    text.append(out.data(), z.inflate(out.data(), out.size()));
  auto* error = z.finish();
  INFO((error != nullptr ? error : ""));
  REQUIRE(error == nullptr);
  return text;
}

} // namespace auditree::test
