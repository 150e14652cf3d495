#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/generic/raw_protocol.hpp>
#include <boost/asio/io_context.hpp>

namespace auditree {

/// Reads datagrams from a netlink socket on its own Boost.Asio thread, so
/// waiting for the kernel never blocks a CAF worker. When the socket turns
/// readable, the reader drains it (non-blocking, many datagrams per
/// recvmmsg: a syscall costs more than a record) and calls `drained`, so
/// callers can batch what `datagram` collected; while datagrams keep
/// coming it reads again only every `flush_delay`: at a few records per
/// wake-up, the wake-ups of this thread and of the actors the batches go to
/// cost more CPU than the records. A full socket buffer (ENOBUFS) is
/// counted and reading goes on.
class netlink_reader {
public:
  struct handlers {
    /// One datagram: the bytes stay valid only during the call.
    std::function<void(const char* data, size_t size)> datagram;
    /// The socket had nothing more to read (or a drain round ended).
    std::function<void()> drained;
  };

  /// Takes ownership of `fd`, a bound netlink socket of `protocol`.
  netlink_reader(int fd, int protocol, size_t buffer_size, handlers h,
                 std::chrono::microseconds flush_delay);
  netlink_reader(const netlink_reader&) = delete;
  netlink_reader& operator=(const netlink_reader&) = delete;
  ~netlink_reader();

  /// Stops the thread; no handler runs after this returns.
  void stop();

  int native_handle() { return socket_.native_handle(); }

  uint64_t num_overruns() const { return num_overruns_; }
  uint64_t num_datagrams() const { return num_datagrams_; }

  /// The errno that stopped reading, or 0 while reading works.
  int failure() const { return failure_; }

private:
  void wait();
  /// Drains the socket and hands on what came, again every `flush_delay`
  /// while datagrams keep coming.
  void read_round();
  /// Reads what is there (up to a round); false when the socket broke.
  bool drain();
  void flush();

  boost::asio::io_context io_;
  boost::asio::generic::raw_protocol::socket socket_;
  /// One slot of `buffer_size` bytes per datagram of a recvmmsg.
  std::vector<char> buffer_;
  size_t slot_size_;
  std::vector<iovec> slots_;
  std::vector<mmsghdr> messages_;
  handlers handlers_;
  std::chrono::microseconds flush_delay_;
  std::atomic<uint64_t> num_overruns_{0};
  std::atomic<uint64_t> num_datagrams_{0};
  std::atomic<int> failure_{0};
  std::thread thread_;
};

} // namespace auditree
