#include "runtime/event_interpreter.hpp"

#include "runtime/arch_table.hpp"
#include "runtime/audit_parser.hpp"
#include "runtime/record_types.hpp"

namespace auditree {

namespace {

// Clone flags that fork and vfork imply (SIGCHLD is 17 on every machine
// libaudit knows).
constexpr uint64_t sigchld = 17;
constexpr uint64_t clone_vm = 0x100;
constexpr uint64_t clone_vfork = 0x4000;

// The raw values of one record's fields that interpretation needs, found
// in a single pass over its text (absent fields stay empty).
struct record_fields {
  std::string_view arch, syscall, success, exit, a0, a1, sig;
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
        else if (key == "a1")
          f.a1 = value;
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

// A fork-family call's child and, where the record shows them, its clone
// flags. Returns false when exit= holds no child pid.
bool read_fork(const arch_info& arch, process_call what,
               const record_fields& fields, process_event& ev) {
  ev.action = process_action::fork;
  auto child = parse_signed(fields.exit);
  if (!child || *child <= 0 || *child > INT32_MAX)
    return false;
  ev.child = static_cast<int32_t>(*child);
  if (what == process_call::fork) {
    ev.clone_flags = sigchld;
    ev.clone_flags_known = true;
  } else if (what == process_call::vfork) {
    ev.clone_flags = clone_vm | clone_vfork | sigchld;
    ev.clone_flags_known = true;
  } else if (what == process_call::clone) {
    // The flags are a0 except on s390 (a1); clone3 passes a struct pointer.
    auto flags = parse_unsigned(
        clone_flags_argument(arch) == 1 ? fields.a1 : fields.a0, 16);
    if (flags) {
      ev.clone_flags = *flags;
      ev.clone_flags_known = true;
    }
  }
  return true;
}

// setpgid's pid (a0) and pgid (a1), both in the caller's pid namespace.
bool read_setpgid(const record_fields& fields, process_event& ev) {
  ev.action = process_action::setpgid;
  auto target = parse_unsigned(fields.a0, 16);
  auto pgid = parse_unsigned(fields.a1, 16);
  if (!target || !pgid || *target > INT32_MAX || *pgid > INT32_MAX)
    return false;
  ev.target = static_cast<int32_t>(*target);
  ev.pgid = static_cast<int32_t>(*pgid);
  return true;
}

// An exec's argv (from its EXECVE records) and cwd; the error says what
// did not reassemble.
const char* read_exec(const audit_event& event, process_event& ev) {
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
  if (!has_execve)
    return "exec without EXECVE record";
  ev.argv = args.finish();
  return args.error();
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
  auto arch_value = parse_unsigned(fields.arch, 16);
  auto nr = parse_unsigned(fields.syscall);
  if (!arch_value || !nr || *arch_value > UINT32_MAX) {
    result.error = "SYSCALL with malformed arch= or syscall=";
    return result;
  }
  auto arch = find_arch(static_cast<uint32_t>(*arch_value));
  if (arch == nullptr) {
    result.skipped = "unknown arch";
    return result;
  }
  auto what = classify(*arch, *nr);
  if (what == process_call::none) {
    result.skipped = "other syscall";
    return result;
  }
  // exit_group never returns, so its record has no success= or exit=.
  if (what != process_call::exit_group && fields.success != "yes") {
    result.skipped = "failed syscall";
    return result;
  }
  // Built in place: a process event is a dozen fields and strings, and
  // every event passes through here.
  auto& ev = result.event.emplace();
  ev.id = event.id;
  ev.sequence = event.sequence;
  ev.arch = arch->audit_arch;
  ev.syscall = call_name(what);
  if (!read_subject(fields, ev)) {
    result.event.reset();
    result.error = "SYSCALL without a valid pid=";
    return result;
  }
  switch (what) {
    case process_call::fork:
    case process_call::vfork:
    case process_call::clone:
    case process_call::clone3:
      if (!read_fork(*arch, what, fields, ev)) {
        result.event.reset();
        result.error = "fork without a child pid in exit=";
      }
      break;
    case process_call::execve:
    case process_call::execveat:
      result.error = read_exec(event, ev);
      break;
    case process_call::exit_group: {
      ev.action = process_action::exit;
      auto code = parse_unsigned(fields.a0, 16);
      ev.exit_code = code ? static_cast<int32_t>(*code & 0xff) : 0;
      break;
    }
    case process_call::setsid:
      ev.action = process_action::setsid;
      break;
    case process_call::setpgid:
      if (!read_setpgid(fields, ev)) {
        result.event.reset();
        result.error = "setpgid with malformed a0= or a1=";
      }
      break;
    case process_call::none:
      break;
  }
  return result;
}

} // namespace auditree
