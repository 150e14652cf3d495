#pragma once

// Audit record type numbers and names (linux/audit.h, as libaudit 3.0.9
// prints them). Pure: no libaudit.

#include <cstdint>
#include <optional>
#include <string_view>

namespace auditree::record_types {

constexpr uint32_t syscall = 1300;
constexpr uint32_t path = 1302;
constexpr uint32_t cwd = 1307;
constexpr uint32_t execve = 1309;
constexpr uint32_t eoe = 1320;
constexpr uint32_t proctitle = 1327;
constexpr uint32_t anom_abend = 1701;

/// The number for a name such as `SYSCALL` or `UNKNOWN[1234]`.
std::optional<uint32_t> number(std::string_view name);

/// The name of a type number; empty if libaudit has no name for it.
std::string_view name(uint32_t type);

/// True for auditd's own records (1200-1299): auditd numbers them itself,
/// so their serials are not the kernel's.
constexpr bool is_daemon(uint32_t type) {
  return type >= 1200 && type < 1300;
}

/// True for types the kernel or user space logs outside a syscall, which
/// therefore never get an EOE: user and daemon messages (1100-1299,
/// 2100-2999) and anomalies (1700-1799).
constexpr bool is_standalone(uint32_t type) {
  return (type >= 1100 && type < 1300) || (type >= 1700 && type < 1800)
         || (type >= 2100 && type < 3000);
}

} // namespace auditree::record_types
