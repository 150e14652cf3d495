#include "runtime/ecs_json.hpp"

#include <charconv>
#include <ctime>

namespace auditree {

namespace {

void append_number(std::string& out, uint64_t x) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  out.append(buf, res.ptr);
}

void append_number(std::string& out, int64_t x) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  out.append(buf, res.ptr);
}

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

void append_id(std::string& out, const char* key, uint32_t id, bool& first) {
  if (id == process_event::unset_id)
    return;
  if (!first)
    out += ',';
  first = false;
  out += '"';
  out += key;
  out += "\":\"";
  append_number(out, uint64_t{id});
  out += '"';
}

} // namespace

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < text.size();) {
    // Printable ASCII other than '"' and '\\' stands for itself: append
    // each run of it at once rather than byte by byte.
    auto run = i;
    while (run < text.size() && text[run] >= 0x20 && text[run] < 0x7f
           && text[run] != '"' && text[run] != '\\')
      ++run;
    if (run > i) {
      out.append(text.data() + i, run - i);
      i = run;
      continue;
    }
    auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 0xf];
      ++i;
      continue;
    }
    auto n = utf8_length(text, i);
    if (n == 0) {
      out += "\xef\xbf\xbd"; // U+FFFD
      ++i;
      continue;
    }
    out.append(text.data() + i, n);
    i += n;
  }
  out += '"';
}

void append_timestamp(std::string& out, const event_id& id) {
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
    out.append(buf, static_cast<size_t>(n));
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
  char buf[24] = "0000-00-00T00:00:00.000";
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
  out.append(buf, 23);
  out += 'Z';
}

void append_ecs_json(std::string& out, const process_event& ev) {
  bool fork = ev.action == process_action::fork;
  out += "{\"@timestamp\":\"";
  append_timestamp(out, ev.id);
  out += "\",\"event\":{\"action\":\"";
  out += to_string(ev.action);
  out += "\",\"id\":\"";
  append_number(out, ev.id.seconds);
  out += '.';
  char ms[4] = {char('0' + ev.id.millis / 100 % 10),
                char('0' + ev.id.millis / 10 % 10),
                char('0' + ev.id.millis % 10), 0};
  out += ms;
  out += ':';
  append_number(out, uint64_t{ev.id.serial});
  out += "\"},\"process\":{\"pid\":";
  append_number(out, int64_t{fork ? ev.child : ev.pid});
  auto parent = fork ? ev.pid : ev.ppid;
  if (parent > 0) {
    out += ",\"parent\":{\"pid\":";
    append_number(out, int64_t{parent});
    out += '}';
  }
  if (!ev.comm.empty()) {
    out += ",\"name\":";
    append_json_string(out, ev.comm);
  }
  if (!ev.exe.empty()) {
    out += ",\"executable\":";
    append_json_string(out, ev.exe);
  }
  if (ev.action == process_action::exec) {
    out += ",\"args\":[";
    for (size_t i = 0; i < ev.argv.size(); ++i) {
      if (i > 0)
        out += ',';
      append_json_string(out, ev.argv[i]);
    }
    out += "],\"args_count\":";
    append_number(out, uint64_t{ev.argv.size()});
    if (!ev.cwd.empty()) {
      out += ",\"working_directory\":";
      append_json_string(out, ev.cwd);
    }
  }
  if (ev.action == process_action::exit) {
    out += ",\"exit_code\":";
    append_number(out, int64_t{ev.exit_code});
  }
  out += '}';
  if (ev.uid != process_event::unset_id || ev.euid != process_event::unset_id
      || ev.auid != process_event::unset_id) {
    out += ",\"user\":{";
    bool first = true;
    append_id(out, "id", ev.uid, first);
    if (ev.euid != process_event::unset_id) {
      out += first ? "" : ",";
      first = false;
      out += "\"effective\":{";
      bool inner = true;
      append_id(out, "id", ev.euid, inner);
      out += '}';
    }
    if (ev.auid != process_event::unset_id) {
      out += first ? "" : ",";
      first = false;
      out += "\"audit\":{";
      bool inner = true;
      append_id(out, "id", ev.auid, inner);
      out += '}';
    }
    out += '}';
  }
  if (!ev.container.empty()) {
    out += ",\"container\":{\"id\":";
    append_json_string(out, ev.container);
    out += '}';
  }
  out += ",\"auditree\":{\"source\":\"";
  out += to_string(ev.source);
  out += '"';
  if (!ev.syscall.empty()) {
    out += ",\"syscall\":\"";
    out += ev.syscall;
    out += '"';
  }
  if (ev.arch != 0) {
    out += ",\"arch\":\"";
    out += ev.arch == 0x40000003 ? "i386" : "x86_64";
    out += '"';
  }
  if (fork && ev.clone_flags_known) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof(buf), ev.clone_flags, 16);
    out += ",\"clone_flags\":\"0x";
    out.append(buf, res.ptr);
    out += '"';
  }
  if (fork) {
    // The caller's own parent, as its record tells.
    if (ev.ppid > 0) {
      out += ",\"caller_ppid\":";
      append_number(out, int64_t{ev.ppid});
    }
  }
  if (ev.signal != 0) {
    out += ",\"signal\":";
    append_number(out, int64_t{ev.signal});
  }
  out += "}}\n";
}

void append_ecs_json(std::string& out, const container_event& ev) {
  out += "{\"@timestamp\":\"";
  append_timestamp(out, ev.at);
  out += ev.started ? "\",\"event\":{\"action\":\"container-start\"}"
                    : "\",\"event\":{\"action\":\"container-stop\"}";
  out += ",\"container\":{\"id\":";
  append_json_string(out, ev.id);
  if (!ev.runtime.empty()) {
    out += ",\"runtime\":";
    append_json_string(out, ev.runtime);
  }
  out += '}';
  if (ev.init_pid > 0) {
    out += ",\"process\":{\"pid\":";
    append_number(out, int64_t{ev.init_pid});
    out += '}';
  }
  out += "}\n";
}

} // namespace auditree
