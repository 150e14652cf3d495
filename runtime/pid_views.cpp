#include "runtime/pid_views.hpp"

#include <charconv>

namespace auditree {

int32_t parse_nspid(std::string_view text) {
  auto pos = text.find("\nNSpid:");
  if (pos == std::string_view::npos)
    return 0;
  auto line = text.substr(pos + 7);
  line = line.substr(0, line.find('\n'));
  int32_t last = 0;
  int num_values = 0;
  while (!line.empty()) {
    auto skip = line.find_first_not_of(" \t");
    if (skip == std::string_view::npos)
      break;
    line.remove_prefix(skip);
    auto word = line.substr(0, line.find_first_of(" \t"));
    line.remove_prefix(word.size());
    int32_t value = 0;
    auto [end, err] =
        std::from_chars(word.data(), word.data() + word.size(), value);
    if (err != std::errc{} || end != word.data() + word.size() || value <= 0)
      return 0;
    last = value;
    ++num_values;
  }
  return num_values > 1 ? last : 0;
}

int32_t vpid_after(int32_t known, const process_event& ev) {
  if (ev.source == fact_source::proc_scan && ev.vpid > 0)
    return ev.vpid;
  return known;
}

int32_t init_vpid(int32_t known) {
  return known > 0 ? known : 1;
}

} // namespace auditree
