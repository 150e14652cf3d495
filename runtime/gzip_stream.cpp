#include "runtime/gzip_stream.hpp"

#include <zlib.h>

namespace auditree {

struct gzip_stream::state {
  z_stream z{};
  bool ready = false;
};

gzip_stream::gzip_stream() : state_(std::make_unique<state>()) {
  // 16 + window bits: gzip headers and trailers only (no raw zlib).
  if (inflateInit2(&state_->z, 16 + MAX_WBITS) == Z_OK)
    state_->ready = true;
  else
    error_ = "gzip: zlib could not start";
}

gzip_stream::~gzip_stream() {
  if (state_->ready)
    inflateEnd(&state_->z);
}

bool gzip_stream::starts_gzip(std::string_view first) {
  return !first.empty() && static_cast<unsigned char>(first[0]) == 0x1f;
}

void gzip_stream::feed(const char* data, size_t size) {
  auto& z = state_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  z.avail_in = static_cast<uInt>(size);
  bytes_in_ += size;
}

bool gzip_stream::needs_input() const {
  return state_->z.avail_in == 0 && !more_out_;
}

size_t gzip_stream::inflate(char* out, size_t capacity) {
  if (!error_.empty())
    return 0;
  auto& z = state_->z;
  z.next_out = reinterpret_cast<Bytef*>(out);
  z.avail_out = static_cast<uInt>(capacity);
  while (z.avail_out > 0 && (z.avail_in > 0 || more_out_)) {
    if (z.avail_in > 0)
      in_member_ = true;
    more_out_ = false;
    auto rc = ::inflate(&z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      // The next bytes, if any, begin another member.
      in_member_ = false;
      inflateReset(&z);
    } else if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      break; // Nothing was held back after all.
    } else if (rc != Z_OK) {
      error_ =
          std::string{"gzip: "} + (z.msg != nullptr ? z.msg : "corrupt data");
      break;
    }
  }
  // Stopped for room: zlib may hold more text of the input it took.
  more_out_ = error_.empty() && z.avail_out == 0;
  auto written = capacity - z.avail_out;
  bytes_out_ += written;
  return written;
}

const char* gzip_stream::finish() {
  if (error_.empty() && in_member_)
    error_ = "gzip: the data ends inside a member (cut short)";
  return error();
}

} // namespace auditree
