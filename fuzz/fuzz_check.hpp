#pragma once

// What the fuzz targets share: a check that stops the run when an invariant
// breaks, and whether a line the agent emits is one valid JSON object.

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tests/json_reader.hpp"

namespace auditree::fuzz {

/// Stops the run with the broken invariant's text: libFuzzer saves the
/// input that broke it as a crash.
inline void check(bool ok, const char* what) {
  if (ok)
    return;
  std::fprintf(stderr, "fuzz: invariant broken: %s\n", what);
  std::abort();
}

/// True if `line` is one JSON object followed by exactly one newline.
inline bool valid_json_line(std::string_view line) {
  if (line.empty() || line.back() != '\n' || line.front() != '{')
    return false;
  line.remove_suffix(1);
  if (line.find('\n') != std::string_view::npos)
    return false;
  return test::json_reader{line}.valid();
}

} // namespace auditree::fuzz
