// Bytes that a replayed file or stdin may hold where gzip is expected:
// gzip_stream fed them in pieces and inflating into small outputs, as the
// file source does. The first two bytes choose the piece and output sizes.
// Invariants: it never writes past the output; it never says it needs no
// input while giving nothing and naming no error (a reader would spin);
// after an error it gives nothing more; what it gave adds up to bytes_out;
// and the same bytes fed whole give the same text.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "runtime/gzip_stream.hpp"

using namespace auditree;
using auditree::fuzz::check;

namespace {

struct outcome {
  std::string text;
  std::string error;
};

outcome inflate_in_pieces(std::string_view data, size_t piece,
                          size_t capacity) {
  gzip_stream aut;
  outcome result;
  std::string out(capacity + 1, '\x55');
  for (size_t at = 0; at < data.size() && !aut.error(); at += piece) {
    aut.feed(data.data() + at, std::min(piece, data.size() - at));
    while (!aut.needs_input() && !aut.error()) {
      auto n = aut.inflate(out.data(), capacity);
      check(n <= capacity, "inflate stays within its output");
      check(out[capacity] == '\x55', "inflate writes nothing past its output");
      check(n > 0 || aut.error() || aut.needs_input(),
            "inflate gives text, an error or asks for input");
      result.text.append(out.data(), n);
    }
  }
  if (aut.error())
    check(aut.inflate(out.data(), capacity) == 0, "nothing after an error");
  if (auto* error = aut.finish())
    result.error = error;
  check(aut.bytes_out() == result.text.size(), "bytes_out adds up");
  return result;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 2)
    return 0;
  size_t piece = 1 + bytes[0] % 64;
  size_t capacity = 1 + bytes[1] % 200;
  std::string_view data{reinterpret_cast<const char*>(bytes) + 2, size - 2};
  auto pieces = inflate_in_pieces(data, piece, capacity);
  auto whole = inflate_in_pieces(data, data.size() + 1, 1 << 16);
  check(pieces.error.empty() == whole.error.empty(),
        "pieces and whole agree on whether the data is gzip");
  if (whole.error.empty())
    check(pieces.text == whole.text, "pieces and whole give the same text");
  return 0;
}
