#include "runtime/ecs_json.hpp"

#include "runtime/arch_table.hpp"
#include "runtime/container_labels.hpp"
#include "runtime/terminal_text.hpp"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace auditree {

namespace {

// Collects a line in a stack buffer and appends it to the string in large
// pieces: one string append per line instead of one per literal, number
// and string run (those appends were a third of the JSON's instructions).
// The owner calls flush() at the end (not a destructor: appending may
// throw).
class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {}

  json_writer(const json_writer&) = delete;
  json_writer& operator=(const json_writer&) = delete;

  void put(const char* data, size_t n) {
    if (n > sizeof(buf_) - size_) {
      flush();
      if (n > sizeof(buf_)) {
        out_.append(data, n);
        return;
      }
    }
    std::memcpy(buf_ + size_, data, n);
    size_ += n;
  }

  void put(std::string_view text) { put(text.data(), text.size()); }

  void put(char c) {
    if (size_ == sizeof(buf_))
      flush();
    buf_[size_++] = c;
  }

  template <class Integer>
  void number(Integer x) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof(buf), x);
    put(buf, static_cast<size_t>(res.ptr - buf));
  }

  void flush() {
    out_.append(buf_, size_);
    size_ = 0;
  }

private:
  std::string& out_;
  char buf_[512];
  size_t size_ = 0;
};

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xc0) == 0x80; };
  auto c = byte(i);
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(i + 1) || !cont(i + 2))
      return 0;
    // Reject overlong forms and UTF-16 surrogates.
    if ((c == 0xe0 && byte(i + 1) < 0xa0) || (c == 0xed && byte(i + 1) > 0x9f))
      return 0;
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3))
      return 0;
    if ((c == 0xf0 && byte(i + 1) < 0x90) || (c == 0xf4 && byte(i + 1) > 0x8f))
      return 0;
    return 4;
  }
  return 0;
}

// Bytes that stand for themselves in a JSON string: printable ASCII other
// than '"' and '\\'. A table makes the test one load per byte.
struct plain_bytes {
  bool is_plain[256] = {};

  constexpr plain_bytes() {
    for (int c = 0x20; c < 0x7f; ++c)
      is_plain[c] = c != '"' && c != '\\';
  }
};

constexpr plain_bytes plain;

void write_string(json_writer& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out.put('"');
  for (size_t i = 0; i < text.size();) {
    // Plain bytes are copied a run at a time rather than byte by byte.
    auto run = i;
    while (run < text.size()
           && plain.is_plain[static_cast<unsigned char>(text[run])])
      ++run;
    if (run > i) {
      out.put(text.data() + i, run - i);
      i = run;
      continue;
    }
    auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"':
        out.put("\\\"");
        ++i;
        continue;
      case '\\':
        out.put("\\\\");
        ++i;
        continue;
      case '\n':
        out.put("\\n");
        ++i;
        continue;
      case '\t':
        out.put("\\t");
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      out.put("\\u00");
      out.put(hex[c >> 4]);
      out.put(hex[c & 0xf]);
      ++i;
      continue;
    }
    auto n = utf8_length(text, i);
    if (n == 0) {
      out.put("\xef\xbf\xbd"); // U+FFFD
      ++i;
      continue;
    }
    // C1 controls and bidi marks are valid text, but a consumer that
    // prints the value raw would pass them to a terminal: escape them.
    char32_t cp = 0;
    if (n > 1 && decode_utf8(text, i, cp) == n && is_hidden_control(cp)) {
      out.put("\\u");
      for (int shift = 12; shift >= 0; shift -= 4)
        out.put(hex[(cp >> shift) & 0xf]);
      i += n;
      continue;
    }
    out.put(text.data() + i, n);
    i += n;
  }
  out.put('"');
}

