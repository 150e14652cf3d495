#include "runtime/container_ref.hpp"

#include <algorithm>

#include "runtime/terminal_text.hpp"

namespace auditree {

namespace {

bool is_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// `ns/local` -> {ns, local}; an id without a slash has no namespace.
std::pair<std::string_view, std::string_view> split_id(std::string_view id) {
  auto slash = id.find('/');
  if (slash == std::string_view::npos)
    return {{}, id};
  return {id.substr(0, slash), id.substr(slash + 1)};
}

// How `qualifier` (what the user wrote before the slash) names this
// container: its namespace or own runtime (then its names apply too), or a
// runtime below that runs it under the same id (runc, containerd for
// docker), where only the id applies.
enum class qualified { no, by_id, fully };

qualified qualifies(std::string_view qualifier, const container_candidate& c) {
  auto ns = split_id(c.id).first;
  if (qualifier.empty() || qualifier == ns || qualifier == c.runtime
      || (c.runtime == "docker" && qualifier == "moby")
      || (c.runtime == "podman" && qualifier == "libpod"))
    return qualified::fully;
  if (qualifier == "runc" || (c.runtime == "docker" && qualifier == "containerd"))
    return qualified::by_id;
  return qualified::no;
}

std::string joined(const std::vector<std::string>& ids) {
  std::string out;
  for (auto& id : ids)
    out += (out.empty() ? "" : ", ") + terminal_safe(id);
  return out;
}

// A container runc runs without a shim (plain runc, podman's conmon) is
// known twice, under one runtime id: by runc's argv (runtime runc) and by
// the cgroup the tree names it after (`<parent>/<id>`, `libpod/<id>`).
bool same_container(const container_candidate& runc,
                    const container_candidate& cgroup) {
  return runc.runtime == "runc" && cgroup.runtime != "runc"
         && split_id(cgroup.id).second == split_id(runc.id).second;
}

// Twins collapse into the cgroup's name, which the tree reports.
std::vector<const container_candidate*>
distinct(const std::vector<const container_candidate*>& matches) {
  std::vector<const container_candidate*> out;
  for (auto* c : matches) {
    bool twin = std::any_of(matches.begin(), matches.end(), [&](auto* o) {
      return o != c && same_container(*c, *o);
    });
    if (!twin)
      out.push_back(c);
  }
  return out;
}

// One container wins; several distinct ones, whether running or not, are
// an error that lists them: the user must say more.
container_match decided(const std::vector<const container_candidate*>& all,
                        std::string_view typed, bool by_prefix) {
  container_match m;
  auto matches = distinct(all);
  if (matches.size() == 1) {
    m.outcome = container_match::found;
    m.id = matches.front()->id;
    return m;
  }
  for (auto* c : matches)
    m.candidates.push_back(c->id);
  std::sort(m.candidates.begin(), m.candidates.end());
  m.outcome = container_match::ambiguous;
  m.message = "container " + terminal_safe(typed) + " is ambiguous: "
              + (by_prefix ? "the prefix" : "the name") + " matches "
              + joined(m.candidates) + " (give more of the id, or its namespace)";
  return m;
}

} // namespace

container_match resolve_container(std::string_view typed,
                                  const container_candidates& known) {
  container_match m;
  if (typed.empty() || typed.size() > 512) {
    m.outcome = container_match::invalid;
    m.message = "a container id must have 1 to 512 characters";
    return m;
  }
  // Docker prints names with a leading slash (`/web`).
  auto [qualifier, local] = split_id(typed);
  if (qualifier.empty() && typed.front() == '/')
    local = typed.substr(1);
  std::vector<const container_candidate*> exact;
  std::vector<const container_candidate*> prefixed;
  for (auto& c : known) {
    if (c.id == typed) {
      exact.push_back(&c);
      continue;
    }
    auto how = qualifies(qualifier, c);
    if (how == qualified::no)
      continue;
    auto own = split_id(c.id).second;
    bool named = how == qualified::fully
                 && std::find(c.names.begin(), c.names.end(), local)
                      != c.names.end();
    if (own == local || named)
      exact.push_back(&c);
    else if (local.size() >= min_id_prefix && is_hex(local)
             && own.substr(0, local.size()) == local)
      prefixed.push_back(&c);
  }
  if (!exact.empty())
    return decided(exact, typed, false);
  if (!prefixed.empty())
    return decided(prefixed, typed, true);
  m.outcome = container_match::unknown;
  m.message = "no container " + terminal_safe(typed);
  if (is_hex(local) && local.size() < min_id_prefix)
    m.message += " (a prefix of an id needs at least "
                 + std::to_string(min_id_prefix) + " hex digits)";
  m.message += known.empty() ? "; the agent knows no container"
                             : "; `auditree containers` lists the known ones";
  return m;
}

} // namespace auditree
