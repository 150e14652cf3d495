#include "actors/query_server.hpp"

#include <optional>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "runtime/log.hpp"

namespace auditree {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr size_t max_request_bytes = 8 * 1024;

// One connection: read requests, answer each, until the peer closes.
template <class Socket>
class session : public std::enable_shared_from_this<session<Socket>> {
public:
  session(Socket socket, const query_handler& handler, bool control)
    : socket_(std::move(socket)), handler_(handler), control_(control) {
  }

  void read() {
    parser_.emplace();
    parser_->header_limit(max_request_bytes);
    parser_->body_limit(max_request_bytes);
    http::async_read(socket_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec,
                                                       size_t) {
                       self->on_read(ec);
                     });
  }

private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof) {
      beast::error_code ignored;
      socket_.shutdown(Socket::shutdown_send, ignored);
      return;
    }
    query_reply reply;
    bool keep_alive = false;
    if (ec) {
      reply = {400, "text/plain", "bad request: " + ec.message() + "\n"};
    } else {
      auto& req = parser_->get();
      keep_alive = req.keep_alive();
      auto route = route_query(std::string{req.method_string()},
                               std::string{req.target()});
      if (route.kind == query_route::error)
        reply = {route.status, "text/plain", route.message + "\n"};
      else if (route.kind == query_route::crash && !control_)
        reply = {403, "text/plain",
                 "control commands are served on the unix socket only\n"};
      else
        reply = handler_(route);
      if (req.method() == http::verb::head)
        reply.body.clear();
    }
    response_ = {static_cast<http::status>(reply.status), 11};
    response_.set(http::field::server, "auditree");
    response_.set(http::field::content_type, reply.content_type);
    response_.body() = std::move(reply.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    http::async_write(socket_, response_,
                      [self = this->shared_from_this(),
                       keep_alive](beast::error_code ec, size_t) {
                        if (!ec && keep_alive)
                          self->read();
                      });
  }

  Socket socket_;
  const query_handler& handler_;
  /// Control commands (POST /ctl/...) only from the root-only unix socket.
  bool control_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
};

template <class Acceptor>
void accept(Acceptor& acceptor, const query_handler& handler, bool control) {
  acceptor.async_accept([&acceptor, &handler, control](beast::error_code ec,
                                                       auto socket) {
    if (ec == asio::error::operation_aborted)
      return;
    if (!ec)
      std::make_shared<session<decltype(socket)>>(std::move(socket), handler,
                                                  control)
        ->read();
    accept(acceptor, handler, control);
  });
}

bool is_loopback(const asio::ip::address& a) {
  return a.is_loopback();
}

} // namespace

struct query_server::impl {
  query_handler handler;
  asio::io_context io;
  std::optional<asio::local::stream_protocol::acceptor> unix_acceptor;
  std::optional<asio::ip::tcp::acceptor> tcp_acceptor;
  std::string socket_path;
  std::thread thread;
};

query_server::query_server(query_handler handler) : impl_(new impl) {
  impl_->handler = std::move(handler);
}

query_server::~query_server() {
  stop();
}

std::string query_server::start(const std::string& socket_path,
                                const std::string& http_address,
                                bool allow_remote) {
  auto& d = *impl_;
  beast::error_code ec;
  if (!socket_path.empty()) {
    auto dir = socket_path.substr(0, socket_path.rfind('/'));
    if (!dir.empty())
      ::mkdir(dir.c_str(), 0700);
    ::unlink(socket_path.c_str()); // A socket left by a crashed run.
    // Created with mode 0600 from the start: no window for other users.
    auto old_mask = ::umask(0177);
    d.unix_acceptor.emplace(d.io);
    d.unix_acceptor->open(asio::local::stream_protocol{}, ec);
    if (!ec)
      d.unix_acceptor->bind({socket_path}, ec);
    ::umask(old_mask);
    if (!ec)
      d.unix_acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return "cannot listen on " + socket_path + ": " + ec.message();
    d.socket_path = socket_path;
    accept(*d.unix_acceptor, d.handler, true);
  }
  if (!http_address.empty()) {
    auto colon = http_address.rfind(':');
    if (colon == std::string::npos)
      return "auditree.http=" + http_address + ": HOST:PORT expected";
    auto host = http_address.substr(0, colon);
    if (host.size() > 2 && host.front() == '[')
      host = host.substr(1, host.size() - 2);
    auto address = asio::ip::make_address(host, ec);
    int port = 0;
    try {
      port = std::stoi(http_address.substr(colon + 1));
    } catch (...) {
      port = -1;
    }
    if (ec || port <= 0 || port > 65535)
      return "auditree.http=" + http_address + ": not an address:port";
    if (!is_loopback(address) && !allow_remote)
      return "auditree.http=" + http_address
             + ": not a loopback address (set auditree.http-allow-remote to "
               "expose the API)";
    asio::ip::tcp::endpoint endpoint{address, static_cast<uint16_t>(port)};
    d.tcp_acceptor.emplace(d.io);
    d.tcp_acceptor->open(endpoint.protocol(), ec);
    if (!ec)
      d.tcp_acceptor->set_option(asio::socket_base::reuse_address{true}, ec);
    if (!ec)
      d.tcp_acceptor->bind(endpoint, ec);
    if (!ec)
      d.tcp_acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return "cannot listen on " + http_address + ": " + ec.message();
    accept(*d.tcp_acceptor, d.handler, false);
  }
  d.thread = std::thread{[&d] { d.io.run(); }};
  pthread_setname_np(d.thread.native_handle(), "auditree-query");
  return {};
}

void query_server::stop() {
  auto& d = *impl_;
  d.io.stop();
  if (d.thread.joinable())
    d.thread.join();
  if (!d.socket_path.empty()) {
    ::unlink(d.socket_path.c_str());
    d.socket_path.clear();
  }
}

} // namespace auditree