void write_timestamp(json_writer& out, const event_id& id) {
  // Years 1970..9999 by hand (gmtime_r and snprintf were a tenth of a
  // replay's instructions); anything past that the slow, general way.
  constexpr uint64_t year_10000 = 253402300800;
  if (id.seconds >= year_10000) {
    auto seconds = static_cast<std::time_t>(id.seconds);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[40];
    auto n = std::snprintf(buf, sizeof(buf),
                           "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
                           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                           tm.tm_hour, tm.tm_min, tm.tm_sec,
                           static_cast<unsigned>(id.millis % 1000));
    out.put(buf, static_cast<size_t>(n));
    return;
  }
  // Days since 1970-01-01 to the civil date (Howard Hinnant's
  // civil_from_days, for days >= 0).
  auto days = id.seconds / 86400;
  auto secs = static_cast<unsigned>(id.seconds % 86400);
  auto z = days + 719468;
  auto era = z / 146097;
  auto doe = static_cast<unsigned>(z - era * 146097);
  auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  auto day = doy - (153 * mp + 2) / 5 + 1;
  auto month = mp < 10 ? mp + 3 : mp - 9;
  auto year = static_cast<unsigned>(yoe + era * 400) + (month <= 2 ? 1 : 0);
  auto millis = id.millis % 1000;
  char buf[25] = "0000-00-00T00:00:00.000Z";
  auto put = [&](size_t end, unsigned x, int width) {
    for (int i = 1; i <= width; ++i, x /= 10)
      buf[end - static_cast<size_t>(i)] = static_cast<char>('0' + x % 10);
  };
  put(4, year, 4);
  put(7, month, 2);
  put(10, day, 2);
  put(13, secs / 3600, 2);
  put(16, secs / 60 % 60, 2);
  put(19, secs % 60, 2);
  put(23, millis, 3);
  out.put(buf, 24);
}

void write_id(json_writer& out, const char* key, uint32_t id, bool& first) {
  if (id == process_event::unset_id)
    return;
  if (!first)
    out.put(',');
  first = false;
  out.put('"');
  out.put(key);
  out.put("\":\"");
  out.number(id);
  out.put('"');
}

// ECS's categorization (event.type per action): a fork and an exec start
// a process (as Auditbeat and Elastic Defend mark exec), an exit or abend
// ends it, a rename changes it.
const char* ecs_event_type(process_action action) {
  switch (action) {
    case process_action::fork:
    case process_action::exec:
      return "start";
    case process_action::exit:
    case process_action::abend:
      return "end";
    case process_action::rename:
    case process_action::setsid:
    case process_action::setpgid:
      return "change";
  }
  return "info";
}

bool is_known(const event_id& id) { return id.seconds != 0 || id.millis != 0; }

void write_stamp_field(json_writer& out, const char* key, const event_id& id) {
  out.put(",\"");
  out.put(key);
  out.put("\":\"");
  write_timestamp(out, id);
  out.put('"');
}

void write_string_field(json_writer& out, const char* key,
                        std::string_view value) {
  if (value.empty())
    return;
  out.put(",\"");
  out.put(key);
  out.put("\":");
  write_string(out, value);
}

void write_args(json_writer& out, const std::vector<std::string>& args) {
  out.put(",\"args\":[");
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0)
      out.put(',');
    write_string(out, args[i]);
  }
  out.put("],\"args_count\":");
  out.number(args.size());
}

// The `argc` arguments of an argv joined with NUL bytes, the last taking
// the rest, as split_argv reads them.
void write_joined_args(json_writer& out, std::string_view joined,
                       size_t argc) {
  out.put(",\"args\":[");
  size_t count = 0;
  size_t begin = 0;
  for (; count + 1 < argc; ++count) {
    auto nul = joined.find('\0', begin);
    if (nul == std::string_view::npos)
      break;
    if (count > 0)
      out.put(',');
    write_string(out, joined.substr(begin, nul - begin));
    begin = nul + 1;
  }
  if (count > 0)
    out.put(',');
  write_string(out, joined.substr(begin));
  out.put("],\"args_count\":");
  out.number(count + 1);
}

