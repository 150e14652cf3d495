#!/usr/bin/env python3
"""The query API under abuse (issue 13), on the real kernel. The agent runs
with `ulimit -n 256` and HTTP on loopback; as the unprivileged user
`nobody`, one client sends a request a byte a second and another opens
1,100 idle TCP connections. Then:
- `auditree health` on the unix socket answers in < 100 ms;
- the agent uses < 5% CPU over 3 s (utime + stime of /proc/PID/stat);
- the slow client is dropped at request-read-timeout;
- the refused connections are counted in /metrics;
- the tree still equals /proc (tree_vs_proc, twice);
- kernel audit is left as it was found (agent_harness).
Prints the health latency and the CPU share.
"""
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import (Agent, check, finish, tree_vs_proc, wait_for,
                           free_port)

AUDITREE, AUDIT_STATE, REPO = (os.path.abspath(a) for a in sys.argv[1:4])
# `nobody` may not be able to read the checkout (a 0700 home or temp
# folder): it runs a copy from a folder of its own.
CLIENTS = os.path.join(tempfile.mkdtemp(prefix="auditree-clients-"),
                       "api_clients.py")
shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "api_clients.py"), CLIENTS)
os.chmod(os.path.dirname(CLIENTS), 0o755)
os.chmod(CLIENTS, 0o644)
FLOOD = 1100
READ_TIMEOUT_S = 4
HTTP_CAP = 64  # config/auditree.conf's http-max-connections


def as_nobody(*args):
    """A client as `nobody`, allowed the descriptors 1,100 sockets need
    (up to the hard limit)."""
    def limits():
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return subprocess.Popen(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
         "--", sys.executable, CLIENTS, *args],
        stdout=subprocess.PIPE, text=True, preexec_fn=limits)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def cpu_percent(pid, seconds):
    """The share of one CPU `pid` used over the next `seconds`."""
    hz = os.sysconf("SC_CLK_TCK")
    t0, c0 = time.monotonic(), cpu_ticks(pid)
    time.sleep(seconds)
    t1, c1 = time.monotonic(), cpu_ticks(pid)
    return (c1 - c0) / hz / (t1 - t0) * 100


def health_ms(sock):
    start = time.monotonic()
    out = subprocess.run([AUDITREE, f"--auditree.socket={sock}", "health"],
                         capture_output=True, text=True, timeout=30)
    took = (time.monotonic() - start) * 1000
    return took, out.returncode, out.stdout + out.stderr


def metrics(sock):
    """GET /metrics on the unix socket: {name{labels}: value}."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(sock)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r"^(auditree_\S+) (\d+)$", data.decode(), re.M)}


port = free_port()
sock = os.path.join(tempfile.mkdtemp(prefix="auditree-flood-"),
                    "auditree.sock")
# `ulimit -Sn 256` for the agent only (the soft limit is the one that
# binds; raising the hard limit back would need CAP_SYS_RESOURCE).
saved = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, saved[1]))
try:
    agent = Agent(AUDITREE, AUDIT_STATE, REPO, "auditree-flood", extra=(
        f"--auditree.http=127.0.0.1:{port}", f"--auditree.socket={sock}",
        f"--auditree.request-read-timeout={READ_TIMEOUT_S}s"))
finally:
    resource.setrlimit(resource.RLIMIT_NOFILE, saved)

flood = slow = None
figures = {}
try:
    with open(f"/proc/{agent.proc.pid}/limits") as f:
        check(re.search(r"^Max open files\s+256\s", f.read(), re.M),
              "the agent runs with 256 descriptors")
    quiet, code, _ = health_ms(sock)
    check(code == 0, "healthy before the flood")
    figures["health before (ms)"] = round(quiet, 1)
    # What the machine's own audited activity costs, for comparison.
    figures["agent CPU before the flood (%)"] = round(
        cpu_percent(agent.proc.pid, 2), 2)

    slow = as_nobody("slow", "127.0.0.1", str(port))
    check(slow.stdout.readline().strip() == "connected",
          "the slow client connected")
    slow_start = time.monotonic()
    flood = as_nobody("flood", "127.0.0.1", str(port), str(FLOOD), "20")
    line = flood.stdout.readline().strip()
    check(line == f"open {FLOOD}", f"{FLOOD} idle connections open ({line})")

    # CPU over 3 s of the flood held open.
    time.sleep(0.5)
    cpu = cpu_percent(agent.proc.pid, 3)
    figures["agent CPU during the flood (%)"] = round(cpu, 2)
    check(cpu < 5, f"the agent uses < 5% CPU during the flood ({cpu:.2f}%)")

    latencies = []
    for _ in range(5):
        took, code, out = health_ms(sock)
        latencies.append(took)
        check(code == 0, f"`auditree health` answers during the flood "
              f"({out.strip()})")
    worst = max(latencies)
    figures["health during the flood (ms, worst of 5)"] = round(worst, 1)
    check(worst < 100, f"`auditree health` answers in < 100 ms during the "
          f"flood ({worst:.1f} ms)")

    # The slow client holds an HTTP slot until its deadline.
    line = slow.stdout.readline().strip()
    dropped = time.monotonic() - slow_start
    check(line.startswith("dropped after"), f"the slow client: {line}")
    figures["slow client dropped after (s)"] = round(dropped, 1)
    check(READ_TIMEOUT_S - 0.5 <= dropped <= READ_TIMEOUT_S + 3,
          f"dropped at request-read-timeout ({READ_TIMEOUT_S}s): "
          f"{dropped:.1f}s")

    m = metrics(sock)
    refused = m.get('auditree_api_connections_refused_total{listener="http"}')
    timeouts = m.get("auditree_api_read_timeouts_total")
    figures["refused"] = refused
    figures["read timeouts after the slow client"] = timeouts
    check(refused is not None and refused >= FLOOD - HTTP_CAP,
          f"refused connections counted ({refused} >= {FLOOD - HTTP_CAP})")
    check(timeouts is not None and timeouts >= 1,
          f"the slow client's timeout counted ({timeouts})")
    check(agent.proc.poll() is None, "the agent is still running")

    # The tree against /proc, twice (see agent_harness.tree_vs_proc).
    time.sleep(agent.grace_s + 2.5)
    first = tree_vs_proc(agent)
    time.sleep(0.3)
    second = tree_vs_proc(agent)
    missing, wrong_parent, ghosts = (sorted(first[k] & second[k]) for k in (
        "missing", "wrong parent", "ghost"))
    check(not missing, f"every live process is running in the tree "
          f"({second['checked']} checked; missing {missing[:10]})")
    check(not wrong_parent, f"parents as in /proc (wrong: {wrong_parent[:10]})")
    check(not ghosts, f"nothing running in the tree is gone from /proc "
          f"(ghosts: {ghosts[:10]})")

    # The idle connections that got a slot held it only to the deadline.
    m = metrics(sock)
    timeouts = m.get("auditree_api_read_timeouts_total")
    still_open = m.get('auditree_api_connections_open{listener="http"}')
    figures["read timeouts at the end"] = timeouts
    check(timeouts is not None and timeouts >= HTTP_CAP,
          f"every connection given a slot timed out ({timeouts} >= "
          f"{HTTP_CAP})")
    check(still_open == 0, f"no HTTP connection is open ({still_open})")
finally:
    for client in (flood, slow):
        if client and client.poll() is None:
            client.kill()
            client.wait()
    agent.stop()
    shutil.rmtree(os.path.dirname(CLIENTS), ignore_errors=True)

for name, value in figures.items():
    print(f"figure: {name}: {value}")
finish()
