#!/usr/bin/env python3
"""The agent's surface with a real agent: the query API over its unix
socket (through the CLI) and over loopback HTTP, bad requests, the CLI when
no agent runs, config errors, a slow consumer of the event stream, and the
auditd plugin mode fed a corpus on stdin.

Fault injection (`auditree ctl crash ACTOR [throw|kill]`, unix socket only):
- the tree throws: 200, the restarted tree answers with the same processes
  (checkpoint + /proc), /metrics and stats count one restart of the tree;
- an unknown actor: non-zero exit, a message listing the actors;
- POST /ctl/crash/tree over HTTP: 403, nothing crashes;
- the netlink source is killed: the agent keeps running, the rules with
  its key are in place under a new source (same count), whose records
  reach the stream (a new exec);
- with restart-max=1: one crash of the tree makes `health` fail naming the
  tree, a second stops the agent (non-zero exit, an error naming the
  budget) with its rules removed and audit settings restored.
"""
import gzip
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import (Agent, check, finish, proc_children, proc_exe,
                           proc_ppid, wait_for, free_port, http_get)

AUDITREE, AUDIT_STATE, REPO = (os.path.abspath(a) for a in sys.argv[1:4])
CORPUS = os.path.join(REPO, "tests", "data", "corpus")
# Missing data fails at once, before the agent touches the kernel.
for name in ("container-lifecycle.log.gz", "fork-storm.log.gz"):
    if not os.path.exists(os.path.join(CORPUS, name)):
        print(f"FAIL: {os.path.join(CORPUS, name)} is missing")
        sys.exit(1)
work = tempfile.mkdtemp(prefix="auditree-surface-")
sock = os.path.join(work, "auditree.sock")


