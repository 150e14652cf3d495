#include "actors/audit_control.hpp"

#include "runtime/arch_table.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>

#include <libaudit.h>

// libaudit keeps the rule being built in exported globals that auditctl
// sets itself: key= is refused unless a syscall was added, and syscall
// names resolve for the arch of the last arch= pair.
extern "C" {
extern int _audit_syscalladded;
extern int _audit_archadded;
extern unsigned int _audit_elf;
}

namespace auditree {

namespace {

const audit_rule_data* view(const kernel_rule& rule) {
  return reinterpret_cast<const audit_rule_data*>(rule.data());
}

kernel_rule copy(const audit_rule_data* rule) {
  auto size = sizeof(audit_rule_data) + rule->buflen;
  auto bytes = reinterpret_cast<const char*>(rule);
  return kernel_rule(bytes, bytes + size);
}

// Fields whose value is a string in the rule's buffer (values[i] = length).
bool is_string_field(uint32_t field) {
  switch (field) {
    case AUDIT_SUBJ_USER:
    case AUDIT_SUBJ_ROLE:
    case AUDIT_SUBJ_TYPE:
    case AUDIT_SUBJ_SEN:
    case AUDIT_SUBJ_CLR:
    case AUDIT_OBJ_USER:
    case AUDIT_OBJ_ROLE:
    case AUDIT_OBJ_TYPE:
    case AUDIT_OBJ_LEV_LOW:
    case AUDIT_OBJ_LEV_HIGH:
    case AUDIT_WATCH:
    case AUDIT_DIR:
    case AUDIT_FILTERKEY:
    case AUDIT_EXE:
      return true;
    default:
      return false;
  }
}

// A system call on some machine libaudit knows (a typo is on none); the
// generated arch table lists those machines.
bool is_syscall_anywhere(const std::string& name) {
  for (size_t i = 0; i < known_arch_count; ++i) {
    int machine = audit_elf_to_machine(known_arches[i].audit_arch);
    if (machine >= 0 && audit_name_to_syscall(name.c_str(), machine) >= 0)
      return true;
  }
  return false;
}

} // namespace

audit_control::~audit_control() {
  if (fd_ >= 0)
    audit_close(fd_);
}

bool audit_control::fail(const std::string& what, int err) {
  error_ = what;
  if (err != 0)
    error_ += std::string{": "} + std::strerror(err < 0 ? -err : err);
  return false;
}

bool audit_control::open() {
  fd_ = audit_open();
  if (fd_ < 0)
    return fail("cannot open the audit netlink socket", errno);
  return true;
}

std::optional<kernel_audit_status> audit_control::status() {
  if (auto rc = audit_request_status(fd_); rc <= 0) {
    fail("AUDIT_GET failed", rc < 0 ? rc : errno);
    return std::nullopt;
  }
  // The reply follows at once; never wait forever for it.
  for (int tries = 0; tries < 50; ++tries) {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0)
      continue;
    audit_reply rep{};
    if (audit_get_reply(fd_, &rep, GET_REPLY_NONBLOCKING, 0) <= 0)
      continue;
    if (rep.type == NLMSG_ERROR && rep.error->error != 0) {
      fail("AUDIT_GET refused", rep.error->error);
      return std::nullopt;
    }
    if (rep.type != AUDIT_GET)
      continue;
    kernel_audit_status result;
    result.enabled = rep.status->enabled;
    result.failure = rep.status->failure;
    result.pid = rep.status->pid;
    result.rate_limit = rep.status->rate_limit;
    result.backlog_limit = rep.status->backlog_limit;
    result.lost = rep.status->lost;
    result.backlog = rep.status->backlog;
    result.backlog_wait_time = rep.status->backlog_wait_time;
    result.backlog_wait_time_actual = rep.status->backlog_wait_time_actual;
    return result;
  }
  fail("AUDIT_GET: no reply from the kernel", 0);
  return std::nullopt;
}

bool audit_control::set_enabled(uint32_t enabled) {
  auto rc = audit_set_enabled(fd_, enabled);
  return rc > 0 || fail("cannot set audit enabled=" + std::to_string(enabled),
                        rc < 0 ? rc : errno);
}

bool audit_control::set_backlog_limit(uint32_t limit) {
  auto rc = audit_set_backlog_limit(fd_, limit);
  return rc > 0 || fail("cannot set backlog_limit=" + std::to_string(limit),
                        rc < 0 ? rc : errno);
}

bool audit_control::set_backlog_wait_time(uint32_t wait) {
  auto rc = audit_set_backlog_wait_time(fd_, wait);
  return rc > 0
         || fail("cannot set backlog_wait_time=" + std::to_string(wait),
                 rc < 0 ? rc : errno);
}

