#pragma once

// The query API's routes, parsed from an HTTP method and target. Pure, so
// every path, parameter and error is tested without a socket.

#include <cstdint>
#include <string>
#include <string_view>

namespace auditree {

struct query_route {
  enum kind_t {
    tree_view,      ///< GET /tree[?container=ID][&host=NAME]
    container_list, ///< GET /containers
    container_tree, ///< GET /containers/{id}: that container's tree
    process_list,   ///< GET /processes[?container=ID][&host=NAME]
    process_view,   ///< GET /processes/{pid|entity_id}: with ancestry
    metrics,        ///< GET /metrics (Prometheus text)
    stats,          ///< GET /stats: loss ledger and counters
    health,     ///< GET /healthz
    crash,      ///< POST /ctl/crash/{actor}[?how=throw|kill]: fault injection
    error,      ///< `status` and `message` say why
  };

  kind_t kind = error;
  /// Container id (from the path or ?container=).
  std::string container;
  /// ?host=NAME: one host's processes (a node= name, `-` for the records
  /// without one); empty: every host.
  std::string host;
  int32_t pid = 0;
  /// process_view by process.entity_id instead of pid (then `pid` is 0).
  std::string entity_id;
  /// For crash: the supervisor's name of the actor, and whether it is
  /// killed (else it throws).
  std::string actor;
  bool kill = false;
  /// ?format=json (the default) or ?format=text.
  bool json = true;
  /// For errors: the HTTP status (400, 404, 405) and a message.
  int status = 0;
  std::string message;
};

/// Maps a request to a route. GET (and HEAD) read; POST only under /ctl/.
query_route route_query(std::string_view method, std::string_view target);

/// Decodes %XX escapes and '+' in a URL component; nullopt-like empty
/// result with `ok = false` on a bad escape.
std::string url_decode(std::string_view s, bool& ok);

} // namespace auditree
