#include "runtime/joined_argv.hpp"

namespace auditree {

std::string join_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i > 0)
      out += '\0';
    out += argv[i];
  }
  return out;
}

std::vector<std::string> split_argv(const std::string& joined, size_t argc) {
  std::vector<std::string> out;
  if (argc == 0)
    return out;
  out.reserve(argc);
  size_t begin = 0;
  for (size_t i = 0; i + 1 < argc; ++i) {
    auto nul = joined.find('\0', begin);
    if (nul == std::string::npos)
      break;
    out.emplace_back(joined, begin, nul - begin);
    begin = nul + 1;
  }
  out.emplace_back(joined, begin);
  return out;
}

} // namespace auditree
