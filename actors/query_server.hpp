#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "runtime/query_route.hpp"

namespace auditree {

/// What a request gets back: an HTTP status, a content type and a body.
struct query_reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

/// Answers one routed request; runs on the server's thread and may block
/// (it asks actors and waits for them).
using query_handler = std::function<query_reply(const query_route&)>;

/// The query API over HTTP/1.1 (Boost.Beast) on its own Asio thread: always
/// on a unix socket (mode 0600, so only root may ask), and on a TCP address
/// when configured. Serves one request at a time; requests are small and
/// rare (the CLI, a Prometheus scrape).
class query_server {
public:
  query_server(query_handler handler);
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

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace auditree
