#include "runtime/audit_state_file.hpp"

#include <charconv>
#include <cstdio>
#include <vector>

namespace auditree {

std::string state_file_problem(bool regular, unsigned owner, unsigned mode) {
  if (!regular)
    return "not a regular file";
  if (owner != 0)
    return "owned by uid " + std::to_string(owner) + ", not root";
  if ((mode & 07777) != 0600) {
    char octal[8];
    std::snprintf(octal, sizeof(octal), "%04o", mode & 07777);
    return std::string{"mode "} + octal + ", not 0600";
  }
  return {};
}

std::optional<saved_audit_state> parse_audit_state(std::string_view text,
                                                   std::string& error) {
  if (text.size() > max_state_file_bytes) {
    error = "longer than " + std::to_string(max_state_file_bytes) + " bytes";
    return std::nullopt;
  }
  if (text.empty() || text.back() != '\n') {
    error = "not one whole line";
    return std::nullopt;
  }
  text.remove_suffix(1);
  std::vector<int64_t> values;
  auto fail = [&] {
    error = "not four decimal numbers separated by single spaces";
    return std::nullopt;
  };
  const char* at = text.data();
  const char* end = at + text.size();
  for (;;) {
    int64_t x = 0;
    auto [ptr, ec] = std::from_chars(at, end, x);
    if (ec != std::errc{} || x < 0)
      return fail();
    values.push_back(x);
    if (ptr == end)
      break;
    if (*ptr != ' ' || values.size() == 4)
      return fail();
    at = ptr + 1;
  }
  if (values.size() != 4)
    return fail();
  auto out_of_range = [&](const char* name, int64_t value, int64_t low,
                          int64_t high) {
    error = std::string{name} + "=" + std::to_string(value) + " out of range "
            + std::to_string(low) + ".." + std::to_string(high);
    return std::nullopt;
  };
  if (values[0] < 1 || values[0] > max_saved_pid)
    return out_of_range("pid", values[0], 1, max_saved_pid);
  if (values[1] > 1)
    return out_of_range("enabled", values[1], 0, 1);
  if (values[2] > max_saved_backlog_limit)
    return out_of_range("backlog_limit", values[2], 0,
                        max_saved_backlog_limit);
  if (values[3] > max_saved_backlog_wait_time)
    return out_of_range("backlog_wait_time", values[3], 0,
                        max_saved_backlog_wait_time);
  saved_audit_state result;
  result.pid = values[0];
  result.enabled = static_cast<uint32_t>(values[1]);
  result.backlog_limit = static_cast<uint32_t>(values[2]);
  result.backlog_wait_time = static_cast<uint32_t>(values[3]);
  return result;
}

std::string format_audit_state(const saved_audit_state& state) {
  return std::to_string(state.pid) + ' ' + std::to_string(state.enabled) + ' '
         + std::to_string(state.backlog_limit) + ' '
         + std::to_string(state.backlog_wait_time) + '\n';
}

} // namespace auditree
