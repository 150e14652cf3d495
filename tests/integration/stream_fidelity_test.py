#!/usr/bin/env python3
"""The live JSON stream's start events against the kernel's truth.

While `auditree run` writes its stream, two independent readers run beside
it: scripts/capture/procevents.py (the proc connector: every fork of every
task with host pids, thread or process) and scripts/capture/capture.py (the
audit multicast group, passive: which clones audit recorded). Three
workloads run one after another, each in its own time window:
- containers: containerd and dockerd start (scripts/containers.sh up), run
  containers through runc, ctr and docker, stop them, and stop again;
- fork-storm: scripts/capture/scenarios/fork-storm.sh (fork+exec bursts);
- kill-and-reuse: scripts/capture/scenarios/kill-and-reuse.sh (signals,
  orphans, a subreaper, threads killed, pids reused under pid_max 1024).
Per workload, over the start events (`event.action` fork) stamped in its
window:
- precision: the share of start events that name a process the connector
  saw created at that moment (its tgid, within TOLERANCE of the stamp) with
  the parent the kernel gave it;
- recall: of the processes whose creation audit recorded (a successful
  clone, clone3, fork or vfork record returning the child's pid, or made
  by its parent, within TOLERANCE), the share with exactly one start event;
- host pids: start events whose pid was no process created then (a thread,
  or a pid from a container's pid namespace).
Issue 20 requires precision and recall >= 99.5% and no such pid: that is
asserted over every start event in the window, whoever made the process
(others' builds on a shared machine too: a thread reported as a process is
wrong whoever owns it). A second table, for diagnosis, keeps only the
workload's own lineage (descendants of this test, by the connector's
forks). Prints both and the worst offenders. Set FIDELITY_REPORT=FILE to
also write the figures as JSON.
"""
import bisect
import collections
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import Agent, check, failures, finish, skip_or_fail

AUDITREE, AUDIT_STATE, REPO = (os.path.abspath(a) for a in sys.argv[1:4])
CAPTURE = os.path.join(REPO, "scripts", "capture")
CONTAINERS = os.path.join(REPO, "scripts", "containers.sh")
REQUIRED = 99.5
# Audit stamps a clone at its entry, from the coarse clock cut to
# milliseconds; the connector at the end of copy_process.
TOLERANCE = 0.5
# The coarse clock lags real time by up to two ticks: a workload's first
# clone may carry a stamp from just before the window opened.
STAMP_LAG = 0.1
START_ACTIONS = {"fork"}
# x86_64 and i386 numbers of clone, fork, vfork, clone3 (the rules' arches).
CLONE_CALLS = {"c000003e": {56, 57, 58, 435}, "40000003": {120, 2, 190, 435}}
work = tempfile.mkdtemp(prefix="auditree-fidelity-")


def sh(*args, **kw):
    out = subprocess.run(list(args), capture_output=True, text=True,
                         timeout=120, **kw)
    if out.returncode != 0:
        print(out.stdout[-2000:], out.stderr[-2000:])
        raise RuntimeError(f"{' '.join(args)} failed ({out.returncode})")
    return out.stdout


# -- the workloads -------------------------------------------------------------

def containers():
    env = lambda *a, **kw: sh(CONTAINERS, *a, **kw)  # noqa: E731
    env("up")
    env("run-runc", "f-runc", "sh", "-c", "sleep 0.5 & ls >/dev/null; wait")
    env("run-ctr", "f-ctr", "sh", "-c", "sleep 1 & sleep 2; ls >/dev/null")
    env("run-docker", "f-docker", "sh", "-c",
        "for i in 1 2 3; do sh -c 'sleep 0.2'; done")
    env("run-docker", "-d", "f-docker-d", "sh", "-c",
        "sleep 60 & sleep 60 & sleep 60")
    env("run-ctr", "-d", "f-ctr-d", "sh", "-c", "sh -c 'sleep 30' & sleep 30")
    env("run-runc", "-d", "f-runc-d", "sh", "-c", "sleep 60 & sleep 2")
    time.sleep(1)
    env("stop", "docker", "f-docker-d", "1")
    env("kill", "ctr", "f-ctr-d", "KILL")
    time.sleep(1.5)
    env("rm", "runc", "f-runc-d")
    env("down")


