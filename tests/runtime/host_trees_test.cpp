#include "runtime/host_trees.hpp"

#include <catch2/catch.hpp>

#include "runtime/entity_id.hpp"
#include "runtime/tree_render.hpp"

using namespace auditree;

namespace {

void exec(process_tree& tree, int32_t pid, int32_t ppid, std::string exe,
          uint32_t serial) {
  process_event ev;
  ev.action = process_action::exec;
  ev.id = event_id{1795990000, 0, serial};
  ev.syscall = "execve";
  ev.pid = pid;
  ev.ppid = ppid;
  ev.exe = exe;
  ev.comm = exe.substr(exe.rfind('/') + 1);
  ev.argv = {ev.comm};
  std::vector<reap_request> reaps;
  tree.apply(ev, {}, reaps);
}

process_selector all = [](const process_tree& t) { return t.snapshot(); };

} // namespace

TEST_CASE("the same pid on two hosts is two processes") {
  host_trees trees;
  exec(trees.of("alpha"), 500, 1, "/usr/bin/sleep", 1);
  exec(trees.of("beta"), 500, 1, "/usr/bin/sshd", 1);
  REQUIRE(trees.find("alpha") != nullptr);
  CHECK(trees.find("gamma") == nullptr);
  CHECK(trees.find("alpha")->find(500)->exe == "/usr/bin/sleep");
  CHECK(trees.find("beta")->find(500)->exe == "/usr/bin/sshd");
  // Each table also holds the parent it was told of.
  CHECK(trees.size() == trees.find("alpha")->size() * 2);
  CHECK(trees.stats().num_events == 2);
  CHECK(trees.hosts() == std::vector<std::string>{"alpha", "beta"});
  trees.local();
  CHECK(trees.hosts() == std::vector<std::string>{"", "alpha", "beta"});
}

TEST_CASE("select_hosts names one host, the local one, or all") {
  host_trees trees;
  exec(trees.local(), 10, 1, "/bin/true", 1);
  exec(trees.of("web"), 20, 1, "/bin/true", 2);
  using keys = std::vector<std::string>;
  CHECK(select_hosts(trees, "", "me") == keys{"", "web"});
  CHECK(select_hosts(trees, "web", "me") == keys{"web"});
  CHECK(select_hosts(trees, "-", "me") == keys{""});
  CHECK(select_hosts(trees, "me", "me") == keys{""});
  CHECK(select_hosts(trees, "nope", "me").empty());
  CHECK(display_host("", "") == "-");
  CHECK(display_host("", "me") == "me");
  CHECK(display_host("web", "me") == "web");
}

TEST_CASE("several hosts render as one block each") {
  host_trees trees;
  exec(trees.of("alpha"), 500, 1, "/usr/bin/sleep", 1);
  exec(trees.of("beta"), 500, 1, "/usr/bin/sshd", 1);
  auto both = render_hosts(trees, trees.hosts(), "", all, render_pstree);
  CHECK(both.find("host alpha\n") == 0);
  auto beta = both.find("host beta\n");
  REQUIRE(beta != std::string::npos);
  CHECK(both.find("sleep(500)") < beta);
  CHECK(both.find("sshd(500)") > beta);
  // One host alone: no header, exactly that table's rendering.
  auto one = render_hosts(trees, {"beta"}, "", all, render_pstree);
  CHECK(one == render_pstree(trees.find("beta")->snapshot()));
  CHECK(render_hosts_json(trees, {"beta"}, "", all)
        == render_json(trees.find("beta")->snapshot(), "node=beta"));
  auto json = render_hosts_json(trees, trees.hosts(), "", all);
  CHECK(json.find("{\"host\":{\"name\":\"alpha\"},\"process\":{\"pid\":500")
        != std::string::npos);
  CHECK(json.find("{\"host\":{\"name\":\"beta\"},\"process\":{\"pid\":500")
        != std::string::npos);
  CHECK(render_hosts_json(trees, {}, "", all) == "[]\n");
  // Each host's entity ids are its own: pid 500 of alpha is not beta's.
  auto first_seen = [&](const char* host) {
    return stamp_ms(trees.of(host).find(500)->key.first_seen);
  };
  auto alpha_500 = make_entity_id("node=alpha", 500, first_seen("alpha"));
  auto beta_500 = make_entity_id("node=beta", 500, first_seen("beta"));
  CHECK(alpha_500 != beta_500);
  CHECK(json.find("\"pid\":500,\"entity_id\":\"" + alpha_500 + "\"")
        != std::string::npos);
  CHECK(json.find("\"pid\":500,\"entity_id\":\"" + beta_500 + "\"")
        != std::string::npos);
}
