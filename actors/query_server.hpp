#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "messages/pipeline_stats.hpp"
#include "runtime/query_route.hpp"

namespace auditree {

/// What a request gets back: an HTTP status, a content type and a body.
struct query_reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

/// Answers one routed request; runs on a listener's thread and may block
/// (it asks actors and waits for them, and renders the tree).
using query_handler = std::function<query_reply(const query_route&)>;

/// The bounds that keep abuse of the API from stalling it.
struct query_limits {
  /// Connections open at once on HTTP; further ones are closed at once.
  size_t http_max_connections = 64;
  /// The same for the unix socket, a budget of its own: `auditree health`
  /// answers while HTTP is flooded.
  size_t socket_max_connections = 8;
  /// A request must arrive whole, and its answer be taken, within this;
  /// a slower client is dropped (one byte a second holds no slot).
  std::chrono::milliseconds read_timeout{std::chrono::seconds{10}};
};

/// The query API over HTTP/1.1 (Boost.Beast): always on a unix socket
/// (mode 0600, so only root may ask), and on a TCP address when
/// configured. Each listener has its own thread and connection budget, and
/// serves one request at a time; an accept that fails for want of
/// descriptors pauses the listener (backing off) instead of spinning.
class query_server {
public:
  query_server(query_handler handler, query_limits limits = {});
  query_server(const query_server&) = delete;
  query_server& operator=(const query_server&) = delete;
  ~query_server();

  /// Listens on `socket_path` and, if not empty, on `http` ("HOST:PORT";
  /// only loopback hosts unless `allow_remote`). Returns an error message,
  /// or an empty string once listening.
  std::string start(const std::string& socket_path, const std::string& http,
                    bool allow_remote);

  /// Stops listening and removes the socket file.
  void stop();

  /// What the bounds refused so far; safe from any thread.
  query_api_stats stats() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace auditree
