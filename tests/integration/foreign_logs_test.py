#!/usr/bin/env python3
"""Replays every audit log in tests/data/foreign/ (written on other hosts and
machines) with `auditree replay` and checks, per arch, that its process
events are the ones the log's records imply: as many execs and forks as an
independent walk with libauparse (tests/tools/auparse_count) counts. Any log
dropped into the folder is covered; `.gz` logs are read decompressed.

Like is compared with like: auditree reports processes, not threads, so the
counter skips clones with CLONE_THREAD in their flags, and counts clone3
apart (its flags are not in the record). auditree's forks by clone3 are
counted apart too: it reports one only once the child shows itself to be a
process, so it may report fewer than libauparse sees, never more.
Prints, for each log: lines, events, process events and what was skipped.

    foreign_logs_test.py AUDITREE AUPARSE_COUNT DATA_DIR
"""

import collections
import gzip
import json
import pathlib
import re
import subprocess
import sys
import tempfile

# Files in the folder that are not logs.
NOT_LOGS = {".md", ".txt"}
# The summary lines that say what replay skipped, and why.
SKIP_LINES = ("malformed lines", "malformed datagrams", "malformed events",
              "evicted", "duplicates dropped")
# libauparse's arch names that auditree prints otherwise: libaudit calls the
# little-endian AUDIT_ARCH_ARM "armeb".
AUPARSE_ARCH_NAMES = {"armeb": "arm"}
# What the serial ledger noticed (counted, nothing dropped).
LEDGER_LINES = ("serial gaps", "late records", "serial resets")


def plain_copy(log, scratch):
    """The log as plain text (a .gz decompressed into scratch)."""
    if log.suffix != ".gz":
        return log
    plain = pathlib.Path(scratch) / log.stem
    plain.write_bytes(gzip.decompress(log.read_bytes()))
    return plain


def auditree_counts(auditree, log, scratch):
    """Per-arch exec and fork counts of auditree's stream, and its summary."""
    out = pathlib.Path(scratch) / "events.json"
    out.unlink(missing_ok=True)
    run = subprocess.run(
        [auditree, "replay", str(log), f"--auditree.output={out}"],
        capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        sys.exit(f"FAIL: {log.name}: replay exited {run.returncode}:\n"
                 f"{run.stderr[-2000:]}")
    counts = collections.Counter()
    for line in out.read_text().splitlines():
        ev = json.loads(line)
        action = ev["event"]["action"]
        if action == "fork" and ev["auditree"].get("syscall") == "clone3":
            action = "clone3"
        if action in ("exec", "fork", "clone3"):
            counts[(ev["auditree"]["arch"], action)] += 1
    summary = {}
    for line in run.stderr.splitlines():
        m = re.match(r"\s+([a-z][a-z ()/]*?):\s+(\d+)$", line)
        if m:
            summary[m.group(1)] = int(m.group(2))
    return counts, summary


def auparse_counts(tool, log):
    """Per-arch exec, fork (no threads) and clone3 counts by libauparse,
    and its event count."""
    run = subprocess.run([tool, str(log)], capture_output=True, text=True,
                         timeout=300)
    if run.returncode != 0:
        sys.exit(f"FAIL: {log.name}: auparse_count exited "
                 f"{run.returncode}: {run.stderr}")
    counts = collections.Counter()
    events = 0
    for line in run.stdout.splitlines():
        words = line.split()
        if words[0] == "events":
            events = int(words[1])
        elif int(words[2]) > 0:
            arch = AUPARSE_ARCH_NAMES.get(words[0], words[0])
            counts[(arch, words[1])] = int(words[2])
    return counts, events


def main():
    auditree, tool, data = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    logs = sorted(p for p in data.iterdir()
                  if p.is_file() and p.suffix not in NOT_LOGS)
    if not logs:
        sys.exit(f"FAIL: no logs in {data}")
    failures = []
    with tempfile.TemporaryDirectory() as scratch:
        for log in logs:
            plain = plain_copy(log, scratch)
            ours, summary = auditree_counts(auditree, plain, scratch)
            theirs, auparse_events = auparse_counts(tool, plain)
            arches = sorted({arch for arch, _ in ours | theirs})
            skipped = ", ".join(f"{k} {summary.get(k, 0)}"
                                for k in SKIP_LINES if summary.get(k, 0))
            ledger = ", ".join(f"{k} {summary.get(k, 0)}"
                               for k in LEDGER_LINES if summary.get(k, 0))
            print(f"{log.name}: {summary.get('lines')} lines, "
                  f"{summary.get('events')} events "
                  f"(libauparse {auparse_events}), "
                  f"{summary.get('process events')} process events; "
                  f"arches {' '.join(arches) or '-'}; "
                  f"skipped: {skipped or 'nothing'}"
                  f"{'; ledger: ' + ledger if ledger else ''}")
            for arch in arches:
                for action in ("exec", "fork", "clone3"):
                    a, b = ours[(arch, action)], theirs[(arch, action)]
                    print(f"  {arch} {action}: auditree {a}, libauparse {b}")
                    # A clone3 that made a thread is not reported.
                    if a > b if action == "clone3" else a != b:
                        failures.append(f"{log.name}: {arch} {action}: "
                                        f"auditree {a}, libauparse {b}")
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
