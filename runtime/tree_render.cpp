#include "runtime/tree_render.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string_view>

#include "runtime/container_lineage.hpp"
#include "runtime/ecs_json.hpp"
#include "runtime/entity_id.hpp"
#include "runtime/terminal_text.hpp"

namespace auditree {

namespace {

// comm, exe, argv and ids come from user space: a terminal gets escapes
// for their controls and bidi marks, never the codes themselves.
std::string printable(std::string_view s) {
  return terminal_safe(s);
}

// `text` cut or padded to exactly `columns` code points; a cut ends in `~`.
std::string fit_columns(const std::string& text, size_t columns) {
  if (num_columns(text) > columns)
    return std::string{first_columns(text, columns - 1)} + "~";
  return text + std::string(columns - num_columns(text), ' ');
}

std::string label(const process_info& p) {
  std::string name = !p.comm.empty()  ? printable(p.comm)
                     : !p.exe.empty() ? printable(base_name(p.exe))
                                      : std::string{"?"};
  // Both views, as pstree -p shows them on the host and in the container.
  auto out = name + "(" + std::to_string(p.pid)
             + (p.vpid > 0 ? ",vpid " + std::to_string(p.vpid) : "") + ")";
  switch (p.state) {
  case process_state::running:
    break;
  case process_state::exited:
    out += "[exit:" + std::to_string(p.exit_code) + "]";
    break;
  case process_state::killed:
    out += "[killed:" + std::to_string(p.signal) + "]";
    break;
  case process_state::vanished:
    out += "[gone]";
    break;
  }
  return out;
}

// Display width in code points, so that columns line up under UTF-8
// names.
size_t width(std::string_view s) {
  return num_columns(s);
}

struct forest {
  const std::vector<process_info>& procs;
  /// Children of each process (indices), in the process's own block.
  std::vector<std::vector<size_t>> kids;
  /// Containers whose members hang below a host process.
  std::vector<std::vector<std::string>> container_leaves;

  size_t num_kids(size_t i) const {
    return kids[i].size() + container_leaves[i].size();
  }