def cli(*args, sock_path=sock):
    out = subprocess.run([AUDITREE, f"--auditree.socket={sock_path}", *args],
                         capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout, out.stderr


def http_post(port, path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def tree_of(sock_path=sock):
    """{pid: (ppid, exe)} from the agent's tree, or None if it does not
    answer."""
    rc, out, _ = cli("tree", "--json", sock_path=sock_path)
    if rc != 0:
        return None
    return {p["process"]["pid"]: (p["process"].get("parent", {}).get("pid"),
                                  p["process"].get("executable"))
            for p in json.loads(out) if "end" not in p["process"]}


def restarts(sock_path=sock):
    """Restarts per actor, from `stats --json`."""
    rc, out, _ = cli("stats", "--json", sock_path=sock_path)
    return json.loads(out).get("restarts", {}) if rc == 0 else None


def metric_line(port, line):
    status, body = http_get(port, "/metrics")
    return status == 200 and line in body.splitlines()


def proc_view(pids):
    """{pid: (ppid, exe)} from /proc for the pids that live (kernel threads,
    with no exe, left out)."""
    result = {}
    for p in pids:
        ppid, exe = proc_ppid(p), proc_exe(p)
        if ppid is not None and exe is not None:
            result[p] = (ppid, exe)
    return result


# -- no agent, config errors ---------------------------------------------------
rc, out, err = cli("tree")
check(rc == 1 and "is `auditree run` running?" in err,
      "CLI without an agent: a helpful error, exit 1")
bad_conf = os.path.join(work, "bad.conf")
with open(bad_conf, "w") as f:
    f.write("[auditree]\nassemblers=many\n")
out = subprocess.run([AUDITREE, f"--config-file={bad_conf}", "run"],
                     capture_output=True, text=True)
check(out.returncode == 2 and "assemblers=many" in out.stderr
      and ":2:" in out.stderr, "config error names file, line, key and value")
out = subprocess.run([AUDITREE, "--auditree.mode=sideways", "run"],
                     capture_output=True, text=True)
check(out.returncode == 2 and "auditree.mode=sideways" in out.stderr,
      "a bad command-line value is named")
out = subprocess.run(["setpriv", "--bounding-set", "-audit_control,-net_admin",
                      AUDITREE, "run"], capture_output=True, text=True,
                     timeout=30)
check(out.returncode == 1 and "CAP_AUDIT_CONTROL" in out.stderr
      and "CAP_NET_ADMIN" in out.stderr,
      "without capabilities: refused, naming the missing ones")
out = subprocess.run([AUDITREE, "--help"], capture_output=True, text=True)
check("--auditree.exit-grace" in out.stdout and "replay" in out.stdout,
      "--help lists the keys and commands")

# -- a live agent ---------------------------------------------------------------
port = free_port()
# A checkpoint every 20 events: the tree's crash below finds one.
agent = Agent(AUDITREE, AUDIT_STATE, REPO, "auditree-stest",
              extra=[f"--auditree.socket={sock}",
                     f"--auditree.http=127.0.0.1:{port}",
                     "--auditree.checkpoint-interval=20"])
spawned = []
try:
    wait_for(lambda: os.path.exists(sock), 5, "the query socket")
    mode = stat.S_IMODE(os.stat(sock).st_mode)
    check(mode == 0o600, f"the socket's mode is 0600 ({oct(mode)})")
    me = os.getpid()

    rc, out, _ = cli("tree", "--json")
    tree = {p["process"]["pid"]: p for p in json.loads(out)}
    check(rc == 0 and tree.get(me, {}).get("process", {}).get(
        "parent", {}).get("pid") == proc_ppid(me),
        "CLI tree --json: this test with its parent")
    rc, out, _ = cli("tree")
    check(rc == 0 and f"({me})" in out, "CLI tree: pstree text with our pid")
    rc, out, _ = cli("ps")
    check(rc == 0 and out.startswith("    PID    VPID    PPID STATE")
          and f"\n{me:7d} " in out, "CLI ps: a table with our pid")
    # Live, every process is the local host's: it answers to its hostname
    # and to -, and no other host has processes.
    for host in (socket.gethostname(), "-"):
        rc, out, _ = cli("ps", "--host", host)
        check(rc == 0 and f"\n{me:7d} " in out,
              f"CLI ps --host {host}: the local host's table with our pid")
    rc, out, err = cli("tree", "--json", "--host", "no-such-host")
    check(rc == 1 and out == "" and "no host no-such-host" in err,
          "CLI tree --host no-such-host: refused, not an empty tree")
    rc, out, _ = cli("process", str(me))
    check(rc == 0 and "ancestry:" in out and "(1)" in out,
          "CLI process: our ancestry up to pid 1")
    rc, out, err = cli("process", "4194999")
    check(rc == 1 and "no process 4194999" in err, "CLI process: unknown pid")
    # The entity id of our lifetime names it as well as our pid; its recipe
    # (boot id, pid, first-seen stamp) is checked by the unit tests.
    entity = tree.get(me, {}).get("process", {}).get("entity_id", "")
    check(len(entity) == 16, f"CLI tree --json: our entity id ({entity!r})")
    rc, out, _ = cli("process", entity, "--json")
    doc = json.loads(out) if rc == 0 else {}
    check(doc.get("process", {}).get("pid") == me
          and doc["process"].get("entity_id") == entity
          and doc["ancestors"][-1]["process"]["pid"] == 1,
          "CLI process ENTITY_ID: our lifetime with its ancestry")
    rc, out, err = cli("process", "AAAAAAAAAAAAAAAA")
    check(rc == 1 and "no process AAAAAAAAAAAAAAAA" in err,
          "CLI process: unknown entity id")
    rc, out, _ = cli("containers", "--json")
    check(rc == 0 and isinstance(json.loads(out), list),
          "CLI containers --json: a list")
    rc, out, _ = cli("stats")
    check(rc == 0 and "kernel lost" in out and "serial gaps" in out,
          "CLI stats: the loss ledger")
    rc, out, _ = cli("stats", "--json")
    # b64, and b32 where the kernel runs 32-bit programs (IA32 emulation).
    rules = 2 if os.path.exists("/proc/sys/abi/vsyscall32") else 1
    check(rc == 0 and json.loads(out)["rules"] == rules, "CLI stats --json")
    rc, out, _ = cli("health")
    check(rc == 0 and out == "ok\n", "CLI health: ok")

    status, body = http_get(port, "/tree")
    check(status == 200 and me in {p["process"]["pid"]
                                   for p in json.loads(body)},
          "HTTP /tree: JSON with our pid")
    status, body = http_get(port, f"/processes/{me}")
    doc = json.loads(body)
    check(status == 200 and doc["process"]["pid"] == me
          and doc["ancestors"][-1]["process"]["pid"] == 1,
          "HTTP /processes/PID: ancestry ends at pid 1")
    status, body = http_get(port, "/metrics")
    check(status == 200 and "\nauditree_records_total " in body
          and "# TYPE auditree_processes gauge" in body,
          "HTTP /metrics: Prometheus text")
    status, body = http_get(port, "/healthz")
    check(status == 200, "HTTP /healthz: 200")
    for path, code in (("/nope", 404), ("/processes/abc", 400),
                       ("/tree?format=xml", 400), ("/processes/4194999", 404)):
        status, body = http_get(port, path)
        check(status == code and body, f"HTTP {path}: {code} with a reason")
    req = urllib.request.Request(f"http://127.0.0.1:{port}/tree",
                                 method="POST")
    try:
        urllib.request.urlopen(req, timeout=10)
        code = 200
    except urllib.error.HTTPError as e:
        code = e.code
    check(code == 405, "HTTP POST: 405")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GARBAGE\r\n\r\n")
        reply = s.recv(200).decode(errors="replace")
    check(reply.startswith("HTTP/1.1 400"), "garbage request: 400")

    # -- fault injection: the tree throws -----------------------------------
    # Enough events for a checkpoint: at least as many as the tree holds
    # processes (and checkpoint-interval).
    subprocess.run(["bash", "-c", "for i in $(seq 300); do /bin/true; done"],
                   check=True)
    # Long-lived processes of our own, so the check below does not depend on
    # how many processes the machine happens to run.
    sleepers = [subprocess.Popen(["sleep", "60"]) for _ in range(12)]
    spawned.extend(sleepers)
    # A chain started while the agent runs: the tree knows it from events.
    chain = subprocess.Popen(["sh", "-c", "sleep 60 & exec sleep 61"])
    spawned.append(chain)
    wait_for(lambda: len(proc_children(chain.pid)) == 1, 5, "the chain")
    chain_kid = proc_children(chain.pid)[0]
    # In the tree with what they exec'd (a fork shows first with the
    # parent's program).
    ours = [chain_kid, *(s.pid for s in sleepers)]

    def ours_in_tree():
        tree = tree_of() or {}
        return all(tree.get(p) == (proc_ppid(p), proc_exe(p)) for p in ours)
    wait_for(ours_in_tree, 5, "the chain and sleepers in the tree")
    before = tree_of() or {}
    proc_before = proc_view(before)
    rc, out, err = cli("ctl", "crash", "tree")
    check(rc == 0 and "tree" in out,
          f"CLI ctl crash tree: 200 ({rc}, {out.strip()!r} {err.strip()!r})")
    # The new tree logs its resumption when it first runs, which may be
    # after the supervisor logged the restart.
    check(wait_for(lambda: "supervisor: tree restarted" in agent.log()
                   and "tree resumed from its checkpoint" in agent.log(), 10,
                   "the tree's restart from its checkpoint"),
          "the tree restarted from its checkpoint")
    wait_for(lambda: tree_of() is not None, 10, "the new tree to answer")
    time.sleep(0.5)  # The sweep after the restart.
    after = tree_of() or {}
    # Processes /proc shows unchanged across the crash, as the tree had them
    # (other work on the machine may exec or end meanwhile).
    # The tree may be a moment ahead of /proc (exit_group is audited at its
    # entry): look again a little later.
    proc_after = proc_view(proc_before)
    time.sleep(0.3)
    proc_later = proc_view(proc_before)
    stable = {p for p, v in proc_before.items()
              if proc_after.get(p) == v and proc_later.get(p) == v
              and before[p] == v}
    missing = sorted(p for p in stable if p not in after)
    changed = sorted(p for p in stable if p in after and after[p] != before[p])
    check({s.pid for s in sleepers} <= stable and not missing and not changed,
          f"after the tree's crash: the same {len(stable)} live processes "
          f"(missing {missing[:5]}, changed "
          f"{[(p, before[p], after[p]) for p in changed[:5]]})")
    check(after.get(chain.pid) == (me, proc_exe(chain.pid))
          and after.get(chain_kid) == (chain.pid, proc_exe(chain_kid)),
          f"after the tree's crash: the chain {chain.pid}/{chain_kid} with "
          f"its parents and exes ({after.get(chain.pid)}, "
          f"{after.get(chain_kid)})")
    late = subprocess.Popen(["sleep", "30"])
    spawned.append(late)
    check(wait_for(lambda: (tree_of() or {}).get(late.pid)
                   == (me, proc_exe(late.pid)), 5, "a new exec in the tree"),
          "after the tree's crash: a new process reaches the new tree")
    late.kill()
    late.wait()
    check(metric_line(port, 'auditree_restarts_total{actor="tree"} 1'),
          '/metrics: auditree_restarts_total{actor="tree"} 1')
    rc, out, _ = cli("stats")
    check(rc == 0 and "restarts of tree: 1" in
          [l.strip() for l in out.splitlines()],
          "CLI stats: restarts of tree: 1")
    rc, out, err = cli("health")
    check(rc == 0 and out == "ok\n",
          f"CLI health: ok after one restart of 5 ({out.strip()!r} "
          f"{err.strip()!r})")

    # -- an unknown actor, and crash over HTTP ------------------------------
    rc, out, err = cli("ctl", "crash", "nosuch")
    check(rc != 0 and "no running actor named nosuch" in err
          and "assembler-K" in err and "tree" in err,
          f"CLI ctl crash nosuch: exit {rc}, {err.strip()!r}")
    rc, out, err = cli("ctl", "crash", "tree", "sideways")
    check(rc != 0 and "throw or kill" in err,
          f"CLI ctl crash tree sideways: exit {rc}, {err.strip()!r}")
    status, body = http_post(port, "/ctl/crash/tree")
    check(status == 403 and "unix socket" in body,
          f"HTTP POST /ctl/crash/tree: 403 ({status} {body.strip()!r})")
    status, body = http_get(port, "/ctl/crash/tree")
    check(status == 405, f"HTTP GET /ctl/crash/tree: 405 ({status})")
    time.sleep(0.3)
    check(restarts() == {"tree": 1},
          f"nothing crashed over HTTP nor for a bad name ({restarts()})")

    # -- fault injection: the netlink source is killed ----------------------
    rules_before = agent.audit_state()["rules"]
    rc, out, err = cli("ctl", "crash", "source", "kill")
    check(rc == 0 and "source killed" in out,
          f"CLI ctl crash source kill: 200 ({out.strip()!r} {err.strip()!r})")
    check(wait_for(lambda: agent.log().count("listening to kernel audit")
                   == 2, 10, "a new source"), "a new source listens")
    check(agent.proc.poll() is None, "the agent keeps running")
    rules_now = agent.audit_state()["rules"]
    check(rules_before == 2 and rules_now == rules_before,
          f"the rules are in place under the new source ({rules_before} -> "
          f"{rules_now} with key {agent.key})")
    check(wait_for(lambda: restarts() == {"tree": 1, "source": 1}, 5,
                   "the source's restart count"),
          f"restarts counted per actor ({restarts()})")
    check(metric_line(port, 'auditree_restarts_total{actor="source"} 1'),
          '/metrics: auditree_restarts_total{actor="source"} 1')
    rc, out, _ = cli("stats", "--json")
    check(rc == 0 and json.loads(out)["rules"] == 2,
          "CLI stats --json: the new source has 2 rules")
    marker = subprocess.Popen(["sleep", "29"])
    spawned.append(marker)
    seen = wait_for(lambda: any(
        e["event"]["action"] == "exec" and e["process"]["pid"] == marker.pid
        and e["auditree"]["source"] == "audit" for e in agent.events()),
        5, "the new source's exec")
    rc, out, _ = cli("stats", "--json")
    dropped = json.loads(out)["duplicates"] if rc == 0 else None
    check(seen, "the new source's records reach the stream (exec of "
          f"sleep {marker.pid}; the tree dropped {dropped} events as "
          "duplicates)")
    marker.kill()
    marker.wait()
    rc, out, err = cli("health")
    check(rc == 0, f"CLI health: ok after the source's restart ({err!r})")
finally:
    for p in spawned:
        for kid in proc_children(p.pid):
            os.kill(kid, 9)
        p.kill()
        p.wait()
    agent.stop()
check(not os.path.exists(sock), "the socket is removed at stop")

# -- the restart budget: restart-max=1 ------------------------------------------
budget = Agent(AUDITREE, AUDIT_STATE, REPO, "auditree-stest-budget",
               extra=[f"--auditree.socket={sock}",
                      "--auditree.restart-max=1"])
try:
    wait_for(lambda: os.path.exists(sock), 5, "the query socket")
    during = budget.audit_state()
    rc, out, _ = cli("ctl", "crash", "tree")
    check(rc == 0, "restart-max=1: the first crash of the tree: 200")
    wait_for(lambda: tree_of() is not None
             and "supervisor: tree restarted" in budget.log(), 10,
             "the tree's restart")
    rc, out, err = cli("health")
    check(rc != 0 and "tree is one failure away from its restart budget"
          in err, f"restart-max=1: health fails naming the tree (exit {rc}, "
          f"{err.strip()!r})")
    check(budget.proc.poll() is None, "restart-max=1: still running")
    rc, out, err = cli("ctl", "crash", "tree")
    try:
        code = budget.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        budget.proc.kill()
        code = "hung"
    log = budget.log()
    check(code not in (0, "hung"),
          f"restart-max=1: a second crash stops the agent (exit {code})")
    check("more than its budget of 1 restarts" in log and "tree failed 2"
          in log, "restart-max=1: the error names the tree and its budget")
    after = budget.audit_state()
    check(during["rules"] == 2 and after["rules"] == 0,
          f"restart-max=1: the rules are removed ({during['rules']} -> "
          f"{after['rules']} with key {budget.key})")
    for key in ("enabled", "pid", "backlog_limit", "backlog_wait_time"):
        check(after[key] == budget.before[key],
              f"restart-max=1: {key} restored ({budget.before[key]} -> "
              f"{after[key]})")
    check(not os.path.exists(sock), "restart-max=1: the socket is removed")
    check(not os.path.exists(os.path.join(budget.work, "audit-state")),
          "restart-max=1: no state file left")
    print(log[-800:])
finally:
    if budget.proc.poll() is None:
        budget.stop()
out = subprocess.run([AUDITREE, "--auditree.http=0.0.0.0:1", "run"],
                     capture_output=True, text=True, timeout=60)
check(out.returncode != 0 and "not a loopback address" in out.stderr,
      "HTTP on a non-loopback address is refused")

# -- the auditd plugin mode: a corpus on stdin ------------------------------
# The corpus is kept as gzip; auditd hands a plugin plain text.
log = os.path.join(CORPUS, "container-lifecycle.log.gz")
with gzip.open(log, "rt") as f:
    corpus_text = f.read()
plug_sock = os.path.join(work, "plugin.sock")
plug_port = free_port()
plugin = subprocess.Popen(
    [AUDITREE, "run", "--auditree.mode=stdin",
     "--auditree.proc-connector=false", "--auditree.output=/dev/null",
     # The corpus is another machine's past: keep this host's /proc out.
     "--auditree.bootstrap=false", "--auditree.reconcile-interval=0s",
     f"--auditree.socket={plug_sock}", "--auditree.exit-grace=60s",
     f"--auditree.http=127.0.0.1:{plug_port}",
     f"--config-file={REPO}/config/auditree.conf"],
    stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
plugin.stdin.write(corpus_text)
plugin.stdin.flush()

def containers():
    rc, out, _ = cli("containers", "--json", sock_path=plug_sock)
    return {c["container"]["id"] for c in json.loads(out)} if rc == 0 \
        else set()
def corpus_containers(ids):
    return ({"default/c-life-1", "default/c-life-2", "default/c-life-3"}
            <= ids and sum(i.startswith("docker/") for i in ids) == 3)
wait_for(lambda: corpus_containers(containers()), 15,
         "the corpus's containers")
ids = containers()
check(corpus_containers(ids),
      f"plugin mode: the corpus's containers ({len(ids)})")
rc, out, _ = cli("tree", "--json", "--container", "default/c-life-2",
                 sock_path=plug_sock)
members = json.loads(out) if rc == 0 else []
check(len(members) >= 2 and all(
    p["container"]["id"] == "default/c-life-2" for p in members),
    f"plugin mode: c-life-2's tree ({len(members)} processes)")
corpus_records = sum(1 for line in corpus_text.splitlines()
                     if line.startswith("type="))

def records_total():
    status, body = http_get(plug_port, "/metrics")
    lines = [x for x in body.splitlines()
             if x.startswith("auditree_records_total ")]
    return int(lines[0].split()[1]) if status == 200 and lines else None
wait_for(lambda: records_total() == corpus_records, 10,
         "every record counted")
check(records_total() == corpus_records,
      f"plugin mode: /metrics counts the records read from stdin "
      f"({records_total()} of {corpus_records})")
plugin.stdin.close()
check(plugin.wait(timeout=30) == 0, "plugin mode: exits 0 at end of stdin")

# -- a slow consumer of the stream --------------------------------------------
# The gzip as kept: replay reads it directly.
fork_storm = os.path.join(CORPUS, "fork-storm.log.gz")
slow = subprocess.Popen(
    f"{AUDITREE} replay {fork_storm} --auditree.output-queue=65536 "
    f"| (sleep 1; cat > /dev/null)", shell=True, stderr=subprocess.PIPE,
    text=True)
_, err = slow.communicate(timeout=60)
summary = {l.split(":")[0].strip(): l.split(":")[1].strip()
           for l in err.splitlines() if ":" in l and l.startswith("  ")}
written = int(summary.get("lines written", -1))
dropped = int(summary.get("lines dropped", -1))
check(dropped > 0 and written + dropped
      == int(summary.get("process events", -2)),
      f"slow consumer: {dropped} lines dropped and counted, {written} "
      "written, none lost silently")
finish()