def fork_storm():
    scenario = os.path.join(CAPTURE, "scenarios", "fork-storm.sh")
    environ = dict(os.environ, CORPUS_SCRATCH=work, FORKSTORM_C="3000",
                   FORKSTORM_BASH="300")
    sh(scenario, os.path.join(work, "fork-storm.notes"), env=environ)


def kill_and_reuse():
    scenario = os.path.join(CAPTURE, "scenarios", "kill-and-reuse.sh")
    sh(scenario, os.path.join(work, "kill-and-reuse.notes"),
       env=dict(os.environ, TMPDIR=work))


WORKLOADS = [("containers", containers), ("fork-storm", fork_storm),
             ("kill-and-reuse", kill_and_reuse)]


# -- truth ---------------------------------------------------------------------

FIELD = re.compile(r"(\w+)=(\S+)")


def read_connector(path, mono_to_wall):
    """Process creations [(time, child tgid, parent tgid)], thread
    creations {tid: [(time, tgid)]} and process exits [(time, pid)], in
    wall time."""
    creations, threads, exits = [], collections.defaultdict(list), []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3 or parts[2] not in ("FORK", "EXIT"):
                continue
            kv = dict(FIELD.findall(line))
            t = int(parts[0]) / 1e9 + mono_to_wall
            if parts[2] == "EXIT":
                if kv["pid"] == kv["tgid"]:
                    exits.append((t, int(kv["pid"])))
                continue
            child, tgid = int(kv["child_pid"]), int(kv["child_tgid"])
            if child == tgid:
                creations.append((t, child, int(kv["parent_tgid"])))
            else:
                threads[child].append((t, tgid))
    creations.sort()
    return creations, threads, exits


def lineage(root, creations, exits):
    """{pid: [[start, end]]}: when each process descending from `root`
    (this test) lived, so that a reused pid is not taken for one."""
    spans = {root: [[0.0, float("inf")]]}
    alive = {root}
    timeline = sorted([(t, 0, child, parent) for t, child, parent in creations]
                      + [(t, 1, pid, 0) for t, pid in exits])
    for t, kind, pid, parent in timeline:
        if kind == 0 and parent in alive:
            alive.add(pid)
            spans.setdefault(pid, []).append([t, float("inf")])
        elif kind == 1 and pid in alive and pid != root:
            alive.discard(pid)
            spans[pid][-1][1] = t
    return spans


def read_audit_clones(path):
    """Successful clone-family syscalls: {exit: [time]} and {pid: [time]}."""
    by_exit, by_caller = (collections.defaultdict(list) for _ in range(2))
    stamp = re.compile(r"msg=audit\((\d+)\.(\d+):")
    with open(path, errors="replace") as f:
        for line in f:
            if not line.startswith("type=SYSCALL"):
                continue
            kv = dict(FIELD.findall(line))
            calls = CLONE_CALLS.get(kv.get("arch", ""))
            if not calls or int(kv.get("syscall", -1)) not in calls:
                continue
            if kv.get("success") != "yes" or int(kv.get("exit", 0)) <= 0:
                continue
            m = stamp.search(line)
            t = int(m.group(1)) + int(m.group(2)) / 1000
            by_exit[int(kv["exit"])].append(t)
            by_caller[int(kv["pid"])].append(t)
    return by_exit, by_caller


def near(times, t):
    i = bisect.bisect_left(times, t - TOLERANCE)
    return i < len(times) and times[i] <= t + TOLERANCE


