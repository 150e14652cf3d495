#!/usr/bin/env python3
"""`auditree run` with real containers: runc, containerd (ctr), docker and
podman.

With the agent listening, scripts/containers.sh starts containerd and
dockerd (after the agent enabled audit, or their forks are not audited) and
runs containers from a local busybox image:
- `sh -c 'sleep 1 & sleep 2; ls'` in the foreground and a longer-lived tree
  detached, in each runtime: while they run, the agent's processes for the
  container equal /proc's processes in the container's cgroup (pids,
  parents, exe), and the container id is the runtime's id (docker's and
  podman's also by short id and name);
- docker stop, podman stop and kill, ctr kill -s SIGKILL, and an init that
  exits while its child still runs: the container's processes leave the
  tree within the grace (plus one reconciliation), and the stream shows
  their exits from the proc connector with the signal.
Afterwards no runtime daemon runs and kernel audit is as it was.
Prints a table per scenario: expected and seen processes and exits.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import (Agent, check, finish, live_pids, proc_cgroup,
                           proc_exe, proc_ppid, wait_for, free_port)

AUDITREE, AUDIT_STATE, REPO = (os.path.abspath(a) for a in sys.argv[1:4])
CONTAINERS = os.path.join(REPO, "scripts", "containers.sh")
NAMESPACE = "auditree"          # ctr namespace of containers.sh
RUNC_PARENT = "auditree-runc"   # runc cgroup parent of containers.sh
PODMAN_PARENT = "/libpod_parent/libpod-"  # podman's cgroupfs layout
table = []


def env(*args, check_rc=True):
    out = subprocess.run([CONTAINERS, *args], capture_output=True, text=True)
    if check_rc and out.returncode != 0:
        print(out.stdout, out.stderr)
        raise RuntimeError(f"containers.sh {' '.join(args)} failed")
    return out.stdout.strip()


def members_in_proc(cgroup):
    """{pid: (ppid, exe)} of live processes in a cgroup path."""
    return {pid: (proc_ppid(pid), proc_exe(pid)) for pid in live_pids()
            if proc_cgroup(pid) == cgroup}


def nspid(pid):
    """The last NSpid of /proc/PID/status: its pid in its own namespace."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except OSError:
        pass
    return None


def members_in_tree(tree, container):
    return {pid: p for pid, p in tree.items()
            if p.get("container", {}).get("id") == container
            and "end" not in p["process"]}


def compare(agent, name, container, cgroup):
    """The agent's running members of a container equal /proc's, with their
    parents and programs, within a second (events reach the tree a few
    milliseconds after /proc shows them; /proc changes between reads)."""
    def same(seen, tree):
        return set(seen) == set(tree) and all(
            tree[p]["process"].get("parent", {}).get("pid") == ppid
            and tree[p]["process"].get("executable") == exe
            and tree[p]["process"].get("vpid") == nspid(p)
            for p, (ppid, exe) in seen.items())
    deadline = time.time() + 1.0
    while True:
        seen = members_in_proc(cgroup)
        tree = members_in_tree(agent.tree(), container)
        if (seen and same(seen, tree)) or time.time() > deadline:
            break
        time.sleep(0.1)
    check(seen and set(seen) == set(tree),
          f"{name}: running members {sorted(tree)} == /proc {sorted(seen)}")
    for pid, (ppid, exe) in seen.items():
        p = tree.get(pid, {}).get("process", {})
        got = (p.get("parent", {}).get("pid"), p.get("executable"))
        check(got == (ppid, exe),
              f"{name}: pid {pid} parent {ppid} exe {exe} as in /proc "
              f"(tree: {got})")
        # Both pid views: the tree's vpid is /proc's NSpid, and the
        # parent's vpid is the parent's (the init's parent is no member).
        want = nspid(pid)
        check(want is not None and want != pid and p.get("vpid") == want,
              f"{name}: pid {pid} vpid {p.get('vpid')} == NSpid {want}")
        if ppid in seen:
            check(p.get("parent", {}).get("vpid") == nspid(ppid),
                  f"{name}: pid {pid} parent vpid "
                  f"{p.get('parent', {}).get('vpid')} == NSpid {nspid(ppid)}")
    return seen


