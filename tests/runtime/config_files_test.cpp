#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/audit_rules.hpp"
#include "runtime/config_files.hpp"

using namespace auditree;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  REQUIRE(in);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

const std::string config_dir = AUDITREE_TEST_DATA "/../../config";

// A scratch folder removed at the end of the test.
struct scratch {
  std::filesystem::path dir;
  scratch() {
    char tmpl[] = "/tmp/auditree-config-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }
  ~scratch() { std::filesystem::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) {
    auto path = (dir / name).string();
    std::ofstream{path} << text;
    return path;
  }
};

} // namespace

TEST_CASE("the built-in defaults are the files in config/", "[config]") {
  CHECK(builtin_auditree_conf == slurp(config_dir + "/auditree.conf"));
  CHECK(builtin_audit_rules == slurp(config_dir + "/audit.rules"));
  auto parsed = parse_audit_rules(std::string{builtin_audit_rules});
  CHECK(parsed.error.empty());
  CHECK(parsed.rules.size() == 2);
  CHECK(system_config_dir.front() == '/');
}

TEST_CASE("an explicit file wins, then the system file, then built-in",
          "[config]") {
  scratch tmp;
  auto sys = tmp.write("system.conf", "system");
  auto mine = tmp.write("mine.conf", "mine");
  auto absent = (tmp.dir / "absent.conf").string();

  auto x = load_config_text(mine, sys, "builtin");
  CHECK(x.origin == mine);
  CHECK(x.text == "mine");
  CHECK(x.error.empty());

  x = load_config_text("", sys, "builtin");
  CHECK(x.origin == sys);
  CHECK(x.text == "system");

  x = load_config_text("", absent, "builtin");
  CHECK(x.origin == "built-in");
  CHECK(x.text == "builtin");
  CHECK(x.error.empty());
}

TEST_CASE("a file named or present that cannot be read is an error",
          "[config]") {
  scratch tmp;
  auto absent = (tmp.dir / "absent.conf").string();
  auto x = load_config_text(absent, "", "builtin");
  CHECK(x.origin == absent);
  CHECK(x.error == "No such file or directory");
  // Present but unreadable (a directory): never silently replaced by the
  // built-in text.
  auto dir = (tmp.dir / "conf.d").string();
  std::filesystem::create_directory(dir);
  x = load_config_text("", dir, "builtin");
  CHECK(x.origin == dir);
  CHECK_FALSE(x.error.empty());
}

TEST_CASE("file_trust_problem: root's files that only root writes, as sshd",
          "[config]") {
  CHECK(file_trust_problem(true, 0, 0644, 0).empty());
  CHECK(file_trust_problem(true, 0, 0600, 0).empty());
  CHECK(file_trust_problem(true, 0, 0444, 1000).empty());
  // A user's own file, read by that user (replay, the CLI), changes nothing.
  CHECK(file_trust_problem(true, 1000, 0644, 1000).empty());
  CHECK(file_trust_problem(true, 1000, 0644, 0)
        == "owned by uid 1000, not root: refused (chown root it)");
  CHECK(file_trust_problem(true, 0, 0664, 0)
        == "mode 0664: group or others can write it: refused (chmod go-w "
           "it)");
  CHECK_FALSE(file_trust_problem(true, 0, 0602, 0).empty());
  CHECK_FALSE(file_trust_problem(true, 0, 0777, 0).empty());
  CHECK(file_trust_problem(false, 0, 0644, 0) == "not a regular file");
}

TEST_CASE("a config or rules file that others could write is refused",
          "[config]") {
  // As root (the CI runs the suite as root): files made here are root's.
  REQUIRE(::geteuid() == 0);
  scratch tmp;
  auto good = tmp.write("good.conf", "good");
  ::chmod(good.c_str(), 0644);
  CHECK(load_config_text(good, "", "builtin").error.empty());

  auto writable = tmp.write("writable.conf", "[auditree]\noutput=\"/tmp/x\"\n");
  ::chmod(writable.c_str(), 0666);
  for (auto x : {load_config_text(writable, "", "builtin"),
                 load_config_text("", writable, "builtin")}) {
    CHECK(x.origin == writable);
    CHECK(x.refused);
    CHECK(x.text.empty()); // nothing of it applies
    CHECK(x.error.find("mode 0666") != std::string::npos);
  }

  auto foreign = tmp.write("foreign.rules", "-a always,exit -S execve\n");
  ::chmod(foreign.c_str(), 0644);
  REQUIRE(::chown(foreign.c_str(), 65534, 65534) == 0);
  auto x = load_config_text(foreign, "", "builtin");
  CHECK(x.refused);
  CHECK(x.text.empty());
  CHECK(x.error.find("owned by uid 65534") != std::string::npos);

  // A FIFO would block the reader: not a regular file.
  auto fifo = (tmp.dir / "fifo.conf").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  x = load_config_text(fifo, "", "builtin");
  CHECK(x.refused);
  CHECK(x.error == "not a regular file");
  // /dev/null (0666, but nothing written to it is ever read) is empty.
  x = load_config_text("/dev/null", "", "builtin");
  CHECK(x.error.empty());
  CHECK(x.text.empty());
}