void write_event_fields(json_writer& out, const process_event& ev) {
  out.put("\",\"event\":{\"kind\":\"event\",\"category\":[\"process\"],"
          "\"type\":[\"");
  out.put(ecs_event_type(ev.action));
  out.put("\"],\"action\":\"");
  out.put(to_string(ev.action));
  out.put("\",\"id\":\"");
  out.number(ev.id.seconds);
  out.put('.');
  char ms[3] = {char('0' + ev.id.millis / 100 % 10),
                char('0' + ev.id.millis / 10 % 10),
                char('0' + ev.id.millis % 10)};
  out.put(ms, sizeof(ms));
  out.put(':');
  out.number(ev.id.serial);
  out.put("\"}");
}

// process.vpid / process.parent.vpid: the pid inside its own namespace.
void write_vpid(json_writer& out, int32_t vpid) {
  if (vpid <= 0)
    return;
  out.put(",\"vpid\":");
  out.number(vpid);
}

// process.parent: the pid the event names (the tree's when it names
// none), with the tree's lifetime of it.
void write_parent(json_writer& out, const process_event& ev) {
  auto& lin = ev.lineage;
  auto parent = stream_parent_pid(ev);
  if (parent <= 0)
    parent = lin.parent_pid;
  if (parent <= 0)
    return;
  out.put(",\"parent\":{\"pid\":");
  out.number(parent);
  if (parent == lin.parent_pid) {
    write_vpid(out, lin.parent_vpid);
    write_string_field(out, "entity_id", lin.parent_entity_id);
    write_string_field(out, "executable", lin.parent_exe);
    write_string_field(out, "name", lin.parent_name);
    if (lin.parent_argc > 0)
      write_joined_args(out, lin.parent_args, lin.parent_argc);
    if (is_known(lin.parent_start))
      write_stamp_field(out, "start", lin.parent_start);
  }
  out.put('}');
}

// process.entry_leader, with entry_meta.type (runtime/entry_leader).
void write_entry_leader(json_writer& out, const process_lineage& lin) {
  if (lin.entry_pid <= 0)
    return;
  out.put(",\"entry_leader\":{\"pid\":");
  out.number(lin.entry_pid);
  write_string_field(out, "entity_id", lin.entry_entity_id);
  write_string_field(out, "executable", lin.entry_exe);
  write_string_field(out, "name", lin.entry_name);
  if (is_known(lin.entry_start))
    write_stamp_field(out, "start", lin.entry_start);
  out.put(",\"entry_meta\":{\"type\":\"");
  out.put(lin.entry_type);
  out.put("\"}}");
}

// process.group_leader or process.session_leader (runtime/process_leaders).
void write_leader(json_writer& out, const char* key, const lineage_leader& l) {
  if (l.pid <= 0)
    return;
  out.put(",\"");
  out.put(key);
  out.put("\":{\"pid\":");
  out.number(l.pid);
  write_string_field(out, "entity_id", l.entity_id);
  write_string_field(out, "executable", l.exe);
  write_string_field(out, "name", l.name);
  if (is_known(l.start))
    write_stamp_field(out, "start", l.start);
  out.put('}');
}

void write_process(json_writer& out, const process_event& ev) {
  out.put(",\"process\":{\"pid\":");
  out.number(subject_pid(ev));
  write_string_field(out, "entity_id", ev.lineage.entity_id);
  // The tree's view, else a fork's own exit= (a child the table placed
  // under another pid).
  auto vpid = ev.lineage.vpid;
  if (vpid <= 0 && ev.action == process_action::fork)
    vpid = ev.vpid;
  write_vpid(out, vpid);
  if (is_known(ev.lineage.start))
    write_stamp_field(out, "start", ev.lineage.start);
  write_parent(out, ev);
  write_entry_leader(out, ev.lineage);
  write_leader(out, "group_leader", ev.lineage.group_leader);
  write_leader(out, "session_leader", ev.lineage.session_leader);
  write_string_field(out, "name", ev.comm);
  write_string_field(out, "executable", ev.exe);
  if (ev.action == process_action::exec) {
    write_args(out, ev.argv);
    write_string_field(out, "working_directory", ev.cwd);
  }
  if (ev.action == process_action::exit || ev.action == process_action::abend)
    write_stamp_field(out, "end", ev.id);
  if (ev.action == process_action::exit) {
    out.put(",\"exit_code\":");
    out.number(ev.exit_code);
  }
  out.put('}');
}

