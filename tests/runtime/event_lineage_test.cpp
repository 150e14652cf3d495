// The lineage a stream event leaves the tree with (runtime/event_lineage):
// the process's and its parent's lifetimes as the table holds them, their
// entity ids by the recipe, and a new id when a pid is reused.

#include "runtime/event_lineage.hpp"

#include <catch2/catch.hpp>

#include "runtime/entity_id.hpp"
#include "runtime/joined_argv.hpp"
#include "tests/runtime/tree_world.hpp"

using namespace auditree;
using namespace auditree::test;

namespace {

struct lineage_world : tree_world {
  std::vector<process_event> stream;

  lineage_world() {
    after_apply = [this](process_event& ev) {
      fill_lineage(ev, aut, "node=alpha");
      stream.push_back(ev);
    };
  }
};

std::string id_of(const process_info& p) {
  return make_entity_id("node=alpha", p.pid, stamp_ms(p.key.first_seen));
}

} // namespace

TEST_CASE("fill_lineage: the process and its parent as the tree has them") {
  lineage_world w;
  w.fork(1, 0, 100, 0);
  w.exec(100, 1, 10, "/usr/bin/bash", {"bash", "-c", "sleep 5"});
  w.fork(100, 1, 200, 20);
  auto fork = w.stream.back();
  auto parent = w.get(100);
  auto child = w.get(200);
  CHECK(fork.lineage.entity_id == id_of(child));
  CHECK(fork.lineage.start == stamp(20, w.serial));
  CHECK(fork.lineage.parent_pid == 100);
  CHECK(fork.lineage.parent_entity_id == id_of(parent));
  CHECK(fork.lineage.parent_exe == "/usr/bin/bash");
  CHECK(fork.lineage.parent_name == "bash");
  CHECK(split_argv(fork.lineage.parent_args, fork.lineage.parent_argc)
        == std::vector<std::string>{"bash", "-c", "sleep 5"});
  CHECK(fork.lineage.parent_start == *parent.start);
  w.exec(200, 100, 30, "/usr/bin/sleep", {"sleep", "5"});
  // The exec keeps the lifetime's id; its parent is the same lifetime.
  CHECK(w.stream.back().lineage.entity_id == fork.lineage.entity_id);
  CHECK(w.stream.back().lineage.parent_entity_id
        == fork.lineage.parent_entity_id);
  w.exit(200, 100, 40);
  CHECK(w.stream.back().lineage.entity_id == fork.lineage.entity_id);
}

TEST_CASE("fill_lineage: a reused pid is a new entity") {
  lineage_world w;
  w.fork(1, 0, 100, 0);
  w.fork(100, 1, 300, 10);
  auto first = w.stream.back().lineage.entity_id;
  w.exit(300, 100, 20);
  w.advance(std::chrono::seconds{5});
  w.fork(100, 1, 300, 6000);
  auto second = w.stream.back().lineage.entity_id;
  CHECK_FALSE(first.empty());
  CHECK(second.size() == 16);
  CHECK(first != second);
  auto key = find_entity(w.aut, "node=alpha", second);
  REQUIRE(key);
  CHECK(key->pid == 300);
  auto chain = ancestry_of(w.aut, *key);
  REQUIRE(chain.size() == 3);
  CHECK(chain[1].pid == 100);
  CHECK(chain[2].pid == 1);
  CHECK_FALSE(find_entity(w.aut, "node=beta", second));
}

TEST_CASE("fill_lineage: ancestors beyond the parent, up to pid 1, at most "
          "the depth asked") {
  // init(1)───sshd(10)───bash(20)───sh(30)───cat(40)
  tree_world w;
  w.fork(1, 0, 10, 0, fork_flags, "init");
  w.exec(10, 1, 1, "/usr/sbin/sshd", {"sshd: alice [priv]"});
  w.fork(10, 1, 20, 2, fork_flags, "sshd");
  w.exec(20, 10, 3, "/usr/bin/bash", {"-bash"});
  w.fork(20, 10, 30, 4);
  w.exec(30, 20, 5, "/bin/sh", {"sh", "-c", "cat"});
  w.fork(30, 20, 40, 6, fork_flags, "sh");
  process_event ev;
  ev.action = process_action::exec;
  ev.id = stamp(7, ++w.serial);
  ev.pid = 40;
  ev.ppid = 30;
  ev.exe = "/usr/bin/cat";
  ev.argv = {"cat"};
  w.apply(ev);
  auto with_depth = [&](size_t depth) {
    auto out = ev;
    out.lineage = {};
    fill_lineage(out, w.aut, "node=alpha", depth);
    return out.lineage;
  };
  CHECK(with_depth(0).ancestors.empty());
  auto all = with_depth(10);
  CHECK(all.parent_pid == 30);
  REQUIRE(all.ancestors.size() == 3); // 20, 10, then pid 1 ends the chain
  CHECK(all.ancestors[0].pid == 20);
  CHECK(all.ancestors[0].entity_id == id_of(w.get(20)));
  CHECK(all.ancestors[0].exe == "/usr/bin/bash");
  CHECK(all.ancestors[0].args == std::vector<std::string>{"-bash"});
  CHECK(all.ancestors[1].pid == 10);
  CHECK(all.ancestors[1].exe == "/usr/sbin/sshd");
  CHECK(all.ancestors[2].pid == 1);
  auto two = with_depth(2);
  REQUIRE(two.ancestors.size() == 2);
  CHECK(two.ancestors[1].pid == 10);
  // A pid reused since is not an ancestor: the chain follows lifetimes and
  // stops at the first one the table no longer holds.
  w.exit(20, 10, 8);
  w.advance(std::chrono::seconds{5});
  w.fork(1, 0, 20, 6000, fork_flags, "init");
  CHECK(with_depth(10).ancestors.empty());
}

