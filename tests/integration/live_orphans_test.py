#!/usr/bin/env python3
"""Parents are never guessed, live (issue 14, item 5), with the proc
connector reporting every death:
- a child alive when its parent is SIGKILLed moves to the reaper /proc
  names, within exit-grace, as the kernel moved it;
- a process group killed at once (kill -9 -PGID): no child is ever shown
  running under another parent; each keeps its leader until its own death
  is applied (the connector's exit then names the parent it died with,
  pid 1 when the kernel moved it first: evidence, not a guess).

usage: live_orphans_test.py AUDITREE AUDIT_STATE REPO"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import Agent, check, finish, proc_ppid, wait_for

AUDITREE, AUDIT_STATE, REPO = (os.path.abspath(a) for a in sys.argv[1:4])
sock = os.path.join(tempfile.mkdtemp(prefix="auditree-orphans-"), "a.sock")
agent = Agent(AUDITREE, AUDIT_STATE, REPO, "auditree-orphans",
              extra=(f"--auditree.socket={sock}",))
try:
    # 1. A live orphan.
    parent = subprocess.Popen(["bash", "-c", "sleep 30 & echo $!; wait"],
                              stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    wait_for(lambda: child in agent.tree(), 5, "the child in the tree")
    parent.kill()
    parent.wait()
    reaper = proc_ppid(child)
    check(reaper not in (None, parent.pid), f"the kernel moved {child} "
          f"to {reaper}")
    moved = wait_for(lambda: agent.tree().get(child, {}).get("process", {})
                     .get("parent", {}).get("pid") == reaper, 3,
                     f"{child} under its reaper")
    check(moved, f"live orphan {child} moved to the reaper {reaper}")
    os.kill(child, signal.SIGKILL)

    # 2. A process group killed at once.
    leader = subprocess.Popen(["setsid", "bash", "-c",
                               "sleep 30 & sleep 30 & sleep 30 & wait"])
    deadline = time.time() + 5
    kids = []
    while time.time() < deadline and len(kids) < 3:
        kids = [int(p) for p in subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(leader.pid)],
            capture_output=True, text=True).stdout.split()]
        time.sleep(0.05)
    check(len(kids) == 3, f"leader {leader.pid} runs three sleeps {kids}")
    wait_for(lambda: all(k in agent.tree() for k in kids), 5,
             "the sleeps in the tree")
    os.killpg(leader.pid, signal.SIGKILL)
    leader.wait()
    wrong = []
    end = time.time() + agent.grace_s * 1.5
    while time.time() < end:
        for pid, p in agent.tree().items():
            proc = p["process"]
            if pid in kids and "end" not in proc \
                    and proc.get("parent", {}).get("pid") != leader.pid:
                wrong.append((pid, proc.get("parent")))
    check(not wrong, f"no killed child ever shown running under another "
          f"parent: {wrong[:3]}")
finally:
    agent.stop()
finish()
