#!/usr/bin/env python3
"""Per-host trees: a merged two-host log (scripts/two_host_log.py: two
halves of a real capture as node=alpha and node=beta, stamps and serials
moved to collide, merged by time) replays into one table per host. Each
host's tree and stream must be exactly what its half alone gives, pids
that both hosts use must stay apart, and --host must select one host.

usage: two_hosts_test.py AUDITREE REPO"""

import json
import os
import subprocess
import sys
import tempfile

auditree, repo = sys.argv[1], sys.argv[2]
capture = os.path.join(repo, "tests", "data", "sample.log")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import check, finish


def replay(log, *extra):
    stream = os.path.join(tmp, "stream.json")
    if os.path.exists(stream):
        os.remove(stream)
    run = subprocess.run([auditree, "replay", log, "--keep-exited", *extra,
                          "--auditree.output=" + stream],
                         capture_output=True, text=True, timeout=120)
    check(run.returncode == 0, f"replay {log} {extra}: exit {run.returncode}")
    lines = [json.loads(l) for l in open(stream)] if os.path.exists(stream) \
        else []
    return run, lines


def without_ids(event):
    """Entity ids name the host (node=NAME, or none for a half alone)."""
    event = json.loads(json.dumps(event))
    process = event.get("process", {})
    process.pop("entity_id", None)
    process.get("parent", {}).pop("entity_id", None)
    process.get("entry_leader", {}).pop("entity_id", None)
    return event


def tree_json(log, *extra):
    target = os.path.join(tmp, "tree.json")
    replay(log, "--tree-json", target, *extra)
    return json.load(open(target))


tmp = tempfile.mkdtemp()
prefix = os.path.join(tmp, "two")
subprocess.run([sys.executable,
                os.path.join(repo, "scripts", "two_host_log.py"), capture,
                prefix], check=True)
merged = prefix + ".log"

run, stream = replay(merged, "--tree")
check(stream and all("host" in e for e in stream),
      "an event without host.name")
for host in ("alpha", "beta"):
    alone_log = f"{prefix}-{host}.log"
    alone_tree = tree_json(alone_log)
    check(alone_tree, f"{host}: its half alone makes no tree")
    check([without_ids(p) for p in tree_json(merged, "--host", host)]
          == [without_ids(p) for p in alone_tree],
          f"{host}: its tree in the merged log differs from its half alone")
    _, alone_stream = replay(alone_log)
    mine = [without_ids({k: v for k, v in e.items() if k != "host"})
            for e in stream if e.get("host", {}).get("name") == host]
    check(mine == [without_ids(e) for e in alone_stream],
          f"{host}: its {len(mine)} stream lines differ from its half "
          f"alone ({len(alone_stream)})")

# The halves share pids: each host keeps its own process of that pid.
pids = [{p["process"]["pid"] for p in tree_json(merged, "--host", h)}
        for h in ("alpha", "beta")]
shared = pids[0] & pids[1]
check(len(shared) >= 3, f"only {len(shared)} pids in both hosts' trees")
both = tree_json(merged)
check(len(both) == sum(map(len, pids)),
      f"the merged tree has {len(both)} processes, the hosts' "
      f"{sum(map(len, pids))}")
check({p["host"]["name"] for p in both} == {"alpha", "beta"},
      "the merged JSON tree does not name each process's host")
text = run.stdout
check(text.count("host alpha\n") == 1 and text.count("host beta\n") == 1,
      "the merged text tree has not one block per host")
# A host the log lacks is an error naming the hosts it has, never an
# empty tree; `-` (records without node=) is one of those here.
for wanted in ("typo", "-"):
    target = os.path.join(tmp, "unknown.json")
    for flags in (["--tree"], ["--tree-json", target]):
        refused = subprocess.run([auditree, "replay", merged, "--host",
                                  wanted, *flags, "--auditree.output=none"],
                                 capture_output=True, text=True, timeout=120)
        check(refused.returncode == 1,
              f"--host {wanted} {flags[0]}: exit {refused.returncode}")
        check(f"no host {wanted} in the log; its hosts: alpha, beta"
              in refused.stderr,
              f"--host {wanted} {flags[0]}: no message naming the hosts "
              f"({refused.stderr[-300:]!r})")
        check(refused.stdout == "" and not os.path.exists(target),
              f"--host {wanted} {flags[0]}: a tree was written")
# Past max-hosts a host's records are refused, counted and logged.
capped = subprocess.run([auditree, "replay", merged, "--tree",
                         "--auditree.max-hosts=1", "--auditree.assemblers=1",
                         "--auditree.output=none"],
                        capture_output=True, text=True, timeout=120)
refused = [int(l.split(":")[1]) for l in capped.stderr.splitlines()
           if l.strip().startswith("records of hosts refused:")]
check(capped.returncode == 0 and refused and refused[0] > 0
      and "refused: already 1 hosts (max-hosts)" in capped.stderr,
      f"max-hosts=1: no refusal counted and logged ({refused})")
check(capped.stdout.count("host ") == 0 and capped.stdout,
      "max-hosts=1: the tree holds more than one host")
check("records of hosts refused: 0" in run.stderr,
      "two hosts: records refused under the default max-hosts")
check("serial gaps:              0" in run.stderr
      and "late records:             0" in run.stderr,
      "colliding serials of two hosts counted as gaps or late records")
print(f"two hosts: {len(pids[0])} + {len(pids[1])} processes, "
      f"{len(shared)} pids in both, {len(stream)} stream lines")
finish()
