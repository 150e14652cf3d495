#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
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
