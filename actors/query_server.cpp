#include "actors/query_server.hpp"

#include <atomic>
#include <optional>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "runtime/log.hpp"

namespace auditree {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr size_t max_request_bytes = 8 * 1024;
/// An accept that failed for want of descriptors (or memory) is tried
/// again after a pause that doubles up to the longest: the pending
/// connection stays queued and would fail it again at once.
constexpr std::chrono::milliseconds first_accept_pause{10};
constexpr std::chrono::milliseconds longest_accept_pause{1000};
/// Descriptors the rest of the agent needs (the audit and connector
/// sockets, the output, /proc reads, CAF's own) that HTTP may not take.
constexpr size_t reserved_descriptors = 64;

struct counters {
  std::atomic<uint64_t> http_refused{0};
  std::atomic<uint64_t> socket_refused{0};
  std::atomic<uint64_t> read_timeouts{0};
  std::atomic<uint64_t> accept_backoffs{0};
  std::atomic<uint64_t> http_open{0};
  std::atomic<uint64_t> socket_open{0};
};

// One connection: read requests, answer each, until the peer closes or
// misses its deadline. Holds one slot of its listener's budget.
template <class Socket>
class session : public std::enable_shared_from_this<session<Socket>> {
public:
  session(Socket socket, const query_handler& handler, bool control,
          std::chrono::milliseconds timeout, counters& c,
          std::atomic<uint64_t>& open)
    : socket_(std::move(socket)),
      deadline_(socket_.get_executor()),
      handler_(handler),
      control_(control),
      timeout_(timeout),
      counters_(c),
      open_(open) {
    ++open_;
  }

  ~session() {
    --open_;
  }

  void read() {
    arm_deadline();
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
  // The whole request (and then the whole answer) has `timeout_`: a
  // client trickling bytes cannot hold its slot for long.
  void arm_deadline() {
    deadline_.expires_after(timeout_);
    deadline_.async_wait(
      [weak = this->weak_from_this()](beast::error_code ec) {
        auto self = weak.lock();
        // Re-armed since (the request came in time): a stale expiry.
        if (ec || !self
            || self->deadline_.expiry() > asio::steady_timer::clock_type::now())
          return;
        self->timed_out_ = true;
        ++self->counters_.read_timeouts;
        beast::error_code ignored;
        self->socket_.close(ignored);
      });
  }

  void on_read(beast::error_code ec) {
    deadline_.cancel();
    if (timed_out_)
      return;
    if (ec == http::error::end_of_stream || ec == asio::error::eof) {
      beast::error_code ignored;
      socket_.shutdown(Socket::shutdown_send, ignored);
      return;
    }
    // A reset or aborted connection has no one to answer.
    if (ec && ec.category() != http::make_error_code(http::error::bad_target)
                                  .category())
      return;
    query_reply reply;
    bool keep_alive = false;
    if (ec) {
      reply = {400, "text/plain", "bad request: " + ec.message() + "\n"};
    } else {
      auto& req = parser_->get();
      keep_alive = req.keep_alive();
      reply = answer(req);
    }
    response_ = {static_cast<http::status>(reply.status), 11};
    response_.set(http::field::server, "auditree");
    response_.set(http::field::content_type, reply.content_type);
    response_.body() = std::move(reply.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    arm_deadline();
    http::async_write(socket_, response_,
                      [self = this->shared_from_this(),
                       keep_alive](beast::error_code ec, size_t) {
                        self->deadline_.cancel();
                        if (!ec && keep_alive && !self->timed_out_)
                          self->read();
                      });
  }

  query_reply answer(const http::request<http::string_body>& req) {
    auto route = route_query(std::string{req.method_string()},
                             std::string{req.target()});
    query_reply reply;
    if (route.kind == query_route::error)
      reply = {route.status, "text/plain", route.message + "\n"};
    else if (route.kind == query_route::crash && !control_)
      reply = {403, "text/plain",
               "control commands are served on the unix socket only\n"};
    else
      reply = handler_(route);
    if (req.method() == http::verb::head)
      reply.body.clear();
    return reply;
  }

  Socket socket_;
  asio::steady_timer deadline_;
  bool timed_out_ = false;
  const query_handler& handler_;
  /// Control commands (POST /ctl/...) only from the root-only unix socket.
  bool control_;
  std::chrono::milliseconds timeout_;
  counters& counters_;
  std::atomic<uint64_t>& open_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
};

// One listening socket with its own thread and connection budget.
template <class Protocol>
struct listener {
  listener(const char* name, const query_handler& handler, bool control,
           size_t max_connections, std::chrono::milliseconds timeout,
           counters& count, std::atomic<uint64_t>& open,
           std::atomic<uint64_t>& refused)
    : name(name),
      handler(handler),
      control(control),
      max_connections(max_connections),
      timeout(timeout),
      count(count),
      open(open),
      refused(refused) {
  }

  const char* name;
  const query_handler& handler;
  bool control;
  size_t max_connections;
  std::chrono::milliseconds timeout;
  counters& count;
  std::atomic<uint64_t>& open;
  std::atomic<uint64_t>& refused;
  asio::io_context io{1};
  typename Protocol::acceptor acceptor{io};
  asio::steady_timer pause{io};
  std::chrono::milliseconds backoff{0};
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, auto socket) {
      if (ec == asio::error::operation_aborted)
        return;
      if (ec) {
        back_off(ec);
        return;
      }
      backoff = std::chrono::milliseconds{0};
      if (open.load() >= max_connections) {
        // Closed at once: a flood costs one descriptor for a moment.
        ++refused;
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<session<decltype(socket)>>(
          std::move(socket), handler, control, timeout, count, open)
          ->read();
      }
      accept();
    });
  }

