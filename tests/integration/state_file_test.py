#!/usr/bin/env python3
"""The crash-repair state file on the real kernel: root restores audit
settings from it, so `auditree run` trusts only root's own 0600 regular
file, never through a symlink, with values in range. For a corrupt file,
one owned by nobody, one others can read, a symlink, and values out of
range, `run` exits 1 naming the file and the reason, and the kernel's audit
state is exactly as before (no setting from the file, no rule). A proper
file (left by a dead run, holding the current settings) is restored from
and removed.
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
SETTINGS = ("enabled", "pid", "backlog_limit", "backlog_wait_time")

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


before = audit_state()
check(before["rules"] == 0, f"no rule with key {KEY} before")
# Values unlike the kernel's now: applying any of them would show.
planted = f"{dead_pid()} {1 - min(before['enabled'], 1)} " \
          f"{before['backlog_limit'] + 77} 0\n"

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
    ("corrupt", lambda: plant("12 x 8192\n"), "not four decimal numbers"),
    ("owned by nobody", lambda: plant(planted, owner=65534),
     "owned by uid 65534, not root"),
    ("mode 0644", lambda: plant(planted, mode=0o644), "mode 0644, not 0600"),
    ("enabled=2 (lock)", lambda: plant(f"{dead_pid()} 2 64 0\n"),
     "enabled=2 out of range"),
    ("backlog_limit huge", lambda: plant(f"{dead_pid()} 1 4000000000 0\n"),
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

for name, make, why in cases:
    make()
    code, err = run_agent(state, work)
    check(code == 1 and f"refusing the state file {state}: {why}" in err,
          f"{name}: refused, exit 1 ({code}, {err.strip()[-240:]!r})")
    after = audit_state()
    check(all(after[k] == before[k] for k in SETTINGS) and after["rules"] == 0,
          f"{name}: nothing applied ({after})")
    check(os.path.lexists(state), f"{name}: the file is left for root to see")

# A proper file of a dead run holding the settings as they are: restored
# from and removed, and the run starts.
plant(f"{dead_pid()} {before['enabled']} {before['backlog_limit']} "
      f"{before['backlog_wait_time']}\n")
code, err = run_agent(state, work)
check(code == 0 and "restoring audit settings left by a crashed run" in err,
      f"root's 0600 file is restored from ({code}, {err.strip()[-300:]!r})")
check(not os.path.lexists(state), "and removed at the clean stop")
after = audit_state()
check(all(after[k] == before[k] for k in SETTINGS) and after["rules"] == 0,
      f"the kernel is as before ({after})")
finish()
