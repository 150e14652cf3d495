#include <catch2/catch.hpp>

#include "runtime/query_route.hpp"

using namespace auditree;

TEST_CASE("routes of the query API", "[query]") {
  auto r = route_query("GET", "/tree");
  CHECK(r.kind == query_route::tree_view);
  CHECK(r.json);
  r = route_query("GET", "/tree?format=text&container=default%2Fweb");
  CHECK(r.kind == query_route::tree_view);
  CHECK_FALSE(r.json);
  CHECK(r.container == "default/web");
  r = route_query("GET", "/containers/");
  CHECK(r.kind == query_route::container_list);
  r = route_query("GET", "/containers/docker/0123abc");
  CHECK(r.kind == query_route::container_tree);
  CHECK(r.container == "docker/0123abc");
  r = route_query("GET", "/processes?container=auditree/c1");
  CHECK(r.kind == query_route::process_list);
  CHECK(r.container == "auditree/c1");
  r = route_query("HEAD", "/processes/812");
  CHECK(r.kind == query_route::process_view);
  CHECK(r.pid == 812);
  CHECK(route_query("GET", "/metrics").kind == query_route::metrics);
  CHECK(route_query("GET", "/healthz").kind == query_route::health);
}

TEST_CASE("?host= selects one host's processes", "[query]") {
  auto r = route_query("GET", "/tree?host=web-01.example&format=text");
  CHECK(r.kind == query_route::tree_view);
  CHECK(r.host == "web-01.example");
  r = route_query("GET", "/processes?host=-&container=auditree/c1");
  CHECK(r.kind == query_route::process_list);
  CHECK(r.host == "-");
  CHECK(r.container == "auditree/c1");
  r = route_query("GET", "/processes/812?host=db%2D2");
  CHECK(r.kind == query_route::process_view);
  CHECK(r.host == "db-2");
  CHECK(route_query("GET", "/tree").host.empty());
}

TEST_CASE("bad requests get a clear 4xx", "[query]") {
  auto r = route_query("POST", "/tree");
  CHECK(r.kind == query_route::error);
  CHECK(r.status == 405);
  r = route_query("GET", "/nope");
  CHECK(r.status == 404);
  CHECK(r.message.find("/tree") != std::string::npos);
  CHECK(route_query("GET", "/processes/abc").status == 400);
  // A process.entity_id names one lifetime instead of a pid.
  auto by_id = route_query("GET", "/processes/tSkAxSt5PGuthz-_?format=text");
  CHECK(by_id.kind == query_route::process_view);
  CHECK(by_id.entity_id == "tSkAxSt5PGuthz-_");
  CHECK(by_id.pid == 0);
  CHECK_FALSE(by_id.json);
  CHECK(route_query("GET", "/processes/tSkAxSt5PGuthz+_").status == 400);
  CHECK(route_query("GET", "/processes/0").status == 400);
  CHECK(route_query("GET", "/processes/99999999999").status == 400);
  CHECK(route_query("GET", "/tree?format=xml").status == 400);
  CHECK(route_query("GET", "/tree?colour=red").status == 400);
  CHECK(route_query("GET", "/tree?container=%zz").status == 400);
  CHECK(route_query("GET", "/tree?container=%4").status == 400);
}

TEST_CASE("url_decode", "[query]") {
  bool ok = false;
  CHECK(url_decode("a%20b+c", ok) == "a b c");
  CHECK(ok);
  url_decode("%", ok);
  CHECK_FALSE(ok);
}

TEST_CASE("control commands take POST under /ctl/", "[query]") {
  auto r = route_query("POST", "/ctl/crash/assembler-1");
  CHECK(r.kind == query_route::crash);
  CHECK(r.actor == "assembler-1");
  CHECK_FALSE(r.kill);
  r = route_query("POST", "/ctl/crash/tree?how=kill");
  CHECK(r.kind == query_route::crash);
  CHECK(r.actor == "tree");
  CHECK(r.kill);
  CHECK(route_query("GET", "/ctl/crash/tree").status == 405);
  CHECK(route_query("POST", "/ctl/crash/tree?how=gently").status == 400);
  CHECK(route_query("POST", "/ctl/crash/").status == 404);
  CHECK(route_query("POST", "/ctl/reboot").status == 404);
  CHECK(route_query("GET", "/tree?how=kill").status == 400);
}

TEST_CASE("error bodies escape the text they quote", "[query]") {
  // %1b is ESC: an error body must not carry it to a terminal.
  auto r = route_query("GET", "/nope%1b]0;owned%07");
  CHECK(r.status == 404);
  CHECK(r.message.find('\x1b') == std::string::npos);
  CHECK(r.message.find("/nope\\x1b]0;owned\\x07") != std::string::npos);
  r = route_query("GET", "/processes/1%0d2");
  CHECK(r.status == 400);
  CHECK(r.message.find("1\\x0d2") != std::string::npos);
  r = route_query("GET", "/tree?\x1bx=1");
  CHECK(r.status == 400);
  CHECK(r.message.find('\x1b') == std::string::npos);
}