  void back_off(const beast::error_code& ec) {
    ++count.accept_backoffs;
    if (backoff.count() == 0)
      log::warning("query API (", name, "): accept failed: ", ec.message(),
                   "; pausing the listener");
    backoff = backoff.count() == 0
                ? first_accept_pause
                : std::min(backoff * 2, longest_accept_pause);
    pause.expires_after(backoff);
    pause.async_wait([this](beast::error_code ec) {
      if (!ec)
        accept();
    });
  }

  void run() {
    accept();
    thread = std::thread{[this] { io.run(); }};
    auto thread_name = std::string{"auditree-"} + name;
    pthread_setname_np(thread.native_handle(), thread_name.c_str());
  }

  void stop() {
    io.stop();
    if (thread.joinable())
      thread.join();
  }
};

// The HTTP budget within the descriptors the process may open, leaving
// the socket's budget and the rest of the agent their share.
size_t http_budget(const query_limits& limits) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return limits.http_max_connections;
  auto others = reserved_descriptors + limits.socket_max_connections;
  size_t room = rl.rlim_cur > others + 1 ? rl.rlim_cur - others : 1;
  if (limits.http_max_connections <= room)
    return limits.http_max_connections;
  log::warning("auditree.http-max-connections=",
               limits.http_max_connections, " exceeds what the descriptor "
               "limit (", rl.rlim_cur, ") leaves; using ", room);
  return room;
}

} // namespace

struct query_server::impl {
  query_handler handler;
  query_limits limits;
  // Before the listeners: their sessions count in it until destroyed.
  counters count;
  std::optional<listener<asio::local::stream_protocol>> unix_listener;
  std::optional<listener<asio::ip::tcp>> tcp_listener;
  std::string socket_path;
};

query_server::query_server(query_handler handler, query_limits limits)
  : impl_(new impl) {
  impl_->handler = std::move(handler);
  impl_->limits = limits;
}

query_server::~query_server() {
  stop();
}

namespace {

// "HOST:PORT" as an endpoint; an error message in `error` otherwise.
std::optional<asio::ip::tcp::endpoint>
parse_endpoint(const std::string& http_address, bool allow_remote,
               std::string& error) {
  auto colon = http_address.rfind(':');
  if (colon == std::string::npos) {
    error = "auditree.http=" + http_address + ": HOST:PORT expected";
    return std::nullopt;
  }
  auto host = http_address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[')
    host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  int port = 0;
  try {
    port = std::stoi(http_address.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  if (ec || port <= 0 || port > 65535) {
    error = "auditree.http=" + http_address + ": not an address:port";
    return std::nullopt;
  }
  if (!address.is_loopback() && !allow_remote) {
    error = "auditree.http=" + http_address
            + ": not a loopback address (set auditree.http-allow-remote to "
              "expose the API)";
    return std::nullopt;
  }
  return asio::ip::tcp::endpoint{address, static_cast<uint16_t>(port)};
}

} // namespace

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
    auto& l = d.unix_listener.emplace(
      "socket", d.handler, true, d.limits.socket_max_connections,
      d.limits.read_timeout, d.count, d.count.socket_open,
      d.count.socket_refused);
    // Created with mode 0600 from the start: no window for other users.
    auto old_mask = ::umask(0177);
    l.acceptor.open(asio::local::stream_protocol{}, ec);
    if (!ec)
      l.acceptor.bind({socket_path}, ec);
    ::umask(old_mask);
    if (!ec)
      l.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return "cannot listen on " + socket_path + ": " + ec.message();
    d.socket_path = socket_path;
  }
  if (!http_address.empty()) {
    std::string error;
    auto endpoint = parse_endpoint(http_address, allow_remote, error);
    if (!endpoint)
      return error;
    auto& l = d.tcp_listener.emplace(
      "http", d.handler, false, http_budget(d.limits), d.limits.read_timeout,
      d.count, d.count.http_open, d.count.http_refused);
    l.acceptor.open(endpoint->protocol(), ec);
    if (!ec)
      l.acceptor.set_option(asio::socket_base::reuse_address{true}, ec);
    if (!ec)
      l.acceptor.bind(*endpoint, ec);
    if (!ec)
      l.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return "cannot listen on " + http_address + ": " + ec.message();
  }
  if (d.unix_listener)
    d.unix_listener->run();
  if (d.tcp_listener)
    d.tcp_listener->run();
  return {};
}

void query_server::stop() {
  auto& d = *impl_;
  if (d.unix_listener)
    d.unix_listener->stop();
  if (d.tcp_listener)
    d.tcp_listener->stop();
  if (!d.socket_path.empty()) {
    ::unlink(d.socket_path.c_str());
    d.socket_path.clear();
  }
}

query_api_stats query_server::stats() const {
  auto& c = impl_->count;
  query_api_stats s;
  s.num_http_refused = c.http_refused.load();
  s.num_socket_refused = c.socket_refused.load();
  s.num_read_timeouts = c.read_timeouts.load();
  s.num_accept_backoffs = c.accept_backoffs.load();
  s.num_http_open = c.http_open.load();
  s.num_socket_open = c.socket_open.load();
  return s;
}

} // namespace auditree
