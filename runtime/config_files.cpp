#include "runtime/config_files.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

namespace auditree {

namespace {

// Reads a whole file; false with the reason in `error`.
bool read_file(const std::string& path, std::string& text,
               std::string& error) {
  // A directory opens as a stream and reads as nothing.
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    error = std::strerror(EISDIR);
    return false;
  }
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    error = std::strerror(errno);
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    error = std::strerror(errno);
    return false;
  }
  text = buf.str();
  return true;
}

} // namespace

config_text load_config_text(const std::string& explicit_path,
                             const std::string& system_path,
                             std::string_view builtin) {
  config_text result;
  const std::string* path = nullptr;
  struct stat info;
  if (!explicit_path.empty())
    path = &explicit_path;
  else if (!system_path.empty() && ::stat(system_path.c_str(), &info) == 0)
    path = &system_path;
  if (path == nullptr) {
    result.origin = "built-in";
    result.text = std::string{builtin};
    return result;
  }
  result.origin = *path;
  read_file(*path, result.text, result.error);
  return result;
}

} // namespace auditree
