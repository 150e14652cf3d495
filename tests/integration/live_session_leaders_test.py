#!/usr/bin/env python3
"""process.group_leader and process.session_leader live (issue 14, item 2):
the session of tests/integration/session_leaders_test.py (a setsid'd bash
with job control running pipelines, and a runc container running one)
under the live agent with the rules of config/audit.rules. While the
session runs, ps reads every member's group and session from /proc; the
agent's exec events of those processes name the same leaders, and the
session leader's entity id is the session bash's own. The container part
needs scripts/containers.sh's image (`containers.sh prepare`); without it
the container is left out and the test says so.

usage: live_session_leaders_test.py AUDITREE AUDIT_STATE REPO"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import Agent, check, finish, wait_for

AUDITREE, AUDIT_STATE, REPO = (os.path.abspath(a) for a in sys.argv[1:4])
containers = os.path.join(REPO, "scripts", "containers.sh")
image = "/var/lib/auditree-test/image/stamp"
with_container = os.path.exists(image)
if not with_container:
    print(f"note: no container image ({image}): the container is left out")
work = tempfile.mkdtemp(prefix="auditree-leaders-")
truth = os.path.join(work, "truth.txt")
script = f"""
set -m
ls / | grep x | wc -l
sleep 2 | sleep 2 &
sleep 2 | cat &
if [ {int(with_container)} = 1 ]; then
  "$0" run-runc -d "leaders-live-$$" sh -c "sleep 2 | sleep 2" > {work}/c
fi
sleep 0.5
ps -o pid=,pgid=,sid= -s $$ > {truth}
c=$(cut -d' ' -f2 {work}/c 2>/dev/null)
[ -n "$c" ] && ps -o pid=,pgid=,sid= -s "$c" >> {truth}
wait
[ -n "$c" ] && "$0" rm runc "leaders-live-$$" > /dev/null 2>&1
exit 0
"""

agent = Agent(AUDITREE, AUDIT_STATE, REPO, "auditree-leaders")
try:
    session = subprocess.Popen(["setsid", "bash", "-c", script, containers],
                               stdout=subprocess.DEVNULL)
    check(session.wait(timeout=60) == 0, "the session ran")
    rows = [tuple(map(int, l.split())) for l in open(truth) if l.strip()]
    ids = {pid: (pgid, sid) for pid, pgid, sid in rows}
    groups = {pgid for pgid, sid in ids.values() if sid == session.pid}
    check(len(groups) >= 3, f"/proc shows {len(groups)} groups in the session")
    if with_container:
        check(any(sid != session.pid for _, sid in ids.values()),
              "/proc shows the container's own session")

    def execs():
        found = {}
        for e in agent.events():
            if e["event"]["action"] == "exec":
                found[e["process"]["pid"]] = e["process"]
        return found

    wait_for(lambda: all(p in execs() for p in ids if p != session.pid), 5,
             "the exec events of the session")
    seen = execs()
    leader_entity = seen.get(session.pid, {}).get("entity_id")
    for pid, (pgid, sid) in sorted(ids.items()):
        p = seen.get(pid)
        if pid == session.pid or not check(p, f"pid {pid}: an exec event"):
            continue
        if p.get("executable", "").endswith("/ps"):
            continue  # ps ran while it read itself
        group = p.get("group_leader", {}).get("pid")
        sess = p.get("session_leader", {})
        check(group == pgid and sess.get("pid") == sid,
              f"pid {pid} {p.get('executable')}: leaders {group} "
              f"{sess.get('pid')}, /proc {pgid} {sid}")
        if sid == session.pid and leader_entity:
            check(sess.get("entity_id") == leader_entity,
                  f"pid {pid}: the session leader's entity id is bash's")
finally:
    agent.stop()
finish()
