"""Starts `auditree run` for integration tests and reads what it writes.

Root and kernel audit are required: in CI (CI=true) their absence fails the
test, elsewhere it is skipped with a loud reason (exit 77, CTest's skip).
Every test uses its own rule key and checks at the end that the kernel's
audit state is as it found it.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

failures = []


def free_port():
    """A loopback TCP port free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path):
    """GET on the agent's loopback HTTP API: (status, body)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def skip_or_fail(reason):
    if os.environ.get("CI") == "true":
        print("FAIL: " + reason + " (required in CI)")
        sys.exit(1)
    print("SKIPPED: " + reason)
    sys.exit(77)


def finish():
    if failures:
        print(f"{len(failures)} checks failed")
        sys.exit(1)


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    check(False, "timed out waiting for " + what)
    return False


# -- /proc ---------------------------------------------------------------------

def proc_stat(pid):
    """(state, ppid) of a pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return rest[0], int(rest[1])
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def proc_ppid(pid):
    st = proc_stat(pid)
    return st[1] if st else None


def live_pids():
    """Pids of live processes (zombies are dead)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st and st[0] not in ("Z", "X"):
                pids.append(int(entry))
    return pids


def proc_children(pid):
    return [p for p in live_pids() if proc_ppid(p) == pid]


def proc_exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def proc_cgroup(pid):
    """The unified cgroup path, or name=systemd's when unified is /."""
    unified = systemd = ""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                line = line.rstrip("\n")
                if line.startswith("0::"):
                    unified = line[3:]
                elif ":name=systemd:" in line:
                    systemd = line.split(":name=systemd:", 1)[1]
    except OSError:
        return None
    return systemd if unified in ("", "/") and systemd else unified


def tree_vs_proc(agent):
    """Where one tree dump of `agent` and /proc disagree, over the processes
    /proc shows alive and unchanged through the dump: {kind: pids}. Events
    reach the tree tens of milliseconds after /proc shows them: callers
    compare twice and take what is off in both."""
    before = {pid: proc_stat(pid) for pid in live_pids()}
    tree = agent.tree()
    after = {pid: proc_stat(pid) for pid in live_pids()}
    stable = {pid: st for pid, st in before.items()
              if st is not None and after.get(pid) == st and st[0] != "Z"}
    running = {pid for pid, p in tree.items() if "end" not in p["process"]}
    return {
        "checked": len(stable),
        "missing": {pid for pid in stable if pid not in running},
        "wrong parent": {pid for pid, st in stable.items()
                         if st[1] != 0 and tree.get(pid, {}).get("process", {})
                         .get("parent", {}).get("pid") != st[1]},
        "ghost": {pid for pid in running
                  if pid not in before and pid not in after},
    }


# -- the agent -----------------------------------------------------------------

class Agent:
    def __init__(self, auditree, audit_state, repo, key, grace_s=1.0,
                 extra=()):
        if os.geteuid() != 0:
            skip_or_fail("needs root")
        self.audit_state_tool = audit_state
        self.key = key
        self.grace_s = grace_s
        self.before = self.audit_state()
        check(self.before["rules"] == 0, f"no rule with key {key} before")
        self.work = tempfile.mkdtemp(prefix="auditree-test-")
        self.events_path = os.path.join(self.work, "events.json")
        self.tree_path = os.path.join(self.work, "tree.json")
        self.err_path = os.path.join(self.work, "agent.err")
        self.proc = subprocess.Popen(
            [auditree, "run", f"--auditree.output={self.events_path}",
             f"--tree-json={self.tree_path}", f"--auditree.rule-key={key}",
             f"--auditree.exit-grace={int(grace_s * 1000)}ms",
             f"--auditree.state-file={self.work}/audit-state",
             f"--auditree.rules-file={repo}/config/audit.rules",
             f"--config-file={repo}/config/auditree.conf", *extra],
            stderr=open(self.err_path, "w"), cwd=self.work)
        if not wait_for(lambda: "listening to kernel audit" in self.log(),
                        15, "the agent to listen"):
            print(self.log())
            self.stop()
            finish()

    def audit_state(self):
        out = subprocess.run([self.audit_state_tool, self.key],
                             capture_output=True, text=True)
        if out.returncode != 0:
            skip_or_fail("kernel audit unavailable: " + out.stderr.strip())
        return json.loads(out.stdout)

    def log(self):
        with open(self.err_path) as f:
            return f.read()

    def tree(self):
        """Asks the running agent for its tree (SIGUSR1): {pid: process}."""
        old = (os.path.getmtime(self.tree_path)
               if os.path.exists(self.tree_path) else 0)
        self.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: os.path.exists(self.tree_path)
                 and os.path.getmtime(self.tree_path) != old, 5, "a tree dump")
        with open(self.tree_path) as f:
            return {p["process"]["pid"]: p for p in json.load(f)}

    def events(self):
        with open(self.events_path) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]

    def stop(self):
        """Stops the agent; checks it left kernel audit as it found it."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = "hung"
        check(code == 0, f"the agent stopped cleanly (exit {code})")
        after = self.audit_state()
        for key in ("enabled", "pid", "backlog_limit", "backlog_wait_time"):
            check(after[key] == self.before[key],
                  f"{key} restored ({self.before[key]} -> {after[key]})")
        check(after["rules"] == 0, f"no rule with key {self.key} left")
        print(self.log()[-1200:])