TEST_CASE("fill_lineage: the entry leader and its type") {
  lineage_world w;
  auto entry_of = [&](int32_t pid) {
    process_event ev;
    ev.action = process_action::rename;
    ev.pid = pid;
    fill_lineage(ev, w.aut, "node=alpha");
    return ev.lineage;
  };
  w.fork(1, 0, 10, 0, fork_flags, "init");
  SECTION("an ssh session: the first process below sshd") {
    // sshd(10)───sshd(11, [priv])───sshd(12, alice@pts/0)───bash(13)───cat(14)
    w.exec(10, 1, 1, "/usr/sbin/sshd", {"sshd", "-D"});
    w.fork(10, 1, 11, 2, fork_flags, "sshd");
    w.fork(11, 10, 12, 3, fork_flags, "sshd");
    w.fork(12, 11, 13, 4, fork_flags, "sshd");
    w.exec(13, 12, 5, "/usr/bin/bash", {"-bash"});
    w.fork(13, 12, 14, 6);
    w.exec(14, 13, 7, "/usr/bin/cat", {"cat"});
    auto lin = entry_of(14);
    CHECK(lin.entry_pid == 13);
    CHECK(lin.entry_type == "sshd");
    CHECK(lin.entry_entity_id == id_of(w.get(13)));
    CHECK(lin.entry_exe == "/usr/bin/bash");
    CHECK(lin.entry_name == "bash");
    CHECK(lin.entry_start == *w.get(13).start);
    CHECK(entry_of(13).entry_pid == 13);
    // sshd itself is a service of init.
    CHECK(entry_of(12).entry_pid == 10);
    CHECK(entry_of(12).entry_type == "init");
    // The stream's own events carry it.
    CHECK(w.stream.back().lineage.entry_pid == 13);
  }
  SECTION("a console login: the shell below login") {
    w.exec(10, 1, 1, "/sbin/agetty", {"/sbin/agetty", "tty1"});
    w.exec(10, 1, 2, "/bin/login", {"/bin/login", "--", "alice"});
    w.fork(10, 1, 20, 3, fork_flags, "login");
    w.exec(20, 10, 4, "/bin/bash", {"-bash"});
    w.fork(20, 10, 21, 5);
    CHECK(entry_of(21).entry_pid == 20);
    CHECK(entry_of(21).entry_type == "terminal");
  }
  SECTION("a container: its init") {
    w.exec(50, 1, 0, "/usr/bin/containerd-shim-runc-v2",
           {"/usr/bin/containerd-shim-runc-v2", "-namespace", "default",
            "-id", "web", "-address", "/run/containerd/containerd.sock"});
    w.fork(50, 1, 60, 1, fork_flags, "containerd-shim");
    w.exec(60, 50, 2, "/usr/sbin/runc",
           {"runc", "--root", "/run/containerd/runc/default", "create",
            "--bundle",
            "/run/containerd/io.containerd.runtime.v2.task/default/web",
            "web"});
    w.fork(60, 50, 61, 3, fork_flags, "runc");
    w.exec(61, 60, 4, "/usr/sbin/runc", {"runc", "init"});
    w.fork(61, 60, 62, 5, clone_parent_flags, "runc:[0:PARENT]");
    w.fork(62, 60, 63, 6, clone_parent_flags, "runc:[1:CHILD]");
    w.exit(62, 60, 7);
    w.exit(61, 60, 8);
    w.fork(63, 60, 2, 9, std::nullopt, "runc:[2:INIT]");
    w.exit(60, 50, 10);
    w.exec(63, 50, 11, "/bin/busybox", {"sh", "-c", "sleep 5 & exit 0"});
    w.fork(63, 50, 7, 12, fork_flags, "sh");
    w.exec(64, 63, 13, "/bin/busybox", {"sleep", "5"});
    REQUIRE(w.get(63).container_init);
    CHECK(entry_of(64).entry_pid == 63);
    CHECK(entry_of(64).entry_type == "container");
    CHECK(entry_of(63).entry_type == "container");
    CHECK(entry_of(50).entry_type == "init");
  }
  SECTION("pid 1 has none, nor a chain the table lost") {
    CHECK(entry_of(1).entry_pid == 0);
    CHECK(entry_of(10).entry_pid == 10);
    CHECK(entry_of(10).entry_type == "init");
  }
}
