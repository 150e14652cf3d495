#!/usr/bin/env python3
"""Replays every public log in tests/data/foreign as shippers and tools
rewrite it (every value quoted, ausearch's default output with `----` and
`time->` lines, node= before every record) and checks that each form gives
the log's own process events; `replay: foreign logs` checks those against
libauparse. Prints, per log, its lines, events, process events and what was
skipped, by reason; every line is a record or a counted rejection.

usage: log_formats_test.py AUDITREE REPO"""

import collections
import json
import os
import re
import subprocess
import sys
import tempfile

auditree, repo = sys.argv[1], sys.argv[2]
folder = os.path.join(repo, "tests", "data", "foreign")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import check, finish


HEADER = re.compile(r"^(?:node=(\S+) )?type=(\S+) msg=audit\((\d+\.\d+:\d+)\)")


def replay(path, *extra):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        run = subprocess.run([auditree, "replay", path, *extra,
                              "--auditree.output=" + out.name],
                             capture_output=True, text=True, timeout=120)
        check(run.returncode == 0, f"{path}: replay exit {run.returncode}")
        events = [json.loads(l) for l in open(out.name) if l.strip()]
    summary = {}
    for line in run.stderr.splitlines():
        label, sep, value = line.strip().rpartition(":")
        if sep and value.strip().isdigit():
            summary[label.strip()] = int(value)
    return events, summary


def identity(ev):
    return (ev["event"].get("id"), ev["event"]["action"],
            ev.get("process", {}).get("pid"),
            ev.get("process", {}).get("parent", {}).get("pid"),
            ev.get("container", {}).get("id"))


def quote_all(line):
    """What a shipper that quotes every value writes."""
    out = []
    for word in line.split(" "):
        key, eq, value = word.partition("=")
        if eq and key not in ("type", "msg", "node") and value \
                and not value.startswith(("'", '"')):
            word = f'{key}="{value}"'
        out.append(word)
    return " ".join(out)


def variant(path, name, transform):
    text = open(path, encoding="utf-8", errors="surrogateescape").read()
    # Not splitlines(): it also splits at 0x1d, ENRICHED's separator.
    lines = text.rstrip("\n").split("\n")
    target = os.path.join(tmp, name)
    with open(target, "w", encoding="utf-8", errors="surrogateescape") as out:
        out.write(transform(lines))
    return target


def ausearch_form(lines):
    """ausearch's default output: `----` and a `time->` line per event."""
    out, last = [], None
    for line in lines:
        m = HEADER.match(line)
        stamp = m.group(3) if m else None
        if stamp != last:
            out += ["----", "time->Thu Jan  1 00:00:00 1970"]
            last = stamp
        out.append(line)
    return "\n".join(out) + "\n"


tmp = tempfile.mkdtemp()
logs = sorted(f for f in os.listdir(folder) if f.endswith(".log"))
check(len(logs) >= 10, f"only {len(logs)} foreign logs in {folder}")
print(f"{'log':40} {'lines':>6} {'events':>6} {'proc':>5}  skipped")
total = collections.Counter()
for name in logs:
    path = os.path.join(folder, name)
    events, summary = replay(path)
    total.update(ev["event"]["action"] for ev in events)
    skipped = {k.split(", ", 1)[1]: v for k, v in summary.items()
               if k.startswith("skipped ")}
    print(f"{name:40} {summary.get('lines', 0):>6} "
          f"{summary.get('events', 0):>6} "
          f"{summary.get('process events', 0):>5}  "
          + "; ".join(f"{k}: {v}" for k, v in sorted(skipped.items())))
    # Every line is a record or a rejection with its reason.
    check(summary.get("lines", 0) == summary.get("records", 0)
          + sum(v for k, v in summary.items()
                if k.startswith("skipped lines, ")),
          f"{name}: lines not all accounted for ({summary})")

    # The same records as a shipper that quotes every value sends them.
    quoted = variant(path, "quoted-" + name,
                     lambda ls: "\n".join(map(quote_all, ls)) + "\n")
    q_events, _ = replay(quoted)
    check(sorted(map(identity, q_events), key=repr)
          == sorted(map(identity, events), key=repr),
          f"{name}: every value quoted gives other process events "
          f"({len(q_events)} vs {len(events)})")

    # The same records as ausearch prints them by default.
    form = variant(path, "ausearch-" + name, ausearch_form)
    a_events, a_summary = replay(form)
    check(a_events == events,
          f"{name}: ausearch's output gives other process events")
    check(a_summary.get("skipped lines, ausearch separator", 0) > 0
          and a_summary.get("malformed lines", 0)
          == summary.get("malformed lines", 0),
          f"{name}: ausearch's lines not skipped by reason ({a_summary})")

    # With node=, every event is that host's.
    tagged = variant(path, "node-" + name,
                     lambda ls: "".join("node=far.example " + l + "\n"
                                        for l in ls))
    n_events, _ = replay(tagged)
    check(len(n_events) == len(events)
          and all(e.get("host", {}).get("name") == "far.example"
                  for e in n_events),
          f"{name}: node= does not make host.name on every event")

check(total["exec"] >= 5 and total["fork"] >= 5,
      f"the foreign logs hold too few execs and forks to test ({total})")
enriched = [n for n in logs
            if "\x1d" in open(os.path.join(folder, n), errors="replace").read()]
check(enriched, "no foreign log in the ENRICHED format")
noded = [n for n in logs
         if open(os.path.join(folder, n)).read().startswith("node=")]
check(noded, "no foreign log with node= prefixes")
print(f"process events over all logs: {dict(total)}")
finish()
