// The pstree-like and JSON views of a table snapshot.
//
//   bash(100)─┬─sleep(101)[exit:0]
//             └─containerd-shim(50)───[container default/web]
//   container default/web
//   sh(63)───sleep(64)

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/process_tree.hpp"
#include "runtime/tree_render.hpp"

using namespace auditree;

namespace {

constexpr uint64_t t0_seconds = 1'795'990'188;

process_info proc(int32_t pid, int32_t ppid, std::string comm,
                  std::string container = {}) {
  process_info p;
  p.key = process_key{pid, event_id{t0_seconds, 0, static_cast<uint32_t>(pid)}};
  p.pid = pid;
  p.ppid = ppid;
  p.parent =
      process_key{ppid, event_id{t0_seconds, 0, static_cast<uint32_t>(ppid)}};
  p.comm = std::move(comm);
  p.container = std::move(container);
  return p;
}

std::vector<process_info> world() {
  auto bash = proc(100, 1, "bash");
  bash.parent = process_key{}; // pid 1 is not in the snapshot
  auto sleep = proc(101, 100, "sleep");
  sleep.state = process_state::exited;
  sleep.end = event_id{t0_seconds + 2, 5, 9};
  auto shim = proc(50, 100, "containerd-shim");
  auto init = proc(63, 50, "sh", "default/web");
  auto child = proc(64, 63, "sleep", "default/web");
  return {shim, init, child, bash, sleep};
}

} // namespace

TEST_CASE("pstree view: host first, then one block per container",
          "[tree][render]") {
  auto procs = world();
  std::sort(procs.begin(), procs.end(),
            [](auto& x, auto& y) { return x.key < y.key; });
  CHECK(render_pstree(procs)
        == "bash(100)─┬─containerd-shim(50)───[container default/web]\n"
           "          └─sleep(101)[exit:0]\n"
           "\n"
           "container default/web\n"
           "sh(63)───sleep(64)\n");
}

TEST_CASE("pstree view: deeper trees keep their columns", "[tree][render]") {
  std::vector<process_info> procs{proc(1, 0, "init"), proc(2, 1, "a"),
                                  proc(3, 2, "b"), proc(4, 2, "c"),
                                  proc(5, 1, "d")};
  procs[0].parent = process_key{};
  CHECK(render_pstree(procs)
        == "init(1)─┬─a(2)─┬─b(3)\n"
           "        │      └─c(4)\n"
           "        └─d(5)\n");
}

TEST_CASE("pstree view: names without comm, control bytes, ends",
          "[tree][render]") {
  auto p = proc(7, 0, "");
  p.parent = process_key{};
  p.exe = "/usr/bin/true";
  auto q = proc(8, 0, "a\x1b[31mb");
  q.parent = process_key{};
  q.state = process_state::vanished;
  CHECK(render_pstree({p, q}) == "true(7)\na\\x1b[31mb(8)[gone]\n");
}

TEST_CASE("JSON view: nested ECS objects, unknown facts left out",
          "[tree][render]") {
  auto sleep = proc(812, 790, "sleep", "docker/abc");
  sleep.exe = "/bin/sleep";
  sleep.argv = {"sleep", "2"};
  sleep.cwd = "/";
  sleep.start = event_id{t0_seconds, 310, 1};
  sleep.end = event_id{t0_seconds + 2, 311, 2};
  sleep.state = process_state::exited;
  sleep.exit_code = 0;
  auto bare = proc(790, 0, "");
  CHECK(render_json({sleep, bare})
        == "[\n"
           "{\"process\":{\"pid\":812,\"name\":\"sleep\",\"parent\":{\"pid\":"
           "790},\"executable\":\"/bin/sleep\",\"args\":[\"sleep\",\"2\"],"
           "\"working_directory\":\"/\",\"start\":\"2026-11-29T22:09:48.310Z\","
           "\"end\":\"2026-11-29T22:09:50.311Z\",\"exit_code\":0},"
           "\"container\":{\"id\":\"docker/abc\"}},\n"
           "{\"process\":{\"pid\":790}}\n"
           "]\n");
  CHECK(render_json({}) == "[]\n");
}

TEST_CASE("pstree view: a deep fork chain renders without recursion",
          "[tree][render]") {
  // Each process forks one child and waits: depth is bounded only by
  // pid_max, so the renderer must not use the stack per level.
  std::vector<process_info> chain;
  for (int32_t pid = 1; pid <= 50000; ++pid) {
    auto p = proc(pid, pid - 1, "sh");
    if (pid == 1)
      p.parent = process_key{};
    chain.push_back(std::move(p));
  }
  auto out = render_pstree(chain);
  CHECK(out.rfind("sh(1)───sh(2)───sh(3)", 0) == 0);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  CHECK(out.find("sh(50000)\n") != std::string::npos);
}

