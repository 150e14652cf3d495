#!/usr/bin/env python3
"""`auditree run` on the real kernel, compared with /proc.

Workloads, each filtered by its own lineage (other processes on the machine
produce records too):
- its rules: b64, and b32 where the kernel runs 32-bit programs;
- processes started before the agent appear with their parents (bootstrap);
- sh -c 'sleep 5 & exec sleep 6': the tree equals /proc (pid, ppid, exe);
- a burst of 2,000 short processes: every exec is in the JSON stream with
  the right parent and exe, and none is left in the tree after the grace;
- a process killed with SIGKILL: audit records its exec but no exit; the
  proc connector reports the death with its signal, and the process leaves
  the tree after the grace.
Afterwards: no rule with the test's key, audit settings as before, no audit
pid registered (agent_harness checks).
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import (Agent, check, finish, proc_children, proc_exe,
                           proc_ppid, wait_for)

AUDITREE, AUDIT_STATE, REPO = (os.path.abspath(a) for a in sys.argv[1:4])
procs = []


def spawn(args):
    p = subprocess.Popen(args)
    procs.append(p)
    return p


# Started before the agent: the bootstrap must show them.
old = spawn(["sh", "-c", "sleep 30 & exec sleep 31"])
wait_for(lambda: len(proc_children(old.pid)) == 1, 5, "the old sleep's child")
old_child = proc_children(old.pid)[0]
agent = Agent(AUDITREE, AUDIT_STATE, REPO, "auditree-test")
try:
    during = agent.audit_state()
    # The b32 rule only where the kernel runs 32-bit programs: on x86_64,
    # with IA32 emulation, which /proc/sys/abi/vsyscall32 shows.
    compat = os.path.exists("/proc/sys/abi/vsyscall32")
    check(during["rules"] == (2 if compat else 1),
          f"the agent installed {during['rules']} rules with its key "
          f"(b64{', b32' if compat else ''})")
    check(("32-bit programs: yes" if compat else "32-bit programs: no")
          in agent.log(), "the agent logs whether 32-bit programs run")
    check(during["enabled"] == 1, "audit is enabled while the agent runs")

    tree = agent.tree()
    for pid, parent in ((old.pid, os.getpid()), (old_child, old.pid)):
        p = tree.get(pid, {}).get("process", {})
        check(p.get("parent", {}).get("pid") == parent,
              f"bootstrap: pid {pid} with parent {parent}")
        check(p.get("executable") == proc_exe(pid),
              f"bootstrap: pid {pid} has its exe")

    chain = spawn(["sh", "-c", "sleep 5 & exec sleep 6"])
    wait_for(lambda: len(proc_children(chain.pid)) == 1, 5, "the chain")
    time.sleep(0.3)
    tree = agent.tree()
    for pid in [chain.pid] + proc_children(chain.pid):
        p = tree.get(pid, {}).get("process", {})
        check(p.get("parent", {}).get("pid") == proc_ppid(pid),
              f"chain: pid {pid} parent {proc_ppid(pid)} as in /proc")
        check(p.get("executable") == proc_exe(pid),
              f"chain: pid {pid} exe {p.get('executable')} as in /proc")
        check("end" not in p, f"chain: pid {pid} is running")

    burst = spawn(["bash", "-c", "for i in $(seq 2000); do /bin/true; done"])
    burst.wait()
    time.sleep(agent.grace_s + 1.0)
    tree = agent.tree()
    execs = [e for e in agent.events() if e["event"]["action"] == "exec"
             and e["process"].get("parent", {}).get("pid") == burst.pid
             and e["process"].get("executable") == "/usr/bin/true"]
    check(len(execs) == 2000,
          f"burst: {len(execs)}/2000 execs of /usr/bin/true with parent "
          f"{burst.pid} in the stream")
    left = [p for p in tree.values()
            if p["process"].get("parent", {}).get("pid") == burst.pid
            or p["process"]["pid"] == burst.pid]
    check(not left, f"burst: {len(left)} processes left after the grace")

    victim = spawn(["sleep", "100"])
    time.sleep(0.3)
    victim.kill()
    victim.wait()
    check(wait_for(lambda: "end" in agent.tree().get(victim.pid, {})
                   .get("process", {}), 2, "the victim's end"),
          "sigkill: the victim has ended in the tree")
    check(wait_for(lambda: victim.pid not in agent.tree(),
                   agent.grace_s + 2, "the victim's reap"),
          "sigkill: the victim left the tree after the grace")
    mine = [e for e in agent.events() if e["process"]["pid"] == victim.pid]
    check(any(e["event"]["action"] == "exec"
              and e["auditree"]["source"] == "audit" for e in mine),
          "sigkill: audit reported the victim's exec")
    check(not any(e["event"]["action"] == "exit"
                  and e["auditree"]["source"] == "audit" for e in mine),
          "sigkill: audit has no exit for a SIGKILLed process")
    check(any(e["event"]["action"] == "exit"
              and e["auditree"]["source"] == "proc_connector"
              and e["auditree"].get("signal") == 9 for e in mine),
          "sigkill: the stream has the connector's exit with signal 9")
finally:
    agent.stop()
    for p in procs:
        for kid in proc_children(p.pid):
            os.kill(kid, 9)
        p.kill()
        p.wait()
finish()