// user.id and user.effective.id; the audit (login) id has no ECS field and
// goes under auditree.
void write_user(json_writer& out, const process_event& ev) {
  if (ev.uid == process_event::unset_id && ev.euid == process_event::unset_id)
    return;
  out.put(",\"user\":{");
  bool first = true;
  write_id(out, "id", ev.uid, first);
  if (ev.euid != process_event::unset_id) {
    if (!first)
      out.put(',');
    out.put("\"effective\":{");
    bool inner = true;
    write_id(out, "id", ev.euid, inner);
    out.put('}');
  }
  out.put('}');
}

void write_host(json_writer& out, const process_event& ev) {
  auto& lin = ev.lineage;
  if (ev.host.empty() && lin.host_id.empty() && lin.boot_id.empty())
    return;
  out.put(",\"host\":{");
  bool first = true;
  auto sep = [&] {
    if (!first)
      out.put(',');
    first = false;
  };
  if (!ev.host.empty()) {
    sep();
    out.put("\"name\":");
    write_string(out, ev.host);
  }
  if (!lin.host_id.empty()) {
    sep();
    out.put("\"id\":");
    write_string(out, lin.host_id);
  }
  if (!lin.boot_id.empty()) {
    sep();
    out.put("\"boot\":{\"id\":");
    write_string(out, lin.boot_id);
    out.put('}');
  }
  out.put('}');
}

// auditree.process.ancestors (ECS has no such field): beyond the parent.
void write_ancestors(json_writer& out,
                     const std::vector<lineage_ancestor>& ancestors) {
  if (ancestors.empty())
    return;
  out.put(",\"process\":{\"ancestors\":[");
  bool first = true;
  for (auto& a : ancestors) {
    out.put(first ? "{\"pid\":" : ",{\"pid\":");
    first = false;
    out.number(a.pid);
    write_string_field(out, "entity_id", a.entity_id);
    write_string_field(out, "executable", a.exe);
    if (!a.args.empty())
      write_args(out, a.args);
    out.put('}');
  }
  out.put("]}");
}

// container: the runtime's own id, the runtime, and what its state said.
void write_container(json_writer& out, std::string_view key,
                     std::string_view runtime, std::string_view name,
                     std::string_view image) {
  out.put(",\"container\":{\"id\":");
  write_string(out, split_container_key(key, runtime).id);
  if (!name.empty()) {
    out.put(",\"name\":");
    write_string(out, name);
  }
  if (!runtime.empty()) {
    out.put(",\"runtime\":");
    write_string(out, runtime);
  }
  if (!image.empty()) {
    out.put(",\"image\":{\"name\":");
    write_string(out, image);
    out.put('}');
  }
  out.put('}');
}

// auditree.container.namespace: the tree key's part before the id when
// it is not the runtime's name (containerd's namespace, runc's cgroup
// parent), so that the key is `namespace/id`, else `runtime/id`.
void write_container_namespace(json_writer& out, std::string_view key,
                               std::string_view runtime) {
  if (key.empty())
    return;
  auto ns = split_container_key(key, runtime).ns;
  if (ns.empty())
    return;
  out.put(",\"container\":{\"namespace\":");
  write_string(out, ns);
  out.put('}');
}