  /// Appends the tree below `root`. Iterative, with one shared prefix, so
  /// that a deep fork chain costs neither stack nor copies of subtrees.
  void render(size_t root, std::string& out) const {
    struct frame {
      size_t node;
      size_t next = 0;
      /// Length of the continuation prefix above this node's children.
      size_t prefix_len;
      /// Display width of this node's label.
      size_t pad;
    };
    std::string prefix;
    std::string line = label(procs[root]);
    std::vector<frame> stack;
    auto open = [&](size_t i) {
      if (num_kids(i) == 0) {
        out += line;
        out += '\n';
        line.clear();
        return;
      }
      stack.push_back(frame{i, 0, prefix.size(), width(label(procs[i]))});
    };
    open(root);
    while (!stack.empty()) {
      auto& f = stack.back();
      auto n = num_kids(f.node);
      if (f.next == n) {
        prefix.resize(f.prefix_len);
        stack.pop_back();
        continue;
      }
      auto k = f.next++;
      bool last = k + 1 == n;
      std::string pad(f.pad, ' ');
      // The first child continues its parent's line; the others start a
      // line of their own under it.
      if (k == 0)
        line += n == 1 ? "───" : "─┬─";
      else
        line = prefix.substr(0, f.prefix_len) + pad + (last ? " └─" : " ├─");
      prefix.resize(f.prefix_len);
      prefix += pad;
      prefix += last ? "   " : " │ ";
      if (k >= kids[f.node].size()) {
        line += "[container "
                + printable(container_leaves[f.node][k - kids[f.node].size()])
                + "]";
        out += line;
        out += '\n';
        line.clear();
        continue;
      }
      auto child = kids[f.node][k];
      line += label(procs[child]);
      open(child); // may invalidate f
    }
  }
};

} // namespace

std::string render_pstree(const std::vector<process_info>& procs) {
  std::map<process_key, size_t> index;
  for (size_t i = 0; i < procs.size(); ++i)
    index.emplace(procs[i].key, i);
  forest f{procs, {}, {}};
  f.kids.resize(procs.size());
  f.container_leaves.resize(procs.size());
  // Roots by block: the host ("") first, then containers by id.
  std::map<std::string, std::vector<size_t>> roots;
  roots[""];
  for (size_t i = 0; i < procs.size(); ++i) {
    auto& p = procs[i];
    auto parent = index.find(p.parent);
    if (parent == index.end()) {
      roots[p.container].push_back(i);
      continue;
    }
    auto& pp = procs[parent->second];
    if (pp.container == p.container) {
      f.kids[parent->second].push_back(i);
    } else {
      roots[p.container].push_back(i);
      auto& leaves = f.container_leaves[parent->second];
      if (!p.container.empty()
          && std::find(leaves.begin(), leaves.end(), p.container)
                 == leaves.end())
        leaves.push_back(p.container);
    }
  }
  // Indices follow the snapshot's order (pid, then first_seen), and so do
  // the lists built from them.
  std::string out;
  for (auto& [id, block] : roots) {
    if (id.empty() && block.empty())
      continue;
    if (!out.empty())
      out += '\n';
    if (!id.empty())
      out += "container " + printable(id) + "\n";
    for (auto root : block)
      f.render(root, out);
  }
  return out;
}

void append_process_json(std::string& out, const process_info& p,
                         std::string_view boot) {
  out += "{\"process\":{\"pid\":";
  out += std::to_string(p.pid);
  if (!boot.empty()) {
    out += ",\"entity_id\":\"";
    out += make_entity_id(boot, p.pid, stamp_ms(p.key.first_seen));
    out += '"';
  }
  if (p.vpid > 0)
    out += ",\"vpid\":" + std::to_string(p.vpid);
  if (!p.comm.empty()) {
    out += ",\"name\":";
    append_json_string(out, p.comm);
  }
  if (p.ppid != 0) {
    out += ",\"parent\":{\"pid\":";
    out += std::to_string(p.ppid);
    if (p.parent_vpid > 0)
      out += ",\"vpid\":" + std::to_string(p.parent_vpid);
    // The table's link names the parent's lifetime when it holds it.
    if (!boot.empty() && p.parent.pid == p.ppid
        && stamp_ms(p.parent.first_seen) != 0) {
      out += ",\"entity_id\":\"";
      out += make_entity_id(boot, p.ppid, stamp_ms(p.parent.first_seen));
      out += '"';
    }
    out += '}';
  }
  if (!p.exe.empty()) {
    out += ",\"executable\":";
    append_json_string(out, p.exe);
  }
  if (!p.argv.empty()) {
    out += ",\"args\":[";
    for (size_t i = 0; i < p.argv.size(); ++i) {
      if (i > 0)
        out += ',';
      append_json_string(out, p.argv[i]);
    }
    out += ']';
  }
  if (!p.cwd.empty()) {
    out += ",\"working_directory\":";
    append_json_string(out, p.cwd);
  }
  if (p.start) {
    out += ",\"start\":\"";
    append_timestamp(out, *p.start);
    out += '"';
  }
  if (p.end) {
    out += ",\"end\":\"";
    append_timestamp(out, *p.end);
    out += '"';
  }
  if (p.state == process_state::exited) {
    out += ",\"exit_code\":";
    out += std::to_string(p.exit_code);
  }
  out += '}';
  if (p.uid != process_event::unset_id) {
    out += ",\"user\":{\"id\":\"";
    out += std::to_string(p.uid);
    out += "\"}";
  }
  if (!p.container.empty()) {
    out += ",\"container\":{\"id\":";
    append_json_string(out, p.container);
    out += '}';
  }
  out += '}';
}

std::string render_json(const std::vector<process_info>& procs,
                        std::string_view boot) {
  std::string out = "[";
  bool first = true;
  for (auto& p : procs) {
    out += first ? "\n" : ",\n";
    first = false;
    append_process_json(out, p, boot);
  }
  out += first ? "]\n" : "\n]\n";
  return out;
}

std::string render_ps(const std::vector<process_info>& procs) {
  std::string out =
    "    PID    VPID    PPID STATE     CONTAINER            COMMAND\n";
  char buf[80];
  for (auto& p : procs) {
    auto state = label(p);
    state = p.state == process_state::running
              ? "running"
              : state.substr(state.find('[') + 1,
                             state.size() - state.find('[') - 2);
    auto vpid = p.vpid > 0 ? std::to_string(p.vpid) : std::string{"-"};
    std::snprintf(buf, sizeof(buf), "%7d %7s %7d %-9s ", p.pid, vpid.c_str(),
                  p.ppid, state.c_str());
    out += buf;
    out += fit_columns(p.container.empty() ? std::string{"-"}
                                           : printable(p.container),
                       20)
           + ' ';
    std::string command;
    for (auto& arg : p.argv)
      command += (command.empty() ? "" : " ") + arg;
    if (command.empty())
      command = !p.exe.empty() ? p.exe : "[" + p.comm + "]";
    out += printable(command) + '\n';
  }
  return out;
}

std::string render_process(const std::vector<process_info>& ancestry,
                           bool json, std::string_view boot) {
  if (ancestry.empty())
    return {};
  if (json) {
    std::string out;
    append_process_json(out, ancestry.front(), boot);
    // The object closes with '}': reopen it for the ancestors.
    out.pop_back();
    out += ",\"ancestors\":[";
    for (size_t i = 1; i < ancestry.size(); ++i) {
      if (i > 1)
        out += ',';
      append_process_json(out, ancestry[i], boot);
    }
    out += "]}\n";
    return out;
  }
  std::vector<process_info> self{ancestry.front()};
  auto out = render_ps(self);
  out += "ancestry: ";
  for (size_t i = 0; i < ancestry.size(); ++i) {
    if (i > 0)
      out += " <- ";
    out += label(ancestry[i]);
  }
  out += '\n';
  return out;
}

std::string render_containers(const std::vector<container_info>& containers,
                              bool json) {
  std::string out;
  if (json) {
    out = "[";
    bool first = true;
    for (auto& c : containers) {
      out += first ? "\n" : ",\n";
      first = false;
      out += "{\"container\":{\"id\":";
      append_json_string(out, c.id);
      out += ",\"runtime\":";
      append_json_string(out, c.runtime);
      out += "},\"init\":{\"pid\":" + std::to_string(c.init_pid) + '}';
      out += ",\"processes\":" + std::to_string(c.num_processes);
      out += ",\"running\":" + std::to_string(c.num_running);
      out += ",\"start\":\"";
      append_timestamp(out, c.first_seen);
      out += '"';
      if (c.end) {
        out += ",\"end\":\"";
        append_timestamp(out, *c.end);
        out += '"';
      }
      out += '}';
    }
    out += first ? "]\n" : "\n]\n";
    return out;
  }
  out = "CONTAINER                                     RUNTIME     INIT  "
        "PROCS RUNNING STARTED\n";
  char buf[128];
  for (auto& c : containers) {
    auto id = fit_columns(printable(c.id), 45);
    std::string started;
    append_timestamp(started, c.first_seen);
    std::snprintf(buf, sizeof(buf), "%-10s %5d %6u %7u ",
                  printable(c.runtime).c_str(),
                  c.init_pid, c.num_processes, c.num_running);
    out += id + ' ' + buf + started + (c.end ? " (ended)" : "") + '\n';
  }
  return out;
}

} // namespace auditree
