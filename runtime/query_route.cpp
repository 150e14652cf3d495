#include "runtime/query_route.hpp"

#include "runtime/audit_parser.hpp"
#include "runtime/entity_id.hpp"
#include "runtime/terminal_text.hpp"

namespace auditree {

namespace {

query_route fail(int status, std::string message) {
  query_route r;
  r.kind = query_route::error;
  r.status = status;
  r.message = std::move(message);
  return r;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::string url_decode(std::string_view s, bool& ok) {
  ok = true;
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      auto hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
      auto lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        ok = false;
        return {};
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

query_route route_query(std::string_view method, std::string_view target) {
  bool control = target.rfind("/ctl/", 0) == 0;
  if (control != (method == "POST"))
    return fail(405, control ? "control commands take POST"
                             : "only GET is served here");
  if (!control && method != "GET" && method != "HEAD")
    return fail(405, "only GET is served here");
  auto question = target.find('?');
  auto path = target.substr(0, question);
  auto query = question == std::string_view::npos ? std::string_view{}
                                                  : target.substr(question + 1);
  query_route r;
  // Parameters: container=ID, host=NAME, format=json|text; others are
  // refused.
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto key = pair.substr(0, eq);
    bool ok = true;
    auto value = eq == std::string_view::npos
                   ? std::string{}
                   : url_decode(pair.substr(eq + 1), ok);
    if (!ok)
      return fail(400, "bad %-escape in the query");
    if (key == "format") {
      if (value != "json" && value != "text")
        return fail(400, "format must be json or text");
      r.json = value == "json";
    } else if (key == "container") {
      r.container = value;
    } else if (key == "host") {
      r.host = value;
    } else if (key == "how" && control) {
      if (value != "throw" && value != "kill")
        return fail(400, "how must be throw or kill");
      r.kill = value == "kill";
    } else {
      return fail(400, "unknown parameter " + terminal_safe(key));
    }
  }
  bool ok = true;
  auto decoded = url_decode(path, ok);
  if (!ok)
    return fail(400, "bad %-escape in the path");
  std::string_view p = decoded;
  if (p.size() > 1 && p.back() == '/')
    p.remove_suffix(1);
  if (p == "/tree") {
    r.kind = query_route::tree_view;
  } else if (p == "/containers") {
    r.kind = query_route::container_list;
  } else if (p.rfind("/containers/", 0) == 0) {
    // Ids contain slashes: `docker/<64-hex>`, `default/web`.
    r.kind = query_route::container_tree;
    r.container = std::string{p.substr(12)};
  } else if (p == "/processes") {
    r.kind = query_route::process_list;
  } else if (p.rfind("/processes/", 0) == 0) {
    auto which = p.substr(11);
    auto pid = parse_unsigned(which);
    r.kind = query_route::process_view;
    if (!pid && looks_like_entity_id(which)) {
      r.entity_id = std::string{which};
      return r;
    }
    if (!pid || *pid == 0 || *pid > INT32_MAX)
      return fail(400, "not a pid or entity id: " + terminal_safe(which));
    r.pid = static_cast<int32_t>(*pid);
  } else if (p == "/metrics") {
    r.kind = query_route::metrics;
  } else if (p == "/stats") {
    r.kind = query_route::stats;
  } else if (p == "/healthz") {
    r.kind = query_route::health;
  } else if (p.rfind("/ctl/crash/", 0) == 0 && p.size() > 11) {
    r.kind = query_route::crash;
    r.actor = std::string{p.substr(11)};
  } else {
    return fail(404, "no such endpoint: " + terminal_safe(p)
                       + " (try /tree, /containers, /processes, /stats, "
                         "/metrics, /healthz)");
  }
  return r;
}

} // namespace auditree
