#include "runtime/audit_state_file.hpp"

#include <charconv>
#include <cstdint>
#include <cstdio>

namespace auditree {

namespace {

constexpr std::string_view magic = "auditree-state";

std::string octal(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", mode & 07777);
  return text;
}

// A whole decimal number (no sign, no spaces), or nullopt.
std::optional<int64_t> decimal(std::string_view text) {
  int64_t x = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()
      || x < 0)
    return std::nullopt;
  return x;
}

// Takes the next space-separated word off `text`.
std::string_view next_word(std::string_view& text) {
  auto space = text.find(' ');
  auto word = text.substr(0, space);
  text = space == std::string_view::npos ? std::string_view{}
                                         : text.substr(space + 1);
  return word;
}

// Reads `NAME=ORIGINAL:SET`, both in low..high when they differ.
bool read_change(std::string_view word, std::string_view name, int64_t low,
                 int64_t high, audit_setting_change& out, std::string& error) {
  if (word.substr(0, name.size()) != name || word.size() <= name.size()
      || word[name.size()] != '=') {
    error = "expected " + std::string{name} + "=ORIGINAL:SET";
    return false;
  }
  word.remove_prefix(name.size() + 1);
  auto colon = word.find(':');
  auto original = decimal(word.substr(0, colon));
  auto set = colon == std::string_view::npos ? std::nullopt
                                             : decimal(word.substr(colon + 1));
  if (!original || !set) {
    error = std::string{name} + ": not two decimal numbers ORIGINAL:SET";
    return false;
  }
  // A setting the run left alone is never applied: any value goes (a
  // backlog_limit above the bound is simply not raised).
  for (auto value : {*original, *set}) {
    if (value > int64_t{UINT32_MAX}
        || (*original != *set && (value < low || value > high))) {
      error = std::string{name} + "=" + std::to_string(value)
              + " out of range " + std::to_string(low) + ".."
              + std::to_string(high);
      return false;
    }
  }
  out.original = static_cast<uint32_t>(*original);
  out.set = static_cast<uint32_t>(*set);
  return true;
}

std::string format_change(const char* name, const audit_setting_change& x) {
  return std::string{" "} + name + "=" + std::to_string(x.original) + ":"
         + std::to_string(x.set);
}

} // namespace

std::string state_file_problem(bool regular, unsigned owner, unsigned mode) {
  if (!regular)
    return "not a regular file";
  if (owner != 0)
    return "owned by uid " + std::to_string(owner) + ", not root";
  if ((mode & 07777) != 0600)
    return "mode " + octal(mode) + ", not 0600";
  return {};
}

std::string state_dir_problem(bool directory, unsigned owner, unsigned mode) {
  if (!directory)
    return "its directory is not a directory";
  if (owner != 0)
    return "its directory is owned by uid " + std::to_string(owner)
           + ", not root";
  if ((mode & 022) != 0)
    return "its directory has mode " + octal(mode)
           + ": group or others may write to it";
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
  // next_word cannot tell "a b " from "a b" at the last word.
  bool trailing_space = !text.empty() && text.back() == ' ';
  if (next_word(text) != magic) {
    error = "does not start with " + std::string{magic};
    return std::nullopt;
  }
  saved_audit_state result;
  auto pid_word = next_word(text);
  auto pid = pid_word.substr(0, 4) == "pid=" ? decimal(pid_word.substr(4))
                                             : std::nullopt;
  if (!pid) {
    error = "expected pid=PID";
    return std::nullopt;
  }
  if (*pid < 1 || *pid > max_saved_pid) {
    error = "pid=" + std::to_string(*pid) + " out of range 1.."
            + std::to_string(max_saved_pid);
    return std::nullopt;
  }
  result.pid = *pid;
  bool ok
    = read_change(next_word(text), "enabled", 0, 1, result.enabled, error)
      && read_change(next_word(text), "backlog_limit", 0,
                     max_saved_backlog_limit, result.backlog_limit, error)
      && read_change(next_word(text), "backlog_wait_time", 0,
                     max_saved_backlog_wait_time, result.backlog_wait_time,
                     error)
      && read_change(next_word(text), "audit_pid", 0, max_saved_pid,
                     result.audit_pid, error);
  if (ok && (!text.empty() || trailing_space)) {
    error = "more than the five fields";
    ok = false;
  }
  if (!ok)
    return std::nullopt;
  return result;
}

std::string format_audit_state(const saved_audit_state& state) {
  return std::string{magic} + " pid=" + std::to_string(state.pid)
         + format_change("enabled", state.enabled)
         + format_change("backlog_limit", state.backlog_limit)
         + format_change("backlog_wait_time", state.backlog_wait_time)
         + format_change("audit_pid", state.audit_pid) + "\n";
}

} // namespace auditree
