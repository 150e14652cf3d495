#include "runtime/config_files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace auditree {

namespace {

// Reads a whole file; false with the reason in `error`. The file is
// checked by what was opened (fstat), so it cannot be swapped in between.
bool read_file(const std::string& path, std::string& text, std::string& error,
               bool& refused) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return false;
  }
  if (S_ISDIR(info.st_mode)) {
    error = std::strerror(EISDIR);
    ::close(fd);
    return false;
  }
  // /dev/null reads as an empty file whoever writes to it: `--config-file
  // /dev/null` means the built-in defaults without the system file.
  if (S_ISCHR(info.st_mode) && info.st_rdev == makedev(1, 3)) {
    ::close(fd);
    return true;
  }
  error = file_trust_problem(S_ISREG(info.st_mode), info.st_uid,
                             info.st_mode & 07777, ::geteuid());
  if (!error.empty()) {
    refused = true;
    ::close(fd);
    return false;
  }
  char buf[65536];
  for (;;) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0)
      break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

} // namespace

std::string file_trust_problem(bool regular, unsigned owner, unsigned mode,
                               unsigned reader) {
  char octal[8];
  std::snprintf(octal, sizeof(octal), "%04o", mode & 07777);
  if (!regular)
    return "not a regular file";
  if (owner != 0 && owner != reader)
    return "owned by uid " + std::to_string(owner)
           + ", not root: refused (chown root it)";
  if ((mode & 022) != 0)
    return std::string{"mode "} + octal
           + ": group or others can write it: refused (chmod go-w it)";
  return {};
}

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
  if (!read_file(*path, result.text, result.error, result.refused))
    result.text.clear();
  return result;
}

} // namespace auditree