def stamp_of(event):
    """The audit stamp (`event.id`, SECONDS.MILLIS:SERIAL), else
    `@timestamp`."""
    if "id" in event["event"]:
        sec, rest = event["event"]["id"].split(":")[0].split(".")
        return int(sec) + int(rest) / 1000
    return datetime.datetime.strptime(
        event["@timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def measure(window, events, creations, threads, by_exit, by_caller,
            spans=None):
    """The figures over the start events stamped in `window` and the
    creations in it; with `spans` (see lineage), only the workload's own:
    events naming, or made by, one of its processes or threads."""
    t0, t1 = window

    def ours(pid, t):
        return any(a - TOLERANCE <= t <= b + TOLERANCE
                   for a, b in spans.get(pid, ()))

    def in_scope(e):
        t, pid = stamp_of(e), e["process"]["pid"]
        ppid = e["process"].get("parent", {}).get("pid")
        return (spans is None or ours(pid, t) or ours(ppid, t)
                or any(ours(tgid, t) for _, tgid in threads.get(pid, ())))
    # The truth readers' own forks came before the truth: not judged.
    starts = [e for e in events if e["event"]["action"] in START_ACTIONS
              and t0 - STAMP_LAG <= stamp_of(e) <= t1 + TOLERANCE
              and e["process"]["pid"] not in reader_pids
              and in_scope(e)]
    by_pid = collections.defaultdict(list)
    for c in creations:
        by_pid[c[1]].append(c)
    assigned = collections.Counter()
    good, bad, foreign = 0, [], []
    for e in starts:
        t, pid = stamp_of(e), e["process"]["pid"]
        ppid = e["process"].get("parent", {}).get("pid")
        close = [c for c in by_pid.get(pid, ()) if abs(c[0] - t) <= TOLERANCE]
        if not close:
            kind = ("thread" if near([x for x, _ in threads.get(pid, ())], t)
                    else "no process created")
            foreign.append((kind, pid, ppid,
                            e.get("auditree", {}).get("source")))
            bad.append((kind, pid, ppid))
            continue
        c = min(close, key=lambda c: abs(c[0] - t))
        assigned[c] += 1
        if c[2] == ppid:
            good += 1
        else:
            bad.append((f"parent {ppid}, kernel says {c[2]}", pid, ppid))
    recorded = [c for c in creations if t0 <= c[0] <= t1
                and (spans is None or ours(c[1], c[0]))
                and (near(by_exit.get(c[1], ()), c[0])
                     or near(by_caller.get(c[2], ()), c[0]))]
    once = sum(1 for c in recorded if assigned[c] == 1)
    missing = [c for c in recorded if assigned[c] == 0]
    twice = [c for c in recorded if assigned[c] > 1]
    return {
        "start_events": len(starts), "precise": good,
        "precision": 100.0 * good / len(starts) if starts else 100.0,
        "recorded_creations": len(recorded), "exactly_once": once,
        "recall": 100.0 * once / len(recorded) if recorded else 100.0,
        "missing": len(missing), "more_than_once": len(twice),
        "not_host_process": len(foreign),
        "examples": {
            "imprecise": [list(map(str, b)) for b in bad[:8]],
            "missing": [list(c[1:]) for c in missing[:8]],
            "not_host_process":
                [list(map(str, x)) for x in collections.Counter(
                    f[0] for f in foreign).items()],
        },
    }


# -- the run -------------------------------------------------------------------

def reader(script, out, *extra):
    ready, stop = out + ".ready", out + ".stop"
    proc = subprocess.Popen(
        [sys.executable, os.path.join(CAPTURE, script), "-t", "600", "-o",
         out, "--ready", ready, "--stop-file", stop, *extra],
        stdout=subprocess.DEVNULL, stderr=open(out + ".err", "w"))
    return proc, ready, stop


if os.geteuid() != 0:
    skip_or_fail("needs root")
sh(CONTAINERS, "prepare")
sh("gcc", "-O2", "-o", os.path.join(work, "forkstorm"),
   os.path.join(CAPTURE, "scenarios", "forkstorm.c"))
agent = Agent(AUDITREE, AUDIT_STATE, REPO, "auditree-fidelity",
              extra=[f"--auditree.socket={work}/auditree.sock"])
mono_to_wall = time.time() - time.clock_gettime(time.CLOCK_MONOTONIC)
connector_log = os.path.join(work, "procevents.txt")
audit_log = os.path.join(work, "audit.log")
readers = [reader("procevents.py", connector_log),
           reader("capture.py", audit_log, "-q", "--stats",
                  audit_log + ".stats")]
reader_pids = {r[0].pid for r in readers}
windows = {}
try:
    deadline = time.time() + 10
    while not all(os.path.exists(r[1]) for r in readers):
        if time.time() > deadline:
            raise RuntimeError("the truth readers did not start")
        time.sleep(0.05)
    for name, run in WORKLOADS:
        t0 = time.time()
        print(f"workload {name} ...", flush=True)
        try:
            run()
        finally:
            windows[name] = (t0, time.time())
        print(f"workload {name}: {windows[name][1] - t0:.1f} s", flush=True)
        time.sleep(1)
finally:
    subprocess.run([CONTAINERS, "down"], capture_output=True)
    time.sleep(1)  # the stream's last batches and the readers' last reads
    for proc, _, stop in readers:
        open(stop, "w").close()
    for proc, _, _ in readers:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    agent.stop()

# The truth is only truth when its readers lost nothing.
with open(connector_log) as f:
    overruns = sum(1 for line in f if line.startswith("# ENOBUFS"))
check(overruns == 0, f"the proc connector reader lost nothing ({overruns} "
      "overruns)")
with open(audit_log + ".stats") as f:
    overruns = json.load(f)["overruns_enobufs"]
check(overruns == 0, f"the audit reader lost nothing ({overruns} overruns)")
creations, threads, exits = read_connector(connector_log, mono_to_wall)
by_exit, by_caller = read_audit_clones(audit_log)
for times in (*by_exit.values(), *by_caller.values(), *threads.values()):
    times.sort()
spans = lineage(os.getpid(), creations, exits)
events = agent.events()
report = {}
HEADER = ("workload | start events | precision % | recorded creations | "
          "exactly once | recall % | missing | twice+ | not a host process")
for scope in ("machine", "lineage"):
    print(f"\n{scope}: " + ("every start event stamped in the workload's "
                            "window (asserted)" if scope == "machine" else
                            "the workload's own processes only (for "
                            "diagnosis: others' processes also ran)"))
    print(HEADER)
    for name, _ in WORKLOADS:
        if name not in windows:
            continue
        r = measure(windows[name], events, creations, threads, by_exit,
                    by_caller, spans if scope == "lineage" else None)
        report.setdefault(name, {})[scope] = r
        print(f"{name} | {r['start_events']} | {r['precision']:.2f} | "
              f"{r['recorded_creations']} | {r['exactly_once']} | "
              f"{r['recall']:.2f} | {r['missing']} | {r['more_than_once']} | "
              f"{r['not_host_process']}")
for name, both in report.items():
    r = both["machine"]
    print(f"{name}: {json.dumps(r['examples'])}")
    check(both["lineage"]["recorded_creations"] > 0
          and both["lineage"]["start_events"] > 0,
          f"{name}: the workload made processes audit recorded")
    check(r["precision"] >= REQUIRED,
          f"{name}: precision {r['precision']:.2f}% >= {REQUIRED}%")
    check(r["recall"] >= REQUIRED,
          f"{name}: recall {r['recall']:.2f}% >= {REQUIRED}%")
    check(r["not_host_process"] == 0,
          f"{name}: no start event names a pid that was no host process "
          f"created then ({r['not_host_process']})")
if os.environ.get("FIDELITY_REPORT"):
    with open(os.environ["FIDELITY_REPORT"], "w") as f:
        json.dump(report, f, indent=1)
if failures:
    print(f"the stream, the truth and the audit log are kept in {work} "
          f"and {agent.work}")
else:
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(agent.work, ignore_errors=True)
finish()
