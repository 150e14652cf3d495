// The query server's bounds with real sockets: a connection cap per
// listener (the unix socket answers while HTTP is full), a read deadline
// that drops a client trickling bytes, and an accept that pauses instead
// of spinning when descriptors run out.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "actors/query_server.hpp"

using namespace auditree;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

query_reply ok_handler(const query_route&) {
  return {200, "text/plain", "ok\n"};
}

// A free loopback port (the kernel's pick, released again).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t n = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

int connect_tcp(int port, int fd = -1) {
  if (fd < 0)
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  return fd;
}

int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  path.copy(a.sun_path, sizeof(a.sun_path) - 1);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  return fd;
}

// Whether the peer closed `fd` within `wait` (EOF or a reset).
bool closed_within(int fd, std::chrono::milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0)
    return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

// One GET on `fd`; the whole answer, or empty on a timeout.
std::string get(int fd, const std::string& target) {
  auto req = "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL)
          == static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0)
      return {};
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

struct server_fixture {
  std::string socket_path = "/tmp/auditree-qs-test-"
                            + std::to_string(::getpid()) + ".sock";
  int port = free_port();
  query_server server;

  explicit server_fixture(query_limits limits)
    : server(ok_handler, limits) {
    REQUIRE(server.start(socket_path, "127.0.0.1:" + std::to_string(port),
                         false)
              .empty());
  }
};

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
         + static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

} // namespace

TEST_CASE("past the cap, HTTP connections are refused; the socket answers",
          "[query_server]") {
  query_limits limits;
  limits.http_max_connections = 2;
  limits.socket_max_connections = 2;
  limits.read_timeout = 5s;
  server_fixture f{limits};
  std::vector<int> held{connect_tcp(f.port), connect_tcp(f.port)};
  // Accepted in order: the first two hold the slots, then two refused.
  std::this_thread::sleep_for(100ms);
  int third = connect_tcp(f.port);
  int fourth = connect_tcp(f.port);
  CHECK(closed_within(third, 1000ms));
  CHECK(closed_within(fourth, 1000ms));
  CHECK_FALSE(closed_within(held[0], 10ms));
  auto s = f.server.stats();
  CHECK(s.num_http_refused == 2);
  CHECK(s.num_http_open == 2);
  // The unix socket has its own budget.
  auto start = steady::now();
  int local = connect_unix(f.socket_path);
  auto answer = get(local, "/healthz");
  auto took = steady::now() - start;
  CHECK(answer.find("200 OK") != std::string::npos);
  CHECK(answer.find("ok\n") != std::string::npos);
  CHECK(took < 100ms);
  for (int fd : {third, fourth, local, held[0], held[1]})
    ::close(fd);
}

TEST_CASE("a client sending a byte at a time is dropped at the deadline",
          "[query_server]") {
  query_limits limits;
  limits.read_timeout = 300ms;
  server_fixture f{limits};
  int slow = connect_tcp(f.port);
  std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  auto start = steady::now();
  bool dropped = false;
  for (char c : req) {
    if (::send(slow, &c, 1, MSG_NOSIGNAL) != 1 || closed_within(slow, 100ms)) {
      dropped = true;
      break;
    }
  }
  auto took = steady::now() - start;
  CHECK(dropped);
  CHECK(took >= 250ms);
  CHECK(took < 1500ms);
  CHECK(f.server.stats().num_read_timeouts == 1);
  // A prompt client is served as before.
  int prompt = connect_tcp(f.port);
  CHECK(get(prompt, "/healthz").find("200 OK") != std::string::npos);
  ::close(prompt);
  ::close(slow);
}

TEST_CASE("accept backs off while descriptors run out", "[query_server]") {
  query_limits limits;
  limits.read_timeout = 5s;
  server_fixture f{limits};
  // The clients' sockets first: once the limit is down, none can be made.
  std::vector<int> clients;
  for (int i = 0; i < 4; ++i)
    clients.push_back(::socket(AF_INET, SOCK_STREAM, 0));
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  int probe = ::dup(0);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(probe); // No descriptor left.
  ::close(probe);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  for (int fd : clients)
    connect_tcp(f.port, fd);
  auto cpu_before = cpu_seconds();
  std::this_thread::sleep_for(500ms);
  auto cpu = cpu_seconds() - cpu_before;
  auto backoffs = f.server.stats().num_accept_backoffs;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
  // Pauses of 10, 20, 40, ... ms: a handful of tries, not a spin.
  CHECK(backoffs >= 2);
  CHECK(backoffs <= 10);
  CHECK(cpu < 0.1);
  // Descriptors are back: the waiting connections are served.
  CHECK(get(clients[0], "/healthz").find("200 OK") != std::string::npos);
  for (int fd : clients)
    ::close(fd);
}
