// The generated arch table against libaudit itself, at run time: every
// machine libaudit knows is in the table with its name and numbers, and
// the table holds nothing libaudit does not say.

#include "runtime/arch_table.hpp"

#include <catch2/catch.hpp>

#include <string>

#include <libaudit.h>

using namespace auditree;

namespace {

// machine_t grows with libaudit; probe well past its last value.
constexpr int machine_probe_limit = 64;

// The table's name for a machine: libaudit's, but "arm" for AUDIT_ARCH_ARM
// (little-endian), which libaudit names "armeb".
std::string table_name(int machine) {
  if (audit_machine_to_elf(machine) == AUDIT_ARCH_ARM)
    return "arm";
  return audit_machine_to_name(machine);
}

} // namespace

TEST_CASE("arch table: every machine libaudit knows, with its numbers") {
  int machines = 0;
  for (int m = 0; m < machine_probe_limit; ++m) {
    auto name = audit_machine_to_name(m);
    auto elf = audit_machine_to_elf(m);
    if (name == nullptr || elf == 0)
      continue;
    ++machines;
    INFO("machine " << m << " " << name);
    auto arch = find_arch(elf);
    REQUIRE(arch != nullptr);
    CHECK(std::string{arch->name} == table_name(m));
    CHECK(audit_elf_to_machine(arch->audit_arch) == m);
    for (auto call : all_process_calls) {
      std::string call_text{call_name(call)};
      INFO(call_text);
      int number = audit_name_to_syscall(call_text.c_str(), m);
      size_t found = 0;
      for (size_t i = 0; i < arch->call_count; ++i) {
        if (arch->calls[i].call != call)
          continue;
        ++found;
        CHECK(static_cast<int>(arch->calls[i].number) == number);
      }
      CHECK(found == (number < 0 ? 0u : 1u));
      if (number >= 0) {
        CHECK(classify(*arch, static_cast<uint64_t>(number)) == call);
        CHECK(std::string{audit_syscall_to_name(number, m)} == call_text);
      }
    }
  }
  CHECK(machines == static_cast<int>(known_arch_count));
  // At least the machines the issue names.
  for (auto name : {"x86_64", "i386", "aarch64", "ppc64le", "s390x"}) {
    INFO(name);
    auto m = audit_name_to_machine(name);
    REQUIRE(m >= 0);
    CHECK(find_arch(audit_machine_to_elf(m)) != nullptr);
  }
}

TEST_CASE("arch table: each entry is a machine libaudit maps back") {
  for (size_t i = 0; i < known_arch_count; ++i) {
    auto& arch = known_arches[i];
    INFO(arch.name);
    auto m = audit_elf_to_machine(arch.audit_arch);
    REQUIRE(m >= 0);
    CHECK(table_name(m) == arch.name);
    for (size_t j = 0; j < arch.call_count; ++j) {
      auto back = audit_syscall_to_name(static_cast<int>(arch.calls[j].number), m);
      REQUIRE(back != nullptr);
      CHECK(std::string{back} == call_name(arch.calls[j].call));
    }
  }
}
