// Prints the kernel's audit state as one JSON object, for tests that must
// leave it as they found it: `audit_state KEY` also counts the rules whose
// key is exactly KEY.

#include <cstdio>

#include "actors/audit_control.hpp"

int main(int argc, char** argv) {
  auditree::audit_control control;
  if (!control.open()) {
    std::fprintf(stderr, "%s\n", control.error().c_str());
    return 1;
  }
  auto status = control.status();
  if (!status) {
    std::fprintf(stderr, "%s\n", control.error().c_str());
    return 1;
  }
  long rules = -1;
  if (argc > 1) {
    auto found = control.rules_with_key(argv[1]);
    if (!found) {
      std::fprintf(stderr, "%s\n", control.error().c_str());
      return 1;
    }
    rules = static_cast<long>(found->size());
  }
  std::printf("{\"enabled\":%u,\"failure\":%u,\"rate_limit\":%u,"
              "\"pid\":%u,\"backlog_limit\":%u,\"backlog_wait_time\":%u,"
              "\"lost\":%u,\"rules\":%ld}\n",
              status->enabled, status->failure, status->rate_limit,
              status->pid, status->backlog_limit, status->backlog_wait_time,
              status->lost, rules);
}
