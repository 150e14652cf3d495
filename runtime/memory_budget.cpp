#include "runtime/memory_budget.hpp"

#include <algorithm>

namespace auditree {

namespace {

// The largest cut of `arg` at most `room` bytes long that ends before a
// UTF-8 sequence (a continuation byte never starts the rest).
size_t utf8_cut(const std::string& arg, size_t room) {
  if (room >= arg.size())
    return arg.size();
  auto cut = room;
  // At most three continuation bytes follow a lead byte.
  for (int i = 0; i < 3 && cut > 0; ++i) {
    auto byte = static_cast<unsigned char>(arg[cut]);
    if ((byte & 0xc0) != 0x80)
      break;
    --cut;
  }
  auto byte = static_cast<unsigned char>(arg[cut]);
  return (byte & 0xc0) == 0x80 ? room : cut; // not UTF-8: cut at the byte
}

// How many arguments stay, and the bytes of the last one kept.
std::pair<size_t, size_t> plan_cut(const std::vector<std::string>& argv,
                                   size_t max_bytes) {
  size_t used = 0;
  for (size_t i = 0; i < argv.size(); ++i) {
    size_t sep = i > 0 ? 1 : 0;
    if (used + sep + argv[i].size() <= max_bytes) {
      used += sep + argv[i].size();
      continue;
    }
    // No room even for the separator: the argument goes whole.
    if (used + sep >= max_bytes)
      return {i, i > 0 ? argv[i - 1].size() : 0};
    return {i + 1, utf8_cut(argv[i], max_bytes - used - sep)};
  }
  return {argv.size(), argv.empty() ? 0 : argv.back().size()};
}

uint64_t highest_bit(uint64_t x) {
  uint64_t bit = 1;
  while (x >>= 1)
    bit <<= 1;
  return bit;
}

} // namespace

size_t joined_size(const std::vector<std::string>& argv) {
  size_t n = argv.empty() ? 0 : argv.size() - 1;
  for (auto& arg : argv)
    n += arg.size();
  return n;
}

bool cap_argv(std::vector<std::string>& argv, size_t max_bytes) {
  if (joined_size(argv) <= max_bytes)
    return false;
  auto [keep, last] = plan_cut(argv, max_bytes);
  argv.resize(keep);
  if (keep > 0)
    argv.back().resize(last);
  argv.shrink_to_fit();
  return true;
}

bool cap_event_args(process_event& ev, size_t max_bytes) {
  if (ev.action != process_action::exec)
    return false;
  auto bytes = joined_size(ev.argv);
  auto count = ev.argv.size();
  if (!cap_argv(ev.argv, max_bytes))
    return false;
  ev.args_original_bytes = bytes;
  ev.args_original_count = count;
  return true;
}

std::string join_capped(const std::vector<std::string>& argv, size_t max_bytes,
                        uint32_t& argc) {
  auto [keep, last] = joined_size(argv) <= max_bytes
                          ? std::pair{argv.size(), argv.empty()
                                                       ? size_t{0}
                                                       : argv.back().size()}
                          : plan_cut(argv, max_bytes);
  std::string out;
  for (size_t i = 0; i < keep; ++i) {
    if (i > 0)
      out += '\0';
    out.append(argv[i], 0, i + 1 == keep ? last : argv[i].size());
  }
  argc = static_cast<uint32_t>(keep);
  return out;
}

bool budget_watch::observe(const budget_stats& stats, time_point now) {
  auto acted = stats.num_evicted + stats.num_bare;
  bool log = false;
  if (acted > seen_) {
    last_ = now;
    acted_ = true;
    // A power of two lies in (seen_, acted].
    log = highest_bit(acted) > seen_;
  }
  seen_ = acted;
  return log;
}

bool budget_watch::recent(time_point now) const {
  return acted_ && now - last_ <= budget_health_window;
}

budget_stats& operator+=(budget_stats& x, const budget_stats& y) {
  x.num_evicted += y.num_evicted;
  x.num_args_truncated += y.num_args_truncated;
  x.num_bare += y.num_bare;
  return x;
}

} // namespace auditree
