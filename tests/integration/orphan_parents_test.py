#!/usr/bin/env python3
"""Parents are never guessed (issue 14, item 5). A capture
(tests/data/lineage/orphan-parents.log.gz, made by
scripts/capture/scenarios/orphan-parents.sh) of children that die without a
record of their own: a session leader's process group killed with
kill -9 -PGID, and a python parent whose forks call exit(2) (no exit_group
record, like Go's short-lived forks) before it exits normally; then most of
their pids are handed out again. Replayed without the proc connector, each
child's lifetime keeps the parent the truth file's proc connector saw fork
it, never pid 1, through its parent's end and the reuse of the pids.

usage: orphan_parents_test.py AUDITREE REPO"""

import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

auditree, repo = sys.argv[1], sys.argv[2]
data = os.path.join(repo, "tests", "data", "lineage")
log = os.path.join(data, "orphan-parents.log.gz")
truth = os.path.join(data, "orphan-parents.truth.txt.gz")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import check, finish

notes, forks = [], {}
with gzip.open(truth, "rt") as f:
    for line in f:
        if line.startswith("NOTE "):
            notes.append(line[5:].strip())
        elif line.startswith("PROC "):
            fields = dict(w.split("=", 1) for w in line.split()[1:]
                          if "=" in w)
            forks.setdefault(int(fields["pid"]), []).append(fields["ppid"])

families = []  # (parent pid, parent's executable, children, child's exe)
for note in notes:
    m = re.match(r"pgroup: leader pid=(\d+) children ([\d ]+)killed", note)
    if m:
        families.append((int(m[1]), "/usr/bin/bash",
                         [int(x) for x in m[2].split()], "/usr/bin/sleep"))
    m = re.match(r"unrecorded: python pid=(\d+) forked ([\d ]+) which", note)
    if m:
        families.append((int(m[1]), "python3",
                         [int(x) for x in m[2].split()], "python3"))
reused = [int(m[1]) for n in notes
          for m in [re.match(r"reuse: pid (\d+) given to a new /bin/true: "
                             r"(\d+)$", n)] if m]
check(len(families) == 2 and all(len(f[2]) == 3 for f in families),
      "the truth names a killed group of 3 and 3 unrecorded forks")
check(len(reused) >= 3, f"the capture reused pids {reused}")

with tempfile.TemporaryDirectory() as tmp:
    tree_file = os.path.join(tmp, "tree.json")
    run = subprocess.run([auditree, "replay", log, "--keep-exited",
                          "--tree-json", tree_file,
                          "--auditree.output=none"],
                         capture_output=True, text=True, timeout=120)
    check(run.returncode == 0, f"replay: exit {run.returncode} "
          f"{run.stderr[-300:]}")
    tree = json.load(open(tree_file)) if os.path.exists(tree_file) else []

lifetimes = {}
for entry in tree:
    p = entry["process"]
    lifetimes.setdefault(p["pid"], []).append(p)


def lifetime(pid, exe):
    """The first lifetime of pid running exe (a substring of it)."""
    for p in lifetimes.get(pid, []):
        if exe in p.get("executable", ""):
            return p
    return None


for parent_pid, parent_exe, children, child_exe in families:
    parent = lifetime(parent_pid, parent_exe)
    if not check(parent is not None, f"{parent_pid} ran {parent_exe}"):
        continue
    check("end" in parent, f"{parent_pid} ended (killed or exited)")
    for pid in children:
        check(str(parent_pid) in forks.get(pid, []),
              f"truth: {parent_pid} forked {pid}")
        child = lifetime(pid, child_exe)
        if not check(child is not None, f"{pid} ran {child_exe}"):
            continue
        got = child.get("parent", {})
        check(got.get("pid") == parent_pid
              and got.get("entity_id") == parent.get("entity_id"),
              f"{pid} keeps its parent {parent_pid} "
              f"({parent.get('entity_id')}), got {got}")
        if pid in reused:
            later = [p for p in lifetimes.get(pid, [])
                     if p.get("executable", "").endswith("/true")]
            check(later and all(p["entity_id"] != child["entity_id"]
                                for p in later),
                  f"{pid} reused by /bin/true, each time a new lifetime")
finish()
