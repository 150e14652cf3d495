#include "actors/netlink_reader.hpp"

#include <cerrno>
#include <cstring>
#include <linux/netlink.h>
#include <pthread.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>

#include "runtime/log.hpp"

namespace auditree {

namespace {

// Datagrams per drain round before other handlers get a turn.
constexpr int max_per_round = 1024;
// Datagrams per recvmmsg: an event's records (about 11 for a fork+exec)
// and more in one syscall. Slots whose datagrams stay small touch one page.
constexpr size_t slots_per_read = 64;

} // namespace

netlink_reader::netlink_reader(int fd, int protocol, size_t buffer_size,
                               handlers h,
                               std::chrono::microseconds flush_delay)
  : socket_(io_),
    buffer_(buffer_size * slots_per_read),
    slot_size_(buffer_size),
    slots_(slots_per_read),
    messages_(slots_per_read),
    handlers_(std::move(h)),
    flush_delay_(flush_delay) {
  socket_.assign(boost::asio::generic::raw_protocol(AF_NETLINK, protocol), fd);
  for (size_t i = 0; i < slots_per_read; ++i)
    slots_[i] = iovec{buffer_.data() + i * slot_size_, slot_size_};
  wait();
  thread_ = std::thread{[this] { io_.run(); }};
  // For top -H and perf: which socket this thread reads.
  pthread_setname_np(thread_.native_handle(),
                     protocol == NETLINK_AUDIT ? "auditree-audit"
                                               : "auditree-procs");
}

netlink_reader::~netlink_reader() {
  stop();
}

void netlink_reader::stop() {
  io_.stop();
  if (thread_.joinable())
    thread_.join();
}

void netlink_reader::wait() {
  socket_.async_wait(boost::asio::socket_base::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (ec == boost::asio::error::operation_aborted)
                         return;
                       read_round();
                     });
}

void netlink_reader::read_round() {
  while (!io_.stopped()) {
    auto before = num_datagrams_.load();
    if (!drain())
      return;
    auto n = num_datagrams_.load() - before;
    if (n == 0)
      break;
    flush();
    // A full round means more is waiting: read on at once.
    if (n >= uint64_t{max_per_round})
      continue;
    if (flush_delay_.count() == 0)
      break;
    // Busy: sleep through the delay, then read what came meanwhile in one
    // go, one wake-up per delay. A plain sleep: the reactor would wake this
    // thread for every datagram that arrives meanwhile.
    std::this_thread::sleep_for(flush_delay_);
  }
  // Quiet: wait for the socket, so that the first datagram goes on at once.
  wait();
}

bool netlink_reader::drain() {
  auto fd = socket_.native_handle();
  for (int i = 0; i < max_per_round;) {
    for (size_t k = 0; k < slots_per_read; ++k) {
      messages_[k] = mmsghdr{};
      messages_[k].msg_hdr.msg_iov = &slots_[k];
      messages_[k].msg_hdr.msg_iovlen = 1;
    }
    auto n = ::recvmmsg(fd, messages_.data(),
                        static_cast<unsigned>(slots_per_read), MSG_DONTWAIT,
                        nullptr);
    if (n > 0) {
      num_datagrams_ += static_cast<uint64_t>(n);
      for (int k = 0; k < n; ++k)
        handlers_.datagram(static_cast<const char*>(slots_[k].iov_base),
                           messages_[k].msg_len);
      i += n;
      // Fewer than asked for: the socket is empty now.
      if (static_cast<size_t>(n) < slots_per_read)
        break;
      continue;
    }
    if (n == 0)
      break;
    if (errno == EINTR)
      continue;
    if (errno == ENOBUFS) {
      // The kernel dropped datagrams for us: count, keep reading.
      ++num_overruns_;
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      // The socket is broken: stop reading; the owner sees failure().
      failure_ = errno;
      log::error("netlink read failed: ", std::strerror(errno));
      flush();
      return false;
    }
    break;
  }
  return true;
}

void netlink_reader::flush() {
  handlers_.drained();
}

} // namespace auditree
