#!/usr/bin/env python3
"""The crash-repair state file on the real kernel: root restores audit
settings from it, so `auditree run` and `auditree repair` trust only root's
own 0600 regular file, never through a symlink, in a directory no one else
may write, with values in range. For a corrupt file, one owned by nobody
(chown nobody), one others can read (mode 0644), a symlink, one in a
world-writable directory, and values out of range, `run` and `repair` each
exit 1 naming the file and the reason, and the kernel's audit state is
exactly as before (no setting from the file, and a rule tagged with the key
is not removed). A proper file (left by a dead run) is restored from and
removed.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import check, finish, skip_or_fail

AUDITREE, AUDIT_STATE, REPO = (os.path.abspath(a) for a in sys.argv[1:4])
KEY = "auditree-statefile"
SETTINGS = ("enabled", "failure", "rate_limit", "pid", "backlog_limit",
            "backlog_wait_time")
# A rule tagged with the key, as a dead run leaves it: a refused file
# must not make run or repair remove it either.
DECOY = ["-a", "always,exit", "-F", "arch=b64", "-S", "kill", "-k", KEY]

if os.geteuid() != 0:
    skip_or_fail("needs root")


def audit_state():
    out = subprocess.run([AUDIT_STATE, KEY], capture_output=True, text=True)
    if out.returncode != 0:
        skip_or_fail("kernel audit unavailable: " + out.stderr.strip())
    return json.loads(out.stdout)


def dead_pid():
    """A pid no process has now (the file's run must be over)."""
    pid = 4194000
    while os.path.exists(f"/proc/{pid}"):
        pid += 1
    return pid


def repair(state_file):
    out = subprocess.run([AUDITREE, "repair",
                          f"--auditree.state-file={state_file}",
                          f"--auditree.rule-key={KEY}",
                          f"--config-file={REPO}/config/auditree.conf"],
                         capture_output=True, text=True)
    return out.returncode, out.stderr


def run_agent(state_file, work):
    """`auditree run` with this state file; returns (exit code, stderr).
    A run that starts is stopped at once with SIGTERM."""
    proc = subprocess.Popen(
        [AUDITREE, "run", f"--auditree.state-file={state_file}",
         f"--auditree.rule-key={KEY}", "--auditree.output=none",
         f"--auditree.socket={work}/auditree.sock",
         f"--auditree.rules-file={REPO}/config/audit.rules",
         f"--config-file={REPO}/config/auditree.conf"],
        stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    return proc.returncode, err


def line(pid, enabled, limit, wait):
    """A state file's line: each (found, set) pair."""
    return (f"auditree-state pid={pid} enabled={enabled[0]}:{enabled[1]} "
            f"backlog_limit={limit[0]}:{limit[1]} "
            f"backlog_wait_time={wait[0]}:{wait[1]} audit_pid=0:0\n")


before = audit_state()
check(before["rules"] == 0, f"no rule with key {KEY} before")
# "Found" values unlike the kernel's now, "set" values equal to them:
# compare-and-restore would apply every one, and it would show.
wait_found = 60000 if before["backlog_wait_time"] != 60000 else 1000
planted = line(dead_pid(), (1 - min(before["enabled"], 1), before["enabled"]),
               (before["backlog_limit"] + 77, before["backlog_limit"]),
               (wait_found, before["backlog_wait_time"]))

work = tempfile.mkdtemp(prefix="auditree-statefile-")
state = os.path.join(work, "audit-state")


def plant(text, mode=0o600, owner=0):
    if os.path.lexists(state):
        os.unlink(state)
    with open(state, "w") as f:
        f.write(text)
    os.chmod(state, mode)
    os.chown(state, owner, owner)


cases = [
    ("corrupt", lambda: plant("12 x 8192\n"),
     "does not start with auditree-state"),
    ("truncated", lambda: plant(planted.split(" backlog_limit")[0] + "\n"),
     "expected backlog_limit=ORIGINAL:SET"),
    ("owned by nobody", lambda: plant(planted, owner=65534),
     "owned by uid 65534, not root"),
    ("mode 0644", lambda: plant(planted, mode=0o644), "mode 0644, not 0600"),
    ("enabled=2 (lock)",
     lambda: plant(line(dead_pid(), (2, 1), (64, 64), (0, 0))),
     "enabled=2 out of range"),
    ("backlog_limit huge",
     lambda: plant(line(dead_pid(), (1, 1), (4000000000, 64), (0, 0))),
     "backlog_limit=4000000000 out of range"),
]


def symlinked():
    real = os.path.join(work, "real-state")
    with open(real, "w") as f:
        f.write(planted)
    os.chmod(real, 0o600)
    if os.path.lexists(state):
        os.unlink(state)
    os.symlink(real, state)


cases.append(("a symlink", symlinked, "a symlink"))

open_dir = os.path.join(work, "open")
os.mkdir(open_dir)
os.chmod(open_dir, 0o1777)
open_state = os.path.join(open_dir, "audit-state")


def in_open_dir():
    with open(open_state, "w") as f:
        f.write(planted)
    os.chmod(open_state, 0o600)


cases.append(("a world-writable directory", in_open_dir,
              "its directory has mode 1777: group or others may write to it"))

subprocess.run(["auditctl", *DECOY], capture_output=True)
check(audit_state()["rules"] == 1, "a decoy rule with the key, as a dead "
                                   "run leaves it")
for name, make, why in cases:
    path = open_state if name == "a world-writable directory" else state
    for command in ("run", "repair"):
        make()
        if command == "run":
            code, err = run_agent(path, work)
        else:
            code, err = repair(path)
        check(code == 1 and f"refusing the state file {path}: {why}" in err,
              f"{name}: {command} refuses, exit 1 ({code}, "
              f"{err.strip()[-240:]!r})")
        after = audit_state()
        check(all(after[k] == before[k] for k in SETTINGS)
              and after["rules"] == 1,
              f"{name}: {command} applied nothing ({after})")
        check(os.path.lexists(path),
              f"{name}: the file is left for root to see")

# A proper file of a dead run that changed nothing: restored from (the
# decoy rule removed) and removed, and the run starts.
plant(line(dead_pid(), (before["enabled"],) * 2, (before["backlog_limit"],) * 2,
           (before["backlog_wait_time"],) * 2))
code, err = run_agent(state, work)
check(code == 0 and "restoring the audit settings a dead run" in err
      and "removed 1 of 1 rules with key" in err,
      f"root's 0600 file is restored from ({code}, {err.strip()[-300:]!r})")
check(not os.path.lexists(state), "and removed at the clean stop")
after = audit_state()
check(all(after[k] == before[k] for k in SETTINGS) and after["rules"] == 0,
      f"the kernel is as before ({after})")
finish()