def exits_of(agent, pids):
    """{pid: signal} of connector exits in the stream for these pids."""
    return {e["process"]["pid"]: e["auditree"].get("signal", 0)
            for e in agent.events()
            if e["event"]["action"] == "exit" and e["process"]["pid"] in pids
            and e["auditree"]["source"] == "proc_connector"}


def gone(agent, name, pids, signal_expected, stopped_at):
    """The pids leave the tree in time; the stream has their signals."""
    deadline = agent.grace_s + 2.0  # grace + one reconciliation interval
    left = set(pids)
    while left and time.time() < stopped_at + deadline:
        time.sleep(0.2)
        left = set(pids) & set(agent.tree())
    check(not left, f"{name}: {len(pids) - len(left)}/{len(pids)} processes "
          f"left the tree within {deadline:.1f} s (left: {sorted(left)})")
    exits = exits_of(agent, set(pids))
    with_signal = [p for p, s in exits.items() if s == signal_expected]
    check(len(with_signal) == len(pids),
          f"{name}: {len(with_signal)}/{len(pids)} connector exits with "
          f"signal {signal_expected}")
    table.append((name, len(pids), len(pids) - len(left), len(pids),
                  len(with_signal)))


def wait_members(cgroup, n, what):
    wait_for(lambda: len(members_in_proc(cgroup)) >= n, 10, what)


SOCKET = f"/run/auditree-ctest-{os.getpid()}.sock"
HTTP = f"127.0.0.1:{free_port()}"
agent = Agent(AUDITREE, AUDIT_STATE, REPO, "auditree-ctest",
              extra=["--auditree.reconcile-interval=1s",
                     f"--auditree.socket={SOCKET}", f"--auditree.http={HTTP}"])