bool audit_control::set_pid(uint32_t pid) {
  auto rc = audit_set_pid(fd_, pid, WAIT_YES);
  return rc > 0 || fail("cannot set the audit pid to " + std::to_string(pid),
                        rc < 0 ? rc : errno);
}

built_rule audit_control::build(const audit_rule_spec& spec,
                                 const std::string& key,
                                 uint32_t exclude_pid) {
  built_rule result;
  error_.clear();
  auto where = "rule on line " + std::to_string(spec.line) + ": ";
  auto list = audit_name_to_flag(spec.list.c_str());
  auto action = audit_name_to_action(spec.action.c_str());
  if (list < 0 || action < 0) {
    fail(where + "unknown list or action", 0);
    return result;
  }
  _audit_syscalladded = 0;
  _audit_archadded = 0;
  _audit_elf = 0;
  auto rule = audit_rule_create_data();
  auto add_pair = [&](const std::string& pair) {
    std::string buffer = pair; // libaudit writes into the pair.
    auto rc = audit_rule_fieldpair_data(&rule, buffer.data(), list);
    if (rc != 0)
      fail(where + "bad field " + pair + " (libaudit error " + std::to_string(rc) + ")", 0);
    return rc == 0;
  };
  // The arch pair first: libaudit resolves syscall names for it.
  bool ok = true;
  for (auto& pair : spec.fields)
    ok = ok && add_pair(pair);
  auto machine = _audit_elf != 0 ? audit_elf_to_machine(_audit_elf)
                                 : audit_detect_machine();
  if (auto name = audit_machine_to_name(machine))
    result.machine = name;
  for (auto& name : spec.syscalls) {
    if (!ok)
      break;
    if (audit_rule_syscallbyname_data(rule, name.c_str()) == 0) {
      _audit_syscalladded = 1;
    } else if (is_syscall_anywhere(name)) {
      result.left_out.push_back(name);
    } else {
      fail(where + "unknown syscall " + name, 0);
      ok = false;
    }
  }
  // Every name left out: a rule without syscalls would match none (or,
  // read as auditctl does, all); install nothing instead.
  bool nothing_left = !spec.syscalls.empty() && _audit_syscalladded == 0;
  if (ok && !nothing_left && exclude_pid != 0)
    ok = add_pair("pid!=" + std::to_string(exclude_pid));
  ok = ok && !nothing_left && add_pair("key=" + key);
  if (ok) {
    rule->flags = static_cast<uint32_t>(list);
    rule->action = static_cast<uint32_t>(action);
    result.rule = copy(rule);
  }
  audit_rule_free_data(rule);
  return result;
}

bool audit_control::add(const kernel_rule& rule) {
  auto copy = rule;
  auto data = reinterpret_cast<audit_rule_data*>(copy.data());
  auto rc = audit_add_rule_data(fd_, data, static_cast<int>(data->flags),
                                static_cast<int>(data->action));
  return rc > 0 || fail("cannot add rule", rc < 0 ? rc : errno);
}

bool audit_control::remove(const kernel_rule& rule) {
  auto copy = rule;
  auto data = reinterpret_cast<audit_rule_data*>(copy.data());
  auto rc = audit_delete_rule_data(fd_, data, static_cast<int>(data->flags),
                                   static_cast<int>(data->action));
  return rc > 0 || fail("cannot delete rule", rc < 0 ? rc : errno);
}

std::optional<std::vector<kernel_rule>>
audit_control::rules_with_key(const std::string& key) {
  if (auto rc = audit_request_rules_list_data(fd_); rc <= 0) {
    fail("cannot list rules", rc < 0 ? rc : errno);
    return std::nullopt;
  }
  std::vector<kernel_rule> result;
  for (;;) {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 1000) <= 0) {
      fail("listing rules: no reply from the kernel", 0);
      return std::nullopt;
    }
    audit_reply rep{};
    if (audit_get_reply(fd_, &rep, GET_REPLY_NONBLOCKING, 0) <= 0)
      continue;
    if (rep.type == NLMSG_DONE)
      return result;
    if (rep.type == NLMSG_ERROR) {
      if (rep.error->error == 0)
        continue;
      fail("listing rules refused", rep.error->error);
      return std::nullopt;
    }
    if (rep.type != AUDIT_LIST_RULES)
      continue;
    auto rule = copy(rep.ruledata);
    if (rule_key(rule) == key)
      result.push_back(std::move(rule));
  }
}

std::string rule_key(const kernel_rule& rule) {
  auto data = view(rule);
  size_t offset = 0;
  for (uint32_t i = 0; i < data->field_count && i < AUDIT_MAX_FIELDS; ++i) {
    auto field = data->fields[i];
    if (!is_string_field(field))
      continue;
    auto len = data->values[i];
    if (offset + len > data->buflen)
      return {};
    if (field == AUDIT_FILTERKEY)
      return std::string{data->buf + offset, len};
    offset += len;
  }
  return {};
}

} // namespace auditree
