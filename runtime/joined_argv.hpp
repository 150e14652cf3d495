#pragma once

// An argv kept as one string, its arguments joined with NUL bytes as in
// /proc/PID/cmdline: one allocation per exec instead of one per argument.

#include <string>
#include <vector>

namespace auditree {

/// `argv` joined with NUL bytes.
std::string join_argv(const std::vector<std::string>& argv);

/// The `argc` arguments of `joined`; the last one takes the rest.
std::vector<std::string> split_argv(const std::string& joined, size_t argc);

} // namespace auditree