void write_auditree(json_writer& out, const process_event& ev) {
  bool fork = ev.action == process_action::fork;
  out.put(",\"auditree\":{\"source\":\"");
  out.put(to_string(ev.source));
  out.put('"');
  if (!ev.syscall.empty()) {
    out.put(",\"syscall\":\"");
    out.put(ev.syscall);
    out.put('"');
  }
  if (ev.arch != 0) {
    out.put(",\"arch\":\"");
    // libaudit's machine name; the raw value for a machine it does not know.
    if (auto arch = find_arch(ev.arch)) {
      out.put(arch->name);
    } else {
      char buf[12];
      auto res = std::to_chars(buf, buf + sizeof(buf), ev.arch, 16);
      out.put(buf, static_cast<size_t>(res.ptr - buf));
    }
    out.put('"');
  }
  if (fork && ev.clone_flags_known) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof(buf), ev.clone_flags, 16);
    out.put(",\"clone_flags\":\"0x");
    out.put(buf, static_cast<size_t>(res.ptr - buf));
    out.put('"');
  }
  // The caller's own parent, as its record tells.
  if (fork && ev.ppid > 0) {
    out.put(",\"caller_ppid\":");
    out.number(ev.ppid);
  }
  if (ev.signal != 0) {
    out.put(",\"signal\":");
    out.number(ev.signal);
  }
  // An argv cut to max-args-bytes, and what it was.
  if (ev.args_original_bytes > 0) {
    out.put(",\"args_truncated\":true,\"args_original_bytes\":");
    out.number(ev.args_original_bytes);
    out.put(",\"args_original_count\":");
    out.number(ev.args_original_count);
  }
  if (ev.auid != process_event::unset_id) {
    out.put(",\"user\":{\"audit\":{\"id\":\"");
    out.number(ev.auid);
    out.put("\"}}");
  }
  write_ancestors(out, ev.lineage.ancestors);
  write_container_namespace(out, ev.container, ev.lineage.container_runtime);
  out.put('}');
}

} // namespace

void append_json_string(std::string& out, std::string_view text) {
  json_writer writer{out};
  write_string(writer, text);
  writer.flush();
}

void append_timestamp(std::string& out, const event_id& id) {
  json_writer writer{out};
  write_timestamp(writer, id);
  writer.flush();
}

void append_ecs_json(std::string& out_string, const process_event& ev) {
  json_writer out{out_string};
  out.put("{\"@timestamp\":\"");
  write_timestamp(out, ev.id);
  write_event_fields(out, ev);
  write_process(out, ev);
  write_user(out, ev);
  if (!ev.container.empty())
    write_container(out, ev.container, ev.lineage.container_runtime,
                    ev.lineage.container_name, ev.lineage.container_image);
  write_host(out, ev);
  write_auditree(out, ev);
  out.put("}\n");
  out.flush();
}

void append_ecs_json(std::string& out_string, const container_event& ev) {
  json_writer out{out_string};
  out.put("{\"@timestamp\":\"");
  write_timestamp(out, ev.at);
  out.put("\",\"event\":{\"kind\":\"event\",\"action\":\"");
  out.put(ev.started ? "container-start\"}" : "container-stop\"}");
  write_container(out, ev.id, ev.runtime, ev.name, ev.image);
  if (ev.init_pid > 0) {
    out.put(",\"process\":{\"pid\":");
    out.number(ev.init_pid);
    out.put('}');
  }
  if (!ev.host.empty()) {
    out.put(",\"host\":{\"name\":");
    write_string(out, ev.host);
    out.put('}');
  }
  // auditree.container.namespace, as write_container_namespace.
  if (auto ns = split_container_key(ev.id, ev.runtime).ns; !ns.empty()) {
    out.put(",\"auditree\":{\"container\":{\"namespace\":");
    write_string(out, ns);
    out.put("}}");
  }
  out.put("}\n");
  out.flush();
}

} // namespace auditree
