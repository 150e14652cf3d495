#!/usr/bin/env python3
"""The memory budget on a generated spawn flood (scripts/argv_flood_log.py:
WORKERS processes that never end, JOBS that fork, exec with a 100 KB argv
and exit). Replay and the auditd plugin mode (no kernel, no root) must:
cut every argv to max-args-bytes and mark the event with what it had; hold
at most max-processes; keep every running worker with its ancestors; count
the evictions (summary, stats, /metrics); and say degraded on /healthz.
With caps that are not hit, no event is marked.

usage: memory_budget_test.py AUDITREE REPO"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

AUDITREE, REPO = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import check, finish, wait_for

WORKERS, JOBS, ARG = 30, 300, 102400
MAX_PROCESSES, MAX_ARGS = 100, 4096
# argv is ["worker"|"job", "--blob=" + ARG letters], joined with one NUL.
ORIGINAL = {"worker": 6 + 1 + 7 + ARG, "job": 3 + 1 + 7 + ARG}
CONF = f"--config-file={REPO}/config/auditree.conf"

work = tempfile.mkdtemp(prefix="auditree-budget-")
log = os.path.join(work, "flood.log")
subprocess.run([sys.executable, os.path.join(REPO, "scripts",
                                             "argv_flood_log.py"),
                log, str(WORKERS), str(JOBS), str(ARG)], check=True)
worker_pids = set(range(1000, 1000 + WORKERS))


def summary_of(text):
    result = {}
    for line in text.splitlines():
        if line.startswith("  ") and ":" in line:
            key, value = line.rsplit(":", 1)
            if value.strip().isdigit():
                result[key.strip()] = int(value)
    return result


def replay(*extra):
    stream = os.path.join(work, "stream.json")
    tree = os.path.join(work, "tree.json")
    if os.path.exists(stream):  # the stream is appended to
        os.remove(stream)
    run = subprocess.run([AUDITREE, "replay", log, "--keep-exited", CONF,
                          "--tree-json", tree, f"--auditree.output={stream}",
                          *extra], capture_output=True, text=True,
                         timeout=300)
    check(run.returncode == 0, f"replay {extra}: exit {run.returncode} "
                               f"{run.stderr[-300:]!r}")
    with open(stream) as f:
        lines = [json.loads(l) for l in f]
    with open(tree) as f:
        return lines, json.load(f), summary_of(run.stderr)


def check_survivors(tree, where):
    by_pid = {p["process"]["pid"]: p for p in tree}
    missing = [p for p in worker_pids if p not in by_pid]
    check(not missing, f"{where}: running workers evicted: {missing[:5]}")
    alive = all("end" not in by_pid[p]["process"]
                and by_pid[p]["process"]["parent"]["pid"] == 100
                for p in worker_pids if p in by_pid)
    check(alive, f"{where}: a worker is not running under bash(100)")
    check(100 in by_pid and by_pid[100]["process"]["parent"]["pid"] == 1
          and 1 in by_pid, f"{where}: the workers' ancestors are gone")


# -- replay with the caps hit ------------------------------------------------------
stream, tree, summary = replay(f"--auditree.max-processes={MAX_PROCESSES}",
                               f"--auditree.max-args-bytes={MAX_ARGS}")
execs = [e for e in stream if e["event"]["action"] == "exec"]
check(len(execs) == WORKERS + JOBS,
      f"replay: {len(execs)} exec lines, not {WORKERS + JOBS}")
cut_ok = all(len("\0".join(e["process"]["args"]).encode()) <= MAX_ARGS
             for e in execs)
check(cut_ok, "replay: an exec's args exceed max-args-bytes")
marked = all(e["auditree"].get("args_truncated") is True
             and e["auditree"].get("args_original_bytes")
             == ORIGINAL[e["process"]["name"]]
             and e["auditree"].get("args_original_count") == 2
             for e in execs)
check(marked, "replay: an exec is not marked args_truncated with its "
              f"original bytes and count ({execs[0]['auditree']})")
check(all(e["process"]["args"][1].startswith("--blob=") for e in execs),
      "replay: the cut did not keep the argument's start")
check(len(tree) <= MAX_PROCESSES,
      f"replay: {len(tree)} processes held, more than {MAX_PROCESSES}")
check_survivors(tree, "replay")
longest = max(len("\0".join(p["process"].get("args", [])).encode())
              for p in tree)
check(longest <= MAX_ARGS, f"replay: the tree holds {longest} argv bytes")
evicted = summary.get("processes evicted", 0)
check(evicted >= JOBS + WORKERS + 2 - MAX_PROCESSES,
      f"replay: {evicted} evictions counted in the summary")
check(summary.get("argv truncated") == WORKERS + JOBS,
      f"replay: {summary.get('argv truncated')} argv "
      "truncations counted")

# -- replay with caps that are not hit ---------------------------------------------
stream, tree, summary = replay("--auditree.max-args-bytes=200000")
check(not any("args_truncated" in e["auditree"] for e in stream),
      "replay, caps not hit: an event is marked args_truncated")
check(len(tree) == WORKERS + JOBS + 2,
      f"replay, caps not hit: {len(tree)} processes, not all")
check(summary.get("processes evicted") == 0
      and summary.get("argv truncated") == 0,
      "replay, caps not hit: evictions or truncations counted")

# -- the plugin mode: stats, /metrics and /healthz ------------------------------------
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
sock = os.path.join(work, "plugin.sock")
err_path = os.path.join(work, "plugin.err")
plugin = subprocess.Popen(
    [AUDITREE, "run", "--auditree.mode=stdin",
     "--auditree.proc-connector=false", "--auditree.bootstrap=false",
     "--auditree.reconcile-interval=0s", f"--auditree.socket={sock}",
     f"--auditree.http=127.0.0.1:{port}", "--auditree.output=none",
     "--auditree.exit-grace=60s",
     f"--auditree.max-processes={MAX_PROCESSES}",
     f"--auditree.state-file={work}/audit-state", CONF],
    stdin=subprocess.PIPE, stderr=open(err_path, "w"))


def cli(*args):
    out = subprocess.run([AUDITREE, f"--auditree.socket={sock}", *args],
                         capture_output=True, text=True, timeout=30)
    # A non-200 answer goes to stderr.
    return out.returncode, out.stdout + out.stderr


def stats():
    rc, out = cli("stats", "--json")
    return json.loads(out) if rc == 0 else {}


def metric(name):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                    timeout=10) as r:
            text = r.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    return None


try:
    wait_for(lambda: os.path.exists(sock), 10, "the plugin's socket")
    rc, out = cli("health")
    check(rc == 0 and out == "ok\n", f"plugin: healthy before ({rc} {out!r})")
    with open(log, "rb") as f:
        plugin.stdin.write(f.read())
    plugin.stdin.flush()
    wait_for(lambda: stats().get("process_events", 0)
             >= 2 * (WORKERS + JOBS) + JOBS, 60, "every event")
    got = stats()
    check(0 < got.get("processes", 0) <= MAX_PROCESSES,
          f"plugin: {got.get('processes')} processes held")
    check(got.get("evicted_processes", 0) > 0,
          f"plugin: stats count no eviction ({got.get('evicted_processes')})")
    check(metric("auditree_processes_evicted_total")
          == got.get("evicted_processes"),
          "plugin: /metrics and stats disagree on evictions")
    check(metric("auditree_process_args_truncated_total") == WORKERS + JOBS,
          "plugin: /metrics counts the argv truncations wrong")
    check(metric("auditree_memory_budget_pressed") == 1,
          "plugin: /metrics does not show the budget pressed")
    rc, out = cli("health")
    check(rc != 0 and "degraded: " in out,
          f"plugin: health not degraded while evicting ({rc} {out!r})")
    rc, tree_out = cli("tree", "--json")
    check(rc == 0, f"plugin: tree --json exit {rc}")
    check_survivors(json.loads(tree_out), "plugin")
    plugin.stdin.close()
    code = plugin.wait(timeout=60)
except Exception:
    plugin.kill()
    raise
with open(err_path) as f:
    err = f.read()
check(code == 0, f"plugin: exit 0 at the end of stdin ({code})")
summary = summary_of(err[err.rfind("summary"):])
check(summary.get("processes evicted", 0) > 0,
      "plugin: the summary counts no eviction")
finish()
