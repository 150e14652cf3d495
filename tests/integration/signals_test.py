#!/usr/bin/env python3
"""Stopping the live agent by every signal that ends it, on the real kernel:
- SIGHUP and SIGQUIT stop it as SIGTERM does: exit 0, no rule with its key
  left, enabled, backlog_limit, backlog_wait_time and the daemon pid as
  they were before it started;
- with the tree actor wedged (the fault `tree:hang:at=1` blocks the actor
  system's one worker thread, so no actor answers), SIGTERM still removes
  the rules and restores every setting within 5 s of the signal, read from
  the kernel every 20 ms; the agent then ends itself (exit 1, saying why)
  instead of hanging on the wedged actor.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import Agent, check, finish, wait_for

AUDITREE, AUDIT_STATE, REPO = (os.path.abspath(a) for a in sys.argv[1:4])
SETTINGS = ("enabled", "pid", "backlog_limit", "backlog_wait_time")
RESTORE_LIMIT_S = 5.0


def socket_path():
    return os.path.join(tempfile.mkdtemp(prefix="auditree-signals-"),
                        "auditree.sock")


def stop_by(sig):
    name = signal.Signals(sig).name
    agent = Agent(AUDITREE, AUDIT_STATE, REPO, "auditree-signals",
                  extra=(f"--auditree.socket={socket_path()}",))
    check(agent.audit_state()["rules"] > 0, f"{name}: rules installed")
    agent.proc.send_signal(sig)
    try:
        code = agent.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        agent.proc.kill()
        code = "hung"
    check(code == 0, f"{name}: the agent stopped cleanly (exit {code})")
    after = agent.audit_state()
    for key in SETTINGS:
        check(after[key] == agent.before[key],
              f"{name}: {key} restored ({agent.before[key]} -> {after[key]})")
    check(after["rules"] == 0, f"{name}: no rule with key {agent.key} left")
    log = agent.log()
    check(f"stopping on {name}" in log, f"{name}: the log names the signal")
    check("auditree run summary" in log, f"{name}: the summary was printed")


def wedged_stop():
    agent = Agent(AUDITREE, AUDIT_STATE, REPO, "auditree-signals",
                  extra=(f"--auditree.socket={socket_path()}",
                         '--auditree.faults=["tree:hang:at=1"]'))
    # Audited execs reach the tree, whose first event wedges it.
    for _ in range(20):
        subprocess.run(["/bin/true"])
        if "tree hangs" in agent.log():
            break
        time.sleep(0.1)
    check(wait_for(lambda: "tree hangs" in agent.log(), 10,
                   "the tree to hang"), "the tree actor is wedged")
    check(agent.audit_state()["rules"] > 0, "wedged: rules still installed")
    signalled = time.monotonic()
    agent.proc.send_signal(signal.SIGTERM)
    restored_after = None
    while time.monotonic() - signalled < 15:
        now = agent.audit_state()
        if now["rules"] == 0 and all(now[k] == agent.before[k]
                                     for k in SETTINGS):
            restored_after = time.monotonic() - signalled
            break
        time.sleep(0.02)
    check(restored_after is not None and restored_after < RESTORE_LIMIT_S,
          f"wedged: rules removed and settings restored "
          f"{restored_after if restored_after is None else round(restored_after, 2)}"
          f" s after SIGTERM (limit {RESTORE_LIMIT_S} s)")
    print(f"figure: SIGTERM to restored with a wedged actor: "
          f"{restored_after} s", flush=True)
    try:
        code = agent.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        agent.proc.kill()
        code = "hung"
    ended_after = time.monotonic() - signalled
    check(code == 1, f"wedged: the agent ended itself (exit {code}) "
                     f"{ended_after:.1f} s after SIGTERM")
    log = agent.log()
    check("did not halt within" in log,
          "wedged: the log says the sources did not halt in time")
    check("did not stop within" in log,
          "wedged: the log says why it exits without draining")
    after = agent.audit_state()
    for key in SETTINGS:
        check(after[key] == agent.before[key],
              f"wedged: {key} restored ({agent.before[key]} -> {after[key]})")
    check(after["rules"] == 0, "wedged: no rule left")
    print(log[-1500:])


stop_by(signal.SIGHUP)
stop_by(signal.SIGQUIT)
wedged_stop()
finish()
