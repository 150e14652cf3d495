#include "runtime/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "runtime/terminal_text.hpp"

namespace auditree::log {

namespace {

std::atomic<level> threshold{level::info};
std::mutex output_mutex;

const char* name(level x) {
  switch (x) {
    case level::error:
      return "error";
    case level::warning:
      return "warning";
    case level::info:
      return "info";
    case level::debug:
      return "debug";
  }
  return "?";
}

} // namespace

void set_level(level x) {
  threshold = x;
}

bool enabled(level x) {
  return x <= threshold.load();
}

void write(level x, const std::string& message) {
  // Messages quote names, ids and lines from user space, and stderr is
  // often a terminal: its control codes are shown escaped, never sent.
  auto safe = terminal_safe(message);
  std::lock_guard<std::mutex> guard{output_mutex};
  std::fprintf(stderr, "auditree %s: %s\n", name(x), safe.c_str());
}

} // namespace auditree::log
