#!/usr/bin/env python3
"""The loss ledger only grows (issue 13): during a burst of 8,000 short
processes every actor of the live agent is crashed once (thrown or killed,
`auditree ctl crash NAME [kill]`) while /metrics is scraped every 20 ms. Asserts:
- no counter (nor a summary's _count) of /metrics ever went down from one
  scrape to the next, and each actor was restarted exactly once;
- the counts of actors that were replaced still hold the work of their
  predecessors: the connector counted at least the burst's fork, exec and
  exit (its socket outlives it, so nothing the kernel sent while it was
  down is lost); the assemblers' events plus the losses counted (serial
  gaps, kernel lost: the audit source was down for its restart backoff)
  cover the burst's clone, execve and exit_group;
- closed events = process events + skipped events, at every scrape;
- the summary's lines written equals the lines in the output file, though
  the sink was replaced in the middle;
- kernel audit is left as it was found (agent_harness).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import (Agent, check, finish, free_port, http_get)

AUDITREE, AUDIT_STATE, REPO = (os.path.abspath(a) for a in sys.argv[1:4])
BURST = 8000
# Every child of the live agent, each crashed once, the way given.
CRASHES = [("assembler-0", "kill"), ("connector", "throw"),
           ("sink", "throw"), ("tree", "kill"), ("assembler-1", "throw"),
           ("sweeper", "kill"), ("source", "kill")]


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, str(e)


def parse_metrics(text):
    """{sample: value} of the counters and summary counts in `text`."""
    kinds, values = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            kinds[name] = kind
        elif line and not line.startswith("#"):
            sample, value = line.rsplit(" ", 1)
            name = sample.split("{", 1)[0]
            if kinds.get(name) == "counter" or (
                    name.endswith("_count")
                    and kinds.get(name[:-6]) == "summary"):
                values[sample] = float(value)
    return values


def ctl(*args):
    out = subprocess.run([AUDITREE, f"--auditree.socket={sock}", *args],
                         capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout + out.stderr


port = free_port()
sock = os.path.join(tempfile.mkdtemp(prefix="auditree-ledger-"),
                    "auditree.sock")
agent = Agent(AUDITREE, AUDIT_STATE, REPO, "auditree-ledger", extra=(
    f"--auditree.http=127.0.0.1:{port}", f"--auditree.socket={sock}",
    "--auditree.assemblers=2",
    "--auditree.reconcile-interval=2s",
    "--auditree.checkpoint-interval=500"))
scrapes, refused, stop_scraping = [], [], threading.Event()


def scrape():
    while not stop_scraping.is_set():
        status, body = http_get(port, "/metrics")
        if status == 200:
            scrapes.append(parse_metrics(body))
        else:
            refused.append(status)
        time.sleep(0.02)


stats = {}
try:
    scraper = threading.Thread(target=scrape)
    scraper.start()
    burst = subprocess.Popen(
        ["bash", "-c",
         f"for ((i = 0; i < {BURST}; i++)); do /bin/true; done"])
    time.sleep(0.4)
    for name, how in CRASHES:
        code, out = ctl("ctl", "crash", name, how)
        check(code == 0, f"crash {name} ({how}): {out.strip()}")
        time.sleep(0.35)
    check(burst.poll() is None, "every crash came during the burst")
    burst.wait()
    time.sleep(agent.grace_s + 3.0)
    check(agent.proc.poll() is None, "the agent is still running")
    status, body = http_get(port, "/stats?format=json")
    stats = json.loads(body) if status == 200 else {}
    stop_scraping.set()
    scraper.join()
finally:
    stop_scraping.set()
    agent.stop()
    summary = agent.log()

# -- nothing went down ---------------------------------------------------------
decreases = []
for i in range(1, len(scrapes)):
    for sample, value in scrapes[i].items():
        before = scrapes[i - 1].get(sample)
        if before is not None and value < before:
            decreases.append(f"{sample}: {before:.0f} -> {value:.0f} "
                             f"(scrape {i})")
print(f"{len(scrapes)} scrapes of /metrics ({len(refused)} refused: "
      f"{sorted(set(refused))}), {len(scrapes[-1]) if scrapes else 0} "
      f"counters each")
check(len(scrapes) >= 100, f"/metrics was scraped often ({len(scrapes)})")
check(not decreases, f"no counter went down ({len(decreases)} did: "
      f"{decreases[:8]})")
last = scrapes[-1] if scrapes else {}
for name, _ in CRASHES:
    n = last.get(f'auditree_restarts_total{{actor="{name}"}}')
    check(n == 1, f"{name} restarted once (restarts_total {n})")

# -- the replaced actors' work is still counted --------------------------------
messages = last.get("auditree_connector_messages_total", 0)
check(messages >= 3 * BURST,
      f"the connector counted the burst's fork, exec and exit across its "
      f"restart ({messages:.0f} messages >= {3 * BURST})")
events = last.get("auditree_events_total", 0)
gaps = last.get("auditree_serial_gaps_total", 0)
lost = last.get("auditree_kernel_lost_total", 0)
print(f"assemblers: {events:.0f} events, {gaps:.0f} serial gaps, "
      f"{lost:.0f} kernel lost; connector: {messages:.0f} messages, "
      f"{last.get('auditree_connector_gaps_total', 0):.0f} gaps")
check(events + gaps + lost >= 3 * BURST,
      f"events + counted losses cover the burst's clone, execve and "
      f"exit_group across two assembler restarts ({events:.0f} + {gaps:.0f}"
      f" + {lost:.0f} >= {3 * BURST})")

closed = sum(v for k, v in last.items()
             if k.startswith("auditree_events_closed_total{"))
if stats:
    skipped = sum(stats.get("skipped_events", {}).values())
    check(stats["closed_by_eoe"] + stats["closed_standalone"]
          + stats["closed_by_timeout"]
          == stats["process_events"] + skipped,
          f"closed events = process events + skipped "
          f"({stats['process_events']} + {skipped})")
check(closed > 0, f"events were closed ({closed:.0f})")


def counter(label):
    m = re.search(rf"^\s*{label}:\s*(\d+)", summary, re.M)
    return int(m.group(1)) if m else None


written = counter("lines written")
with open(agent.events_path) as f:
    in_file = sum(1 for _ in f)
check(written == in_file,
      f"lines written over both sinks = lines in the file ({written} = "
      f"{in_file})")
finish()
