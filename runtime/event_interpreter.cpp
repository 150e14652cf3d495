#include "runtime/event_interpreter.hpp"

#include "runtime/audit_parser.hpp"
#include "runtime/record_types.hpp"

namespace auditree {

namespace {

constexpr uint32_t arch_x86_64 = 0xc000003e;
constexpr uint32_t arch_i386 = 0x40000003;

// Clone flags that fork and vfork imply.
constexpr uint64_t sigchld = 17;
constexpr uint64_t clone_vm = 0x100;
constexpr uint64_t clone_vfork = 0x4000;

enum class call { none, fork, vfork, clone, clone3, execve, execveat, exit };

struct syscall_entry {
  uint32_t number;
  call what;
};

constexpr syscall_entry x86_64_calls[] = {
  {56, call::clone},   {57, call::fork},      {58, call::vfork},
  {435, call::clone3}, {59, call::execve},    {322, call::execveat},
  {231, call::exit},
};

constexpr syscall_entry i386_calls[] = {
  {120, call::clone},  {2, call::fork},       {190, call::vfork},
  {435, call::clone3}, {11, call::execve},    {358, call::execveat},
  {252, call::exit},
};

call classify(uint32_t arch, uint64_t number) {
  auto lookup = [number](const auto& table) {
    for (auto& e : table)
      if (e.number == number)
        return e.what;
    return call::none;
  };
  if (arch == arch_x86_64)
    return lookup(x86_64_calls);
  if (arch == arch_i386)
    return lookup(i386_calls);
  return call::none;
}

const char* name(call c) {
  switch (c) {
    case call::fork:
      return "fork";
    case call::vfork:
      return "vfork";
    case call::clone:
      return "clone";
    case call::clone3:
      return "clone3";
    case call::execve:
      return "execve";
    case call::execveat:
      return "execveat";
    case call::exit:
      return "exit_group";
    case call::none:
      break;
  }
  return "";
}

// The raw values of one record's fields that interpretation needs, found
// in a single pass over its text (absent fields stay empty).
struct record_fields {
  std::string_view arch, syscall, success, exit, a0, sig;
  std::string_view pid, ppid, uid, euid, auid, comm, exe;
};

record_fields scan_fields(std::string_view text) {
  record_fields f;
  field_cursor cursor{text};
  std::string_view key;
  std::string_view value;
  while (cursor.next(key, value)) {
    if (key.empty())
      continue;
    switch (key.front()) {
      case 'a':
        if (key == "arch")
          f.arch = value;
        else if (key == "a0")
          f.a0 = value;
        else if (key == "auid")
          f.auid = value;
        break;
      case 'c':
        if (key == "comm")
          f.comm = value;
        break;
      case 'e':
        if (key == "exit")
          f.exit = value;
        else if (key == "exe")
          f.exe = value;
        else if (key == "euid")
          f.euid = value;
        break;
      case 'p':
        if (key == "pid")
          f.pid = value;
        else if (key == "ppid")
          f.ppid = value;
        break;
      case 's':
        if (key == "syscall")
          f.syscall = value;
        else if (key == "success")
          f.success = value;
        else if (key == "sig")
          f.sig = value;
        break;
      case 'u':
        if (key == "uid")
          f.uid = value;
        break;
      default:
        break;
    }
  }
  return f;
}

// Fills the facts every process record shares (pid, ppid, credentials,
// comm, exe). Returns false if pid= is missing or malformed.
bool read_subject(const record_fields& f, process_event& out) {
  auto pid = parse_unsigned(f.pid);
  if (!pid || *pid == 0 || *pid > INT32_MAX)
    return false;
  out.pid = static_cast<int32_t>(*pid);
  if (auto n = parse_unsigned(f.ppid); n && *n <= INT32_MAX)
    out.ppid = static_cast<int32_t>(*n);
  auto id = [](std::string_view v) {
    auto n = parse_unsigned(v);
    return n && *n <= UINT32_MAX ? static_cast<uint32_t>(*n)
                                 : process_event::unset_id;
  };
  out.uid = id(f.uid);
  out.euid = id(f.euid);
  out.auid = id(f.auid);
  if (!f.comm.empty())
    out.comm = decode_untrusted(f.comm).value_or(std::string{});
  if (!f.exe.empty())
    out.exe = decode_untrusted(f.exe).value_or(std::string{});
  return true;
}

interpretation interpret_abend(const audit_event& event,
                               const audit_record& record) {
  interpretation result;
  process_event ev;
  ev.action = process_action::abend;
  ev.id = event.id;
  ev.sequence = event.sequence;
  auto fields = scan_fields(record.text());
  if (!read_subject(fields, ev)) {
    result.error = "ANOM_ABEND without a valid pid=";
    return result;
  }
  if (auto n = parse_unsigned(fields.sig); n && *n < 128)
    ev.signal = static_cast<int32_t>(*n);
  result.event = std::move(ev);
  return result;
}

} // namespace

interpretation interpret(const audit_event& event) {
  interpretation result;
  const audit_record* syscall = nullptr;
  for (auto& rec : event.records) {
    if (rec.type == record_types::syscall) {
      syscall = &rec;
      break;
    }
    if (rec.type == record_types::anom_abend)
      return interpret_abend(event, rec);
  }
  if (syscall == nullptr) {
    result.skipped = "other record types";
    return result;
  }
  auto fields = scan_fields(syscall->text());
  if (fields.arch.empty() || fields.syscall.empty()) {
    result.error = "SYSCALL without arch= or syscall=";
    return result;
  }
  auto arch = parse_unsigned(fields.arch, 16);
  auto nr = parse_unsigned(fields.syscall);
  if (!arch || !nr || *arch > UINT32_MAX) {
    result.error = "SYSCALL with malformed arch= or syscall=";
    return result;
  }
  auto what = classify(static_cast<uint32_t>(*arch), *nr);
  if (what == call::none) {
    result.skipped = *arch == arch_x86_64 || *arch == arch_i386
                       ? "other syscall"
                       : "unknown arch";
    return result;
  }
  // exit_group never returns, so its record has no success= or exit=.
  if (what != call::exit && fields.success != "yes") {
    result.skipped = "failed syscall";
    return result;
  }
  // Built in place: a process event is a dozen fields and strings, and
  // every event passes through here.
  auto& ev = result.event.emplace();
  ev.id = event.id;
  ev.sequence = event.sequence;
  ev.arch = static_cast<uint32_t>(*arch);
  ev.syscall = name(what);
  if (!read_subject(fields, ev)) {
    result.event.reset();
    result.error = "SYSCALL without a valid pid=";
    return result;
  }
  auto a0 = parse_unsigned(fields.a0, 16);
  switch (what) {
    case call::fork:
    case call::vfork:
    case call::clone:
    case call::clone3: {
      ev.action = process_action::fork;
      auto child = parse_signed(fields.exit);
      if (!child || *child <= 0 || *child > INT32_MAX) {
        result.event.reset();
        result.error = "fork without a child pid in exit=";
        return result;
      }
      ev.child = static_cast<int32_t>(*child);
      if (what == call::fork) {
        ev.clone_flags = sigchld;
        ev.clone_flags_known = true;
      } else if (what == call::vfork) {
        ev.clone_flags = clone_vm | clone_vfork | sigchld;
        ev.clone_flags_known = true;
      } else if (what == call::clone && a0) {
        // clone's first argument is the flags on both x86_64 and i386;
        // clone3 passes a struct pointer.
        ev.clone_flags = *a0;
        ev.clone_flags_known = true;
      }
      break;
    }
    case call::execve:
    case call::execveat: {
      ev.action = process_action::exec;
      execve_reassembler args;
      bool has_execve = false;
      for (auto& rec : event.records) {
        if (rec.type == record_types::execve) {
          has_execve = true;
          args.add(rec.text());
        } else if (rec.type == record_types::cwd) {
          if (auto cwd = find_field(rec.text(), "cwd"))
            ev.cwd = decode_untrusted(*cwd).value_or(std::string{});
        }
      }
      if (has_execve) {
        ev.argv = args.finish();
        result.error = args.error();
      } else {
        result.error = "exec without EXECVE record";
      }
      break;
    }
    case call::exit:
      ev.action = process_action::exit;
      ev.exit_code = a0 ? static_cast<int32_t>(*a0 & 0xff) : 0;
      break;
    case call::none:
      break;
  }
  return result;
}

} // namespace auditree
