#include "actors/output_writer.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/stat.h>

#include "runtime/log.hpp"

namespace auditree {

namespace {

// Two buffers cover the one being filled while the other is written; the
// cap keeps a rare huge batch from pinning its memory.
constexpr size_t max_spare = 2;
constexpr size_t max_spare_bytes = 4 << 20;
constexpr auto write_pause = std::chrono::milliseconds{10};
/// An output that could not be opened is tried again at most this often.
constexpr auto reopen_pause = std::chrono::seconds{1};

} // namespace

output_writer::~output_writer() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  hurry_.notify_one();
  if (thread_.joinable())
    thread_.join();
  if (out_ != nullptr && out_ != stdout)
    std::fclose(out_);
}

std::FILE* output_writer::open_file(const std::string& path, bool truncate,
                                    std::string& error) {
  int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY
              | (truncate ? O_TRUNC : O_APPEND);
  int fd = ::open(path.c_str(), flags, 0640);
  if (fd < 0) {
    error = errno == ELOOP ? "a symlink; refused (auditree never writes "
                             "through one)"
                           : std::strerror(errno);
    return nullptr;
  }
  auto* file = ::fdopen(fd, truncate ? "w" : "a");
  if (file == nullptr) {
    error = std::strerror(errno);
    ::close(fd);
  }
  return file;
}

std::string output_writer::start(options opts) {
  opts_ = std::move(opts);
  if (opts_.path == "-") {
    out_ = stdout;
  } else {
    std::string error;
    out_ = open_file(opts_.path, false, error);
    if (out_ == nullptr)
      return "cannot open output " + opts_.path + ": " + error;
    struct stat st {};
    if (::stat(opts_.path.c_str(), &st) == 0)
      file_bytes_ = static_cast<uint64_t>(st.st_size);
  }
  thread_ = std::thread{[this] { run(); }};
  pthread_setname_np(thread_.native_handle(), "auditree-write");
  return {};
}

bool output_writer::write(std::string text, uint64_t lines) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    // An empty queue takes any batch, so one large batch still gets out.
    if (queued_bytes_ > 0 && queued_bytes_ + text.size() > opts_.max_queued) {
      dropped_ += lines;
      return false;
    }
    queued_bytes_ += text.size();
    queue_.emplace_back(std::move(text), lines);
  }
  wake_.notify_one();
  return true;
}

std::string output_writer::take_buffer() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (spare_.empty())
    return {};
  auto result = std::move(spare_.back());
  spare_.pop_back();
  return result;
}

void output_writer::flush() {
  std::unique_lock<std::mutex> guard{mutex_};
  ++flushing_;
  hurry_.notify_one();
  drained_.wait(guard, [this] { return queue_.empty() && !busy_; });
  --flushing_;
}

uint64_t output_writer::num_written() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return written_;
}

uint64_t output_writer::num_dropped() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return dropped_;
}

void output_writer::rotate() {
  std::fclose(out_);
  for (auto i = opts_.keep; i > 0; --i) {
    auto from = i == 1 ? opts_.path : opts_.path + "." + std::to_string(i - 1);
    std::rename(from.c_str(), (opts_.path + "." + std::to_string(i)).c_str());
  }
  if (opts_.keep == 0)
    std::remove(opts_.path.c_str());
  std::string error;
  out_ = open_file(opts_.path, false, error);
  file_bytes_ = 0;
  last_reopen_ = std::chrono::steady_clock::now();
  if (out_ == nullptr)
    log::error("cannot reopen ", opts_.path, " after rotation: ", error,
               "; event lines are dropped and counted until it opens again");
}

bool output_writer::reopen() {
  auto now = std::chrono::steady_clock::now();
  if (opts_.path == "-" || now - last_reopen_ < reopen_pause)
    return false;
  last_reopen_ = now;
  std::string error;
  out_ = open_file(opts_.path, false, error);
  if (out_ == nullptr)
    return false;
  struct stat st {};
  file_bytes_ = ::fstat(::fileno(out_), &st) == 0
                  ? static_cast<uint64_t>(st.st_size)
                  : 0;
  log::info("output ", opts_.path, " open again");
  return true;
}

bool output_writer::write_out(const std::string& text) {
  if (out_ == nullptr && !reopen())
    return false;
  if (opts_.max_file_bytes > 0 && file_bytes_ > 0
      && file_bytes_ + text.size() > opts_.max_file_bytes) {
    rotate();
    if (out_ == nullptr)
      return false;
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), out_) == text.size();
  ok = std::fflush(out_) == 0 && ok;
  if (!ok) {
    // Part of the batch may be out; none of it counts as written.
    if (!write_failing_)
      log::error("writing events to ", opts_.path, " failed: ",
                 std::strerror(errno),
                 "; event lines are dropped and counted until it works");
    write_failing_ = true;
    std::clearerr(out_);
    return false;
  }
  if (write_failing_)
    log::info("writing events to ", opts_.path, " works again");
  write_failing_ = false;
  file_bytes_ += text.size();
  return true;
}

void output_writer::run() {
  std::unique_lock<std::mutex> guard{mutex_};
  for (;;) {
    wake_.wait(guard, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stopping_)
        return;
      continue;
    }
    auto [text, lines] = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    guard.unlock();
    // Written outside the lock: a blocked consumer blocks only this thread.
    bool lost = !write_out(text);
    guard.lock();
    busy_ = false;
    queued_bytes_ -= text.size();
    (lost ? dropped_ : written_) += lines;
    if (spare_.size() < max_spare && text.capacity() <= max_spare_bytes) {
      text.clear();
      spare_.push_back(std::move(text));
    }
    if (queue_.empty()) {
      drained_.notify_all();
      // Let the next batches gather: one wake-up of this thread per pause,
      // not one per batch; lines reach the output at most this much later.
      // A flush or the stop ends the pause (write() does not notify hurry_).
      hurry_.wait_for(guard, write_pause,
                      [this] { return stopping_ || flushing_ > 0; });
    }
  }
}

} // namespace auditree
