#!/usr/bin/env python3
"""Container forgeries by the unprivileged user `nobody` (issue 13).

With the agent listening and one real runc container running
(scripts/containers.sh run-runc), `nobody` tries to write the tree:
- argv lookalikes of runc, containerd-shim, docker-init, conmon and crun
  (`exec -a runc /bin/true create fakeN`; conmon with podman's argv,
  `-c <id> -u <id> -r /usr/bin/crun -n <name>`), some with 100 KB ids (and
  root's real runc given a 100 KB id: refused as bad_id);
- forged `runc delete <real id>` and `runc kill <real id> KILL`;
- cgroups named docker-<64 hex>.scope, podman's libpod-<64 hex>.scope and
  libpod_parent/libpod-<64 hex> (and a containerd-like one) in a subtree
  root delegated to nobody, with processes moved into them.
Then: the real container keeps its true view (members equal /proc, not
ended), no fake container appears, every forgery is counted in /metrics
(auditree_container_claims_rejected_total), and the agent's RSS grows by
less than 2 MB over 10,000 forgeries after a warm-up. Prints the figures:
forgeries tried / rejected, RSS before and after.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import (Agent, check, finish, live_pids, proc_cgroup,
                           proc_exe, proc_ppid, skip_or_fail, wait_for,
                           free_port)

AUDITREE, AUDIT_STATE, REPO = (os.path.abspath(a) for a in sys.argv[1:4])
CONTAINERS = os.path.join(REPO, "scripts", "containers.sh")
RUNC_PARENT = "auditree-runc"   # runc cgroup parent of containers.sh
REAL = "r-forged"               # the real container's id
NOBODY = 65534
HEX = "f" * 64
ROUNDS = 10_000
RSS_BOUND_KB = 2048
NAMES = ["runc", "containerd-shim", "docker-init", "conmon", "crun"]
# nobody's fake container cgroups: docker's, podman's (systemd and cgroupfs
# drivers) and a containerd-like /<ns>/<id>.
FAKE_CGROUPS = [f"docker-{HEX}.scope", f"libpod-{HEX}.scope",
                f"libpod_parent/libpod-{HEX}", "fake1"]


def env(*args, check_rc=True):
    out = subprocess.run([CONTAINERS, *args], capture_output=True, text=True)
    if check_rc and out.returncode != 0:
        print(out.stdout, out.stderr)
        raise RuntimeError(f"containers.sh {' '.join(args)} failed")
    return out.stdout.strip()


def as_nobody(script, **kw):
    """Runs a bash script as nobody (no groups, no capabilities)."""
    return subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
         "--clear-groups", "--inh-caps=-all", "bash", "-c", script],
        capture_output=True, text=True, **kw)


def metrics():
    with urllib.request.urlopen(f"http://{HTTP}/metrics", timeout=10) as r:
        body = r.read().decode()
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r'^auditree_container_claims_rejected_total\{reason="([a-z_]+)"\} '
        r'(\d+)$', body, re.M)}


def containers():
    """{id: container} of the agent's /containers."""
    with urllib.request.urlopen(f"http://{HTTP}/containers",
                                timeout=10) as r:
        return {c["container"]["id"]: c for c in json.loads(r.read())}


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def forgery_script(rounds, start, huge_every=0):
    """`rounds` lookalike execs as nobody: every name in turn, a create, a
    shim's -id, and a forged delete/kill of the real container; every
    `huge_every`-th one carries a 100 KB id."""
    return f"""
huge=$(head -c 102400 /dev/zero | tr '\\0' a)
names=({' '.join(NAMES)})
for ((i={start}; i<{start + rounds}; i++)); do
  n=${{names[i % 5]}}
  id=fake$i
  if [ {huge_every} -gt 0 ] && [ $((i % {huge_every or 1})) -eq 0 ]; then
    id=$huge
  fi
  case $((i % 4)) in
    0) if [ $n = conmon ]; then
         (exec -a conmon /bin/true --api-version 1 -c $id -u $id \
            -r /usr/bin/crun -n $id)
       else
         (exec -a $n /bin/true create $id)
       fi ;;
    1) (exec -a $n /bin/true -namespace moby -id $id) ;;
    2) (exec -a runc /bin/true delete {REAL}) ;;
    3) (exec -a runc /bin/true kill {REAL} KILL) ;;
  esac
done
"""


