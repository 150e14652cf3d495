#pragma once

#include <string>

namespace auditree {

/// The answer of the running agent to one GET, or why there is none.
struct query_result {
  /// 0 when the agent could not be reached.
  int status = 0;
  std::string body;
  std::string error;
};

/// Sends `GET target` (or POST, for control commands) to the agent's
/// query API on its unix socket.
query_result query_agent(const std::string& socket_path,
                         const std::string& target, bool post = false);

} // namespace auditree
