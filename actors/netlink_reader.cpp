#include "actors/netlink_reader.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>

#include <boost/asio/post.hpp>

#include "runtime/log.hpp"

namespace auditree {

namespace {

// Datagrams per drain round before other handlers get a turn.
constexpr int max_per_round = 1024;

} // namespace

netlink_reader::netlink_reader(int fd, int protocol, size_t buffer_size,
                               handlers h)
  : socket_(io_), buffer_(buffer_size), handlers_(std::move(h)) {
  socket_.assign(boost::asio::generic::raw_protocol(AF_NETLINK, protocol), fd);
  wait();
  thread_ = std::thread{[this] { io_.run(); }};
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
                       drain();
                     });
}

void netlink_reader::drain() {
  auto fd = socket_.native_handle();
  for (int i = 0; i < max_per_round; ++i) {
    auto n = ::recv(fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
    if (n >= 0) {
      ++num_datagrams_;
      handlers_.datagram(buffer_.data(), static_cast<size_t>(n));
      continue;
    }
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
      handlers_.drained();
      return;
    }
    break;
  }
  handlers_.drained();
  wait();
}

} // namespace auditree