def cli_full(*args):
    out = subprocess.run([AUDITREE, f"--auditree.socket={SOCKET}", *args],
                         capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout, out.stderr


def cli(*args):
    return cli_full(*args)[:2]


def api(path):
    """(status, body) of GET path on the HTTP API."""
    try:
        with urllib.request.urlopen(f"http://{HTTP}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def running(body):
    return {p["process"]["pid"] for p in json.loads(body)
            if "end" not in p["process"]}


def by_every_id(name, forms, members):
    """Each form of the container's id finds exactly its running members
    (as /proc's cgroup shows them): CLI ps and tree, /containers/{id} and
    ?container=."""
    for form in forms:
        rc, out, err = cli_full("ps", "--container", form, "--json")
        got = running(out) if rc == 0 else err.strip()
        check(got == set(members),
              f"{name}: ps --container {form} -> {got} == /proc's "
              f"{sorted(members)}")
        path = urllib.parse.quote(form, safe="/")
        status, body = api(f"/containers/{path}")
        got = running(body) if status == 200 else (status, body.strip())
        check(got == set(members), f"{name}: /containers/{form} -> {got}")
        param = urllib.parse.quote(form, safe="")
        status, body = api(f"/processes?container={param}")
        got = running(body) if status == 200 else (status, body.strip())
        check(got == set(members), f"{name}: /processes?container={form} "
              f"-> {got}")
    rc, out = cli("tree", "--container", forms[-1])
    check(rc == 0 and all(f"({p},vpid " in out for p in members),
          f"{name}: tree --container {forms[-1]} shows its pids")


def refused(name, form, status_expected, mentions=()):
    """CLI and API refuse `form` with an error naming `mentions`."""
    rc, out, err = cli_full("ps", "--container", form)
    check(rc != 0 and out == "" and all(m in err for m in mentions),
          f"{name}: ps --container {form} fails (exit {rc}: {err.strip()})")
    path = urllib.parse.quote(form, safe="/")
    status, body = api(f"/containers/{path}")
    check(status == status_expected and all(m in body for m in mentions),
          f"{name}: /containers/{form} -> {status} {body.strip()}")
    status, body = api(f"/tree?container={urllib.parse.quote(form, safe='')}")
    check(status == status_expected, f"{name}: /tree?container={form} -> "
          f"{status}")
try:
    env("up")
    # -- foreground runs, compared while they run ------------------------------
    for runtime, cid in (("runc", "fg-runc"), ("ctr", "fg-ctr"),
                         ("docker", "fg-docker"), ("podman", "fg-podman")):
        run = subprocess.Popen(
            [CONTAINERS, f"run-{runtime}", cid, "sh", "-c",
             "sleep 2 & sleep 3; ls"], stdout=subprocess.DEVNULL)
        if runtime in ("docker", "podman"):
            # Both name the cgroup after their id, known once it runs.
            top = "/docker/" if runtime == "docker" else PODMAN_PARENT
            def id_cgroup():
                return next((cg for cg in map(proc_cgroup, live_pids())
                             if cg and cg.startswith(top)), None)
            wait_for(id_cgroup, 10, f"{runtime}'s cgroup")
            cgroup = id_cgroup() or "?"
            container = ("docker/" if runtime == "docker" else "libpod/") \
                + cgroup[len(top):]
        elif runtime == "ctr":
            cgroup, container = f"/{NAMESPACE}/{cid}", f"{NAMESPACE}/{cid}"
        else:
            cgroup, container = f"/{RUNC_PARENT}/{cid}", f"{RUNC_PARENT}/{cid}"
        wait_members(cgroup, 3, f"{runtime}'s foreground tree")
        seen = compare(agent, f"{runtime} foreground", container, cgroup)
        table.append((f"{runtime} foreground (running)", 3, len(seen), 0, 0))
        check(run.wait(timeout=30) == 0, f"{runtime} foreground exited 0")

    # -- detached trees, stopped three ways ---------------------------------
    # busybox sh execs its last command: sh, two sleeps.
    long_tree = "sleep 60 & sleep 60 & sleep 60"
    out = env("run-docker", "-d", "d-long", "sh", "-c", long_tree)
    docker_id = out.split()[0]
    cgroup = f"/docker/{docker_id}"
    wait_members(cgroup, 3, "docker's tree")
    pids = compare(agent, "docker detached", f"docker/{docker_id}", cgroup)
    check(len(docker_id) == 64, "docker: the id is docker's 64-hex id")
    short = docker_id[:12]  # as `docker ps` prints it
    by_every_id("docker", [f"docker/{docker_id}", docker_id, short,
                           f"docker/{short}", docker_id[:20], "d-long",
                           "/d-long", "docker/d-long", f"moby/{short}",
                           f"runc/{docker_id}"], pids)
    # A containerd container whose id starts with the same 12 hex digits:
    # the short id is now ambiguous, one more digit is not.
    twin = f"{short}-twin"
    env("run-ctr", "-d", twin, "sleep", "60")
    wait_members(f"/{NAMESPACE}/{twin}", 1, "the twin container")
    wait_for(lambda: f"{NAMESPACE}/{twin}" in cli("containers")[1], 5,
             "the agent to know the twin")
    refused("ambiguous prefix", short, 409,
            [f"docker/{docker_id}", f"{NAMESPACE}/{twin}"])
    by_every_id("docker with a twin", [docker_id[:13]], pids)
    twin_pids = members_in_proc(f"/{NAMESPACE}/{twin}")
    by_every_id("twin", [twin, f"{NAMESPACE}/{twin}"], twin_pids)
    env("kill", "ctr", twin, "KILL")
    refused("unknown name", "no-such-container", 404, ["no-such-container"])
    refused("unknown id", "f" * 64, 404)
    refused("too short a prefix", docker_id[:11], 404, ["12 hex"])
    refused("docker's name under runc", "runc/d-long", 404)
    # SIGTERM, then SIGKILL after 1 s (pid 1 ignores SIGTERM): the time
    # starts when the stop returns, the container dead.
    env("stop", "docker", "d-long", "1")
    gone(agent, "docker stop", list(pids), 9, time.time())
    # ECS: container.id is docker's own id; docker's name and image from
    # its root-owned state.
    lifecycle = [(e["event"]["action"], e.get("process", {}).get("pid"))
                 for e in agent.events()
                 if e.get("container", {}).get("id") == docker_id
                 and e["event"]["action"].startswith("container-")]
    labelled = [e["container"] for e in agent.events()
                if e.get("container", {}).get("id") == docker_id]
    check(labelled and all(c.get("runtime") == "docker"
                           and c.get("name") == "d-long"
                           and c.get("image", {}).get("name") == "auditree-busybox:latest"
                           for c in labelled),
          f"docker: every line names runtime, name and image "
          f"({labelled[:1]})")
    in_stream = [e for e in agent.events()
                 if e.get("container", {}).get("id") == docker_id
                 and e["event"]["action"] in ("fork", "exec")
                 and e["process"]["pid"] in pids]
    check(in_stream and all(e["process"].get("vpid") for e in in_stream),
          f"docker: every fork and exec of its processes carries vpid")
    init = [p for p, (ppid, _) in pids.items() if ppid not in pids]
    check(("container-start", None) in lifecycle
          and ("container-stop", init[0]) in lifecycle,
          f"docker: container start and stop in the stream ({lifecycle})")

    # Podman (cgroupfs, runc under conmon): by id, short id and the name its
    # root conmon carries; stopped (sh ignores SIGTERM: SIGKILL after 1 s),
    # then another killed.
    out = env("run-podman", "-d", "p-long", "sh", "-c", long_tree)
    podman_id = out.split()[0]
    check(len(podman_id) == 64, f"podman: the id is podman's 64-hex id "
          f"({podman_id})")
    cgroup = PODMAN_PARENT + podman_id
    wait_members(cgroup, 3, "podman's tree")
    pids = compare(agent, "podman detached", f"libpod/{podman_id}", cgroup)
    short = podman_id[:12]  # as `podman ps` prints it
    by_every_id("podman", [f"libpod/{podman_id}", podman_id, short,
                           f"libpod/{short}", f"podman/{short}",
                           podman_id[:20], "p-long", "podman/p-long",
                           "libpod/p-long", f"runc/{podman_id}"], pids)
    refused("podman's name under docker", "docker/p-long", 404)
    status, body = api("/containers")
    listed = {c["container"]["id"]: c["container"]["runtime"]
              for c in json.loads(body)} if status == 200 else {}
    check(listed.get(f"libpod/{podman_id}") == "podman",
          f"/containers lists libpod/{podman_id} as podman's "
          f"({listed.get(f'libpod/{podman_id}')})")
    env("stop", "podman", "p-long", "1")
    gone(agent, "podman stop", list(pids), 9, time.time())
    lifecycle = [(e["event"]["action"], e.get("process", {}).get("pid"))
                 for e in agent.events()
                 if e.get("container", {}).get("id") == podman_id
                 and e["event"]["action"].startswith("container-")]
    init = [p for p, (ppid, _) in pids.items() if ppid not in pids]
    check(("container-start", None) in lifecycle
          and ("container-stop", init[0]) in lifecycle,
          f"podman: container start and stop in the stream ({lifecycle})")
    out = env("run-podman", "-d", "p-kill", "sh", "-c", long_tree)
    podman_id = out.split()[0]
    cgroup = PODMAN_PARENT + podman_id
    wait_members(cgroup, 3, "podman's second tree")
    pids = compare(agent, "podman detached (to kill)", f"libpod/{podman_id}",
                   cgroup)
    t = time.time()
    env("kill", "podman", "p-kill", "KILL")
    gone(agent, "podman kill SIGKILL", list(pids), 9, t)

    env("run-ctr", "-d", "c-long", "sh", "-c", long_tree)
    cgroup = f"/{NAMESPACE}/c-long"
    wait_members(cgroup, 3, "ctr's tree")
    pids = compare(agent, "ctr detached", f"{NAMESPACE}/c-long", cgroup)
    # What an operator sees: the CLI on the live container.
    rc, out = cli("tree", "--container", f"{NAMESPACE}/c-long")
    check(rc == 0 and f"container {NAMESPACE}/c-long" in out
          and all(f"({p}," in out for p in pids),
          "CLI tree --container: the container's block with its pids")
    check(all(f"({p},vpid {nspid(p)})" in out for p in pids),
          "CLI tree --container: each pid beside its vpid (NSpid)")
    rc, out = cli("ps", "--container", f"{NAMESPACE}/c-long")
    check(rc == 0 and all(f"\n{p:7d} " in out for p in pids)
          and "sleep 60" in out, "CLI ps --container: its processes")
    check("    PID    VPID    PPID" in out
          and all(f"\n{p:7d} {nspid(p):7d} " in out for p in pids),
          "CLI ps --container: a VPID column with /proc's NSpid")
    rc, out, _ = cli_full("ps", "--container", f"{NAMESPACE}/c-long",
                          "--json")
    vpids = {e["process"]["pid"]: e["process"].get("vpid")
             for e in json.loads(out)} if rc == 0 else {}
    check(all(vpids.get(p) == nspid(p) for p in pids),
          f"ps --container --json: vpid == NSpid ({vpids})")
    rc, out = cli("containers")
    check(rc == 0 and f"{NAMESPACE}/c-long" in out and "containerd" in out,
          "CLI containers: lists it with its runtime")
    by_every_id("ctr", ["c-long", "containerd/c-long", "runc/c-long",
                        f"{NAMESPACE}/c-long"], pids)
    t = time.time()
    env("kill", "ctr", "c-long", "KILL")
    gone(agent, "ctr kill SIGKILL", list(pids), 9, t)

    # The init (sh exec'ing `sleep 3`) exits while its child `sleep 60`
    # runs: the kernel kills the child with the pid namespace.
    env("run-runc", "-d", "r-orphan", "sh", "-c", "sleep 60 & sleep 3")
    cgroup = f"/{RUNC_PARENT}/r-orphan"
    wait_members(cgroup, 2, "runc's tree")
    pids = compare(agent, "runc detached", f"{RUNC_PARENT}/r-orphan", cgroup)
    init = [p for p, (ppid, _) in pids.items() if ppid not in pids]
    orphans = [p for p in pids if p not in init]
    check(len(init) == 1 and len(orphans) == 1, "runc: one init, one child")
    # Quick: the init exits 3 s after it started.
    by_every_id("runc", ["r-orphan", "runc/r-orphan"], pids)
    wait_for(lambda: not set(init) & set(live_pids()), 10,
             "the runc init to exit")
    gone(agent, "runc init exits, child torn down", orphans, 9, time.time())
    env("rm", "runc", "r-orphan", check_rc=False)
finally:
    env("down", check_rc=False)
    # Podman's conmons name our podman directory in their argv.
    daemons = subprocess.run(
        ["pgrep", "-f", "auditree-test/(containerd|docker|podman/)"],
        capture_output=True, text=True).stdout.split()
    check(not daemons, f"no runtime daemon or conmon left ({daemons})")
    agent.stop()

print("\nscenario | processes expected | seen | exits expected | "
      "connector exits with signal")
for row in table:
    print(" | ".join(str(x) for x in row))
finish()
