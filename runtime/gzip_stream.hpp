#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace auditree {

/// Inflates gzip data handed over piece by piece, as a file or a pipe
/// delivers it, into text in pieces of any size. Several members one after
/// the other (what `cat a.gz b.gz` or an appending logger writes) give the
/// text of each in turn. Never reads by itself, so a source that waits on
/// a pipe keeps its own pace (zlib's gzread would block until its whole
/// buffer is full).
class gzip_stream {
public:
  gzip_stream();
  ~gzip_stream();
  gzip_stream(const gzip_stream&) = delete;
  gzip_stream& operator=(const gzip_stream&) = delete;

  /// Whether text that begins with `first` is gzip: its first byte is the
  /// gzip magic 0x1f, which no text line begins with. `inflate` checks the
  /// rest of the header.
  static bool starts_gzip(std::string_view first);

  /// Hands over the next compressed bytes. They are not copied: they must
  /// stay in place until `needs_input()`.
  void feed(const char* data, size_t size);

  /// True when every byte fed so far has been inflated and given out.
  bool needs_input() const;

  /// Inflates into `out[0, capacity)` and returns how many bytes it wrote:
  /// 0 when it needs input, or after an error.
  size_t inflate(char* out, size_t capacity);

  /// Why the data is not gzip, or nullptr while it is.
  const char* error() const {
    return error_.empty() ? nullptr : error_.c_str();
  }

  /// Call at the end of the input: why what was fed is not whole gzip (a
  /// member cut short), or nullptr.
  const char* finish();

  /// Compressed and inflated bytes so far.
  size_t bytes_in() const { return bytes_in_; }
  size_t bytes_out() const { return bytes_out_; }

private:
  struct state;
  std::unique_ptr<state> state_;
  /// True between a member's first byte and its end.
  bool in_member_ = false;
  /// True when the last `inflate` filled its output: text may be pending.
  bool more_out_ = false;
  std::string error_;
  size_t bytes_in_ = 0;
  size_t bytes_out_ = 0;
};

} // namespace auditree
