#pragma once

// A small logger: CAF_LOG_* is compiled out of Debian's CAF. Lines go to
// stderr as `auditree LEVEL: message`; safe to call from any thread.

#include <sstream>
#include <string>

namespace auditree::log {

enum class level { error, warning, info, debug };

/// Messages above this level are dropped (default: info).
void set_level(level x);
bool enabled(level x);
void write(level x, const std::string& message);

template <class... Ts>
void emit(level x, const Ts&... xs) {
  if (!enabled(x))
    return;
  std::ostringstream out;
  (out << ... << xs);
  write(x, out.str());
}

template <class... Ts>
void error(const Ts&... xs) {
  emit(level::error, xs...);
}

template <class... Ts>
void warning(const Ts&... xs) {
  emit(level::warning, xs...);
}

template <class... Ts>
void info(const Ts&... xs) {
  emit(level::info, xs...);
}

template <class... Ts>
void debug(const Ts&... xs) {
  emit(level::debug, xs...);
}

} // namespace auditree::log