TEST_CASE("ps view: one line per process with state and container",
          "[tree][render]") {
  auto procs = world();
  procs[4].argv = {"sleep", "2"};
  auto text = render_ps(procs);
  CHECK(text.rfind("    PID    VPID    PPID STATE", 0) == 0);
  CHECK(text.find("     63       -      50 running   default/web")
        != std::string::npos);
  CHECK(text.find("    101       -     100 exit:0    -                    sleep 2")
        != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 6);
}

TEST_CASE("process view: the process, its container and its ancestors",
          "[tree][render]") {
  auto procs = world();
  std::vector<process_info> chain{procs[2], procs[1], procs[0], procs[3]};
  auto json = render_process(chain, true);
  CHECK(json.rfind("{\"process\":{\"pid\":64,", 0) == 0);
  CHECK(json.find("\"container\":{\"id\":\"default/web\"},\"ancestors\":["
                  "{\"process\":{\"pid\":63,")
        != std::string::npos);
  CHECK(json.find("{\"process\":{\"pid\":100,") != std::string::npos);
  auto text = render_process(chain, false);
  CHECK(text.find("ancestry: sleep(64) <- sh(63) <- containerd-shim(50) <- "
                  "bash(100)")
        != std::string::npos);
  CHECK(render_process({}, true).empty());
}

TEST_CASE("containers view: JSON and table", "[tree][render]") {
  container_info c;
  c.id = "default/web";
  c.runtime = "containerd";
  c.init_pid = 63;
  c.first_seen = event_id{t0_seconds, 250, 1};
  c.num_processes = 2;
  c.num_running = 1;
  auto json = render_containers({c}, true);
  CHECK(json == "[\n{\"container\":{\"id\":\"default/web\",\"runtime\":"
                "\"containerd\"},\"init\":{\"pid\":63},\"processes\":2,"
                "\"running\":1,\"start\":\"2026-11-29T22:09:48.250Z\"}\n]\n");
  auto text = render_containers({c}, false);
  CHECK(text.find("default/web") != std::string::npos);
  CHECK(text.find("containerd    63      2       1 2026-11-29T22:09:48.250Z")
        != std::string::npos);
  CHECK(render_containers({}, true) == "[]\n");
}

TEST_CASE("text views escape controls, bidi marks and invalid UTF-8",
          "[tree][render]") {
  // A name that would reverse the rest of the line, clear the screen, or
  // send a C1 CSI: each shows as an escape, never as the code itself.
  auto p = proc(9, 0, "gpj.\xe2\x80\xae" "exe");
  p.parent = process_key{};
  p.argv = {"sh", "-c", "\x1b]0;owned\x07\xc2\x9b" "2J", "\xff\xfe"};
  auto q = proc(10, 9, "ok\\name", "id\xe2\x81\xa6x");
  auto tree = render_pstree({p, q});
  CHECK(tree.find("gpj.\\u202eexe(9)") != std::string::npos);
  CHECK(tree.find("container id\\u2066x") != std::string::npos);
  CHECK(tree.find("ok\\\\name(10)") != std::string::npos);
  auto ps = render_ps({p, q});
  CHECK(ps.find("sh -c \\x1b]0;owned\\x07\\u009b2J \\xff\\xfe")
        != std::string::npos);
  auto process = render_process({q, p}, false);
  CHECK(process.find("gpj.\\u202eexe(9)") != std::string::npos);
  container_info c;
  c.id = "web\xe2\x80\x8f\x1b[2J";
  c.runtime = "runc";
  auto table = render_containers({c}, false);
  CHECK(table.find("web\\u200f\\x1b[2J") != std::string::npos);
  // Nothing a terminal would act on is left: no C0 byte but the newlines,
  // no DEL, no C1 and no bidi code point, and valid UTF-8 throughout.
  for (auto& text : {tree, ps, process, table}) {
    INFO(text);
    for (unsigned char b : text)
      CHECK((b == '\n' || (b >= 0x20 && b != 0x7f)));
    CHECK(text.find("\xc2\x9b") == std::string::npos);
    CHECK(text.find("\xe2\x80\xae") == std::string::npos);
    CHECK(text.find("\xe2\x81\xa6") == std::string::npos);
    CHECK(text.find("\xe2\x80\x8f") == std::string::npos);
    CHECK(text.find("\xff") == std::string::npos);
  }
}