def unified_root():
    for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if os.path.exists(f"{root}/cgroup.controllers"):
            return root
    return None


def delegated_cgroups():
    """As root: a cgroup delegated to nobody; as nobody: FAKE_CGROUPS
    inside, each holding a sleeping process. Returns the pids (and the
    directory to clean up)."""
    root = unified_root()
    if root is None:
        check(False, "a cgroup v2 hierarchy is mounted")
        return [], None
    top = f"{root}/auditree-forge-{os.getpid()}"
    os.mkdir(top)
    for f in ("", "/cgroup.procs", "/cgroup.threads",
              "/cgroup.subtree_control"):
        os.chown(top + f, NOBODY, NOBODY)
    # nobody waits until root moved it into its subtree, then makes its
    # fake containers and moves a child into each (cgroup v2 lets the
    # owner of the common ancestor's cgroup.procs do that).
    holder = subprocess.Popen(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
         "--clear-groups", "bash", "-c", f"""
read go
for name in {' '.join(FAKE_CGROUPS)}; do
  mkdir -p {top}/$name
  (echo $BASHPID > {top}/$name/cgroup.procs && exec sleep 60) &
done
echo ready
wait
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    with open(f"{top}/cgroup.procs", "w") as f:
        f.write(str(holder.pid))
    holder.stdin.write("go\n")
    holder.stdin.flush()
    holder.stdout.readline()
    pids = []
    wait_for(lambda: len(pids_in(top, root)) == len(FAKE_CGROUPS), 5,
             "nobody's processes in its fake container cgroups")
    pids = pids_in(top, root)
    return pids, (top, holder)


def pids_in(top, root):
    rel = top[len(root):]
    return [p for p in live_pids() if (proc_cgroup(p) or "").startswith(
        rel + "/")]


if os.geteuid() != 0:
    skip_or_fail("needs root")
if shutil.which("runc") is None or shutil.which("setpriv") is None:
    skip_or_fail("runc and setpriv are needed (scripts/setup.sh)")

HTTP = f"127.0.0.1:{free_port()}"
SOCKET = f"/run/auditree-forge-{os.getpid()}.sock"
agent = Agent(AUDITREE, AUDIT_STATE, REPO, "auditree-forge",
              extra=["--auditree.reconcile-interval=1s",
                     f"--auditree.socket={SOCKET}", f"--auditree.http={HTTP}"])
cleanup = None
started = time.time()
try:
    env("prepare")
    env("run-runc", "-d", REAL, "sh", "-c", "sleep 300 & sleep 300")
    cgroup = f"/{RUNC_PARENT}/{REAL}"
    wait_for(lambda: len([p for p in live_pids()
                          if proc_cgroup(p) == cgroup]) >= 2, 10,
             "the real container's two processes")
    real = f"{RUNC_PARENT}/{REAL}"

    def real_view(what):
        seen = {p: (proc_ppid(p), proc_exe(p)) for p in live_pids()
                if proc_cgroup(p) == cgroup}
        deadline = time.time() + 2
        while True:
            tree = {pid: p for pid, p in agent.tree().items()
                    if p.get("container", {}).get("id") == real
                    and "end" not in p["process"]}
            if set(tree) == set(seen) or time.time() > deadline:
                break
            time.sleep(0.2)
        check(seen and set(tree) == set(seen),
              f"{what}: the real container's running members "
              f"{sorted(tree)} == /proc {sorted(seen)}")
        listed = containers().get(real)
        check(listed is not None and "end" not in listed,
              f"{what}: {real} is listed and not ended ({listed})")

    real_view("before the forgeries")
    before = metrics()
    check(set(before) == {"not_runtime_binary", "not_root", "bad_id",
                          "no_cgroup", "delegated_cgroup",
                          "argv_only_delete"},
          f"/metrics shows every reason ({sorted(before)})")

    # Warm-up: the allocator reaches its working size (100 KB ids too).
    warm = 1000
    out = as_nobody(forgery_script(warm, 0, huge_every=20), timeout=120)
    check(out.returncode == 0, f"nobody's warm-up ran ({out.stderr[-300:]})")
    time.sleep(agent.grace_s + 1.5)  # reaps of the warm-up's processes
    rss_before = rss_kb(agent.proc.pid)

    t = time.time()
    out = as_nobody(forgery_script(ROUNDS, warm, huge_every=200),
                    timeout=120)
    check(out.returncode == 0, f"nobody's forgeries ran ({out.stderr[-300:]})")
    spent = time.time() - t
    # Root's own runc with ids outside runc's grammar (100 KB, a space):
    # a runtime's claim, refused for its id. runc itself fails them.
    bad_ids = ["a" * 102400, "a b", "."]
    for bad in bad_ids:
        subprocess.run(["runc", "--root", f"/run/auditree-forge-{os.getpid()}",
                        "delete", bad], capture_output=True)
    pids, cleanup = delegated_cgroups()
    forged_cgroups = len(pids)
    check(forged_cgroups == len(FAKE_CGROUPS), f"nobody put {forged_cgroups} "
          "processes into fake container cgroups")
    tried = warm + ROUNDS
    deletes = sum(1 for i in range(tried) if i % 4 >= 2)

    # Every forgery counted: wait for the tree to catch up.
    def rejected():
        now = metrics()
        return {k: now[k] - before.get(k, 0) for k in now}
    wait_for(lambda: sum(rejected().values())
             >= tried + forged_cgroups + len(bad_ids),
             30, "every forgery to be counted")
    time.sleep(agent.grace_s + 1.5)
    rss_after = rss_kb(agent.proc.pid)
    got = rejected()
    total = sum(got.values())
    print(f"forgeries tried: {tried} execs ({deletes} forged deletes) + "
          f"{forged_cgroups} processes in delegated cgroups, in "
          f"{spent:.1f} s; rejected: {total} {got}")
    print(f"agent RSS: {rss_before} kB before, {rss_after} kB after "
          f"{ROUNDS} forgeries ({rss_after - rss_before:+d} kB)")
    check(got["argv_only_delete"] == deletes,
          f"every forged delete counted ({got['argv_only_delete']} of "
          f"{deletes})")
    check(got["not_runtime_binary"] == tried - deletes,
          f"every lookalike counted ({got['not_runtime_binary']} of "
          f"{tried - deletes})")
    check(got["bad_id"] == len(bad_ids),
          f"root's runc with bad ids refused ({got['bad_id']} of "
          f"{len(bad_ids)})")
    check(got["not_root"] == 0 and got["no_cgroup"] == 0,
          f"no other refusal ({got})")
    check(got["delegated_cgroup"] >= forged_cgroups,
          f"the delegated cgroups refused ({got['delegated_cgroup']})")
    check(rss_after - rss_before < RSS_BOUND_KB,
          f"RSS grew {rss_after - rss_before} kB < {RSS_BOUND_KB} kB over "
          f"{ROUNDS} forgeries")

    # No fake container, and the forged processes are on the host.
    # runc's argv names the real one too (`r-forged`, its twin).
    ids = sorted(containers())
    check(set(ids) <= {real, REAL},
          f"only the real container is listed ({ids[:5]})")
    tree = agent.tree()
    for pid in pids:
        got_container = tree.get(pid, {}).get("container", {}).get("id")
        check(pid in tree and got_container is None,
              f"nobody's pid {pid} in {proc_cgroup(pid)} is in no "
              f"container ({got_container})")
    real_view("after the forgeries")
    check(time.time() - started < 90,
          f"the test took {time.time() - started:.0f} s (< 90 s)")
finally:
    env("rm", "runc", REAL, check_rc=False)
    if cleanup:
        top, holder = cleanup
        holder.kill()
        holder.wait()
        for p in pids_in(top, unified_root()):
            try:
                os.kill(p, 9)
            except ProcessLookupError:
                pass
        time.sleep(0.3)
        for name in FAKE_CGROUPS + ["libpod_parent", ""]:
            try:
                os.rmdir(os.path.join(top, name))
            except OSError as e:
                print(f"cannot remove {top}/{name}: {e}")
    agent.stop()
finish()
