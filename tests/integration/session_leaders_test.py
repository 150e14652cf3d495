#!/usr/bin/env python3
"""process.group_leader, process.session_leader and process.entry_leader
(issue 14, item 2). A capture (tests/data/lineage/session-leaders.log.gz,
made by scripts/capture/scenarios/session-leaders.sh with setsid and setpgid
in the rules) of an ssh-like session: a setsid'd bash with job control runs
a pipeline, a background job and a runc container with a pipeline of its
own. Replayed, the exec and exit events of every process whose group and
session the truth file knows (/proc/PID/stat read by the capture's proc
connector logger right after its exec), at its last exec and its exit,
name that group's and that session's leaders (a group made before the
capture may go unnamed, never misnamed), with the leader's own entity id where the stream shows
the leader; a container's members name its init as entry leader; a host
process's entry leader is one of its ancestors.

usage: session_leaders_test.py AUDITREE REPO"""

import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

auditree, repo = sys.argv[1], sys.argv[2]
data = os.path.join(repo, "tests", "data", "lineage")
log = os.path.join(data, "session-leaders.log.gz")
truth = os.path.join(data, "session-leaders.truth.txt.gz")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import check, finish

procs, containers, session = {}, {}, 0
with gzip.open(truth, "rt") as f:
    for line in f:
        fields = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
        if line.startswith("PROC ") and fields["gen"] == "1":
            procs[int(fields["pid"])] = fields
        elif line.startswith("CONTAINER "):
            containers[fields["cgroup"].rsplit("/", 1)[1]] = int(
                fields["init_pid"])
        elif m := re.match(r"NOTE session: setsid bash pid=(\d+)", line):
            session = int(m[1])
check(session > 0, f"the truth names the session's bash ({session})")
check(len(containers) == 1, f"the truth names one container {containers}")
known = {p: f for p, f in procs.items()
         if f["in_scenario"] == "1" and f["sid"] != "?"}
in_session = [p for p, f in known.items() if f["sid"] == str(session)]
groups = {f["pgid"] for p, f in known.items() if p in in_session}
check(len(in_session) >= 10 and len(groups) >= 3,
      f"{len(in_session)} processes of the session in {len(groups)} groups")

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "stream.json")
    run = subprocess.run([auditree, "replay", log, "--auditree.output=" + out],
                         capture_output=True, text=True, timeout=120)
    check(run.returncode == 0, f"replay: exit {run.returncode} "
          f"{run.stderr[-300:]}")
    stream = [json.loads(l) for l in open(out)] if os.path.exists(out) else []

by_pid, entity_of = {}, {}
stream = [e for e in stream if "process" in e]  # not container lines
for e in stream:
    p = e["process"]
    by_pid.setdefault(p["pid"], []).append(e)
    entity_of.setdefault(p["pid"], p.get("entity_id"))
actions = {e["event"]["action"] for e in stream}
check({"setsid", "setpgid"} <= actions,
      f"the stream carries setsid and setpgid events ({sorted(actions)})")
check(all(e["event"]["type"] == ["change"] for e in stream
          if e["event"]["action"] in ("setsid", "setpgid")),
      "setsid and setpgid are ECS event.type change")


def ancestors(pid):
    seen = []
    while pid in procs and procs[pid]["ppid"] not in ("?", "0"):
        pid = int(procs[pid]["ppid"])
        seen.append(pid)
    return seen


checked = 0
for pid, f in sorted(known.items()):
    # /proc's word is from its last exec: that exec and the exit.
    events = [e for e in by_pid.get(pid, [])
              if e["event"]["action"] in ("exec", "exit")]
    events = [e for i, e in enumerate(events)
              if e["event"]["action"] == "exit"
              or all(x["event"]["action"] != "exec" for x in events[i + 1:])]
    if not check(events, f"pid {pid} ({f['exe']}): exec and exit events"):
        continue
    pgid, sid = int(f["pgid"]), int(f["sid"])
    cont = next((c for c in containers if c in f["container"]), None)
    # Groups and sessions made before the capture are not in the log:
    # such a process may name no leader, never a wrong one.
    made_here = sid == session or cont is not None
    for e in events:
        p, what = e["process"], f"pid {pid} {e['event']['action']}"
        group = p.get("group_leader", {})
        sess = p.get("session_leader", {})
        if not made_here and not group and not sess:
            continue
        check(group.get("pid") == pgid and sess.get("pid") == sid,
              f"{what}: group leader {group.get('pid')} session leader "
              f"{sess.get('pid')}, /proc said {pgid} {sid}")
        for name, leader, lpid in (("group", group, pgid),
                                   ("session", sess, sid)):
            if entity_of.get(lpid):
                check(leader.get("entity_id") == entity_of[lpid],
                      f"{what}: the {name} leader's entity id is pid "
                      f"{lpid}'s own")
        entry = p.get("entry_leader", {})
        if cont:
            check(entry.get("pid") == containers[cont]
                  and entry.get("entry_meta", {}).get("type") == "container",
                  f"{what}: entry leader {entry.get('pid')} is the "
                  f"container's init {containers[cont]}")
        elif entry:
            check(entry["pid"] in [pid] + ancestors(pid),
                  f"{what}: entry leader {entry['pid']} is an ancestor")
        checked += 1
check(checked >= 20, f"{checked} events checked against the truth")
finish()
print("session leaders: ok")
