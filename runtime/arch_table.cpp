#include "runtime/arch_table.hpp"

namespace auditree {

namespace {

// The ELF machine is the low 16 bits of an AUDIT_ARCH_* value.
constexpr uint32_t elf_machine_mask = 0xffff;
constexpr uint32_t em_s390 = 22;

} // namespace

const process_call all_process_calls[9] = {
  process_call::fork,   process_call::vfork,    process_call::clone,
  process_call::clone3, process_call::execve,   process_call::execveat,
  process_call::exit_group, process_call::setsid, process_call::setpgid,
};

std::string_view call_name(process_call call) {
  switch (call) {
    case process_call::fork:
      return "fork";
    case process_call::vfork:
      return "vfork";
    case process_call::clone:
      return "clone";
    case process_call::clone3:
      return "clone3";
    case process_call::execve:
      return "execve";
    case process_call::execveat:
      return "execveat";
    case process_call::exit_group:
      return "exit_group";
    case process_call::setsid:
      return "setsid";
    case process_call::setpgid:
      return "setpgid";
    case process_call::none:
      break;
  }
  return "";
}

const arch_info* find_arch(uint32_t audit_arch) {
  for (size_t i = 0; i < known_arch_count; ++i)
    if (known_arches[i].audit_arch == audit_arch)
      return &known_arches[i];
  return nullptr;
}

process_call classify(const arch_info& arch, uint64_t number) {
  for (size_t i = 0; i < arch.call_count; ++i)
    if (arch.calls[i].number == number)
      return arch.calls[i].call;
  return process_call::none;
}

int clone_flags_argument(const arch_info& arch) {
  // kernel/fork.c: CONFIG_CLONE_BACKWARDS2 puts newsp first and the flags
  // second; only s390 selects it among libaudit's machines.
  return (arch.audit_arch & elf_machine_mask) == em_s390 ? 1 : 0;
}

} // namespace auditree
