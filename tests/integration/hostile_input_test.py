#!/usr/bin/env python3
"""Hostile audit text through `auditree replay -` and through the auditd
plugin mode (`auditree run --auditree.mode=stdin`), interleaved with a slice
of a real capture (tests/data/corpus/kill-and-reuse.log.gz):

- the slice's serials are renumbered so that they wrap (4294967295 -> 0) in
  its middle: the same events, gaps, late records and no serial reset as
  the slice as captured, and the same JSON stream;
- truncated records (cut in the header; one cut in its body, reusing a
  closed event's serial; one at the end of the input without a newline),
  binary garbage with NULs, a 100 MB line, invalid hex in two EXECVE
  arguments, duplicate serials (a closed event's serial again, with its own
  stamp and with another), and a reboot (serials jumping by 2^27 and back).

Each kind must be counted (malformed lines, malformed events, late records,
serial resets), the valid records around them must give the JSON stream of
a clean run of the same valid lines (but for the two corrupted execs, still
there with their pid and executable), both must exit 0, and the plugin mode
must answer queries while it is fed garbage (also in the middle of the
100 MB line) and after.

The plugin mode here touches no kernel state: no proc connector, no /proc
bootstrap, no reconcile, its own socket; root is not needed.
"""
import gzip
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import check, finish, wait_for

AUDITREE, REPO = (os.path.abspath(a) for a in sys.argv[1:3])
ASSEMBLERS = 2
SLICE_LINES = 9000
started = time.time()
work = tempfile.mkdtemp(prefix="auditree-hostile-")

corpus = os.path.join(REPO, "tests", "data", "corpus",
                      "kill-and-reuse.log.gz")
if not os.path.exists(corpus):
    print(f"FAIL: {corpus} is missing")
    sys.exit(1)
with gzip.open(corpus, "rb") as f:
    lines = f.read().split(b"\n")[:SLICE_LINES]

STAMP = re.compile(rb"msg=audit\((\d+)\.(\d+):(\d+)\)")


def serial_of(line):
    m = STAMP.search(line)
    return int(m.group(3)) if m else None


def stamp_of(line):
    m = STAMP.search(line)
    return m.group(1) + b"." + m.group(2)


# Clean boundaries: every event before one is complete, and the serial
# after it is the next one.
def clean_boundaries(ls):
    last = {}
    for i, line in enumerate(ls):
        s = serial_of(line)
        if s is not None:
            last[s] = i
    result = []
    reach = -1  # The last line of any event started so far.
    top = -1  # The highest serial so far.
    for b in range(1, len(ls)):
        s = serial_of(ls[b - 1])
        if s is not None:
            reach = max(reach, last[s])
            top = max(top, s)
        if reach < b and serial_of(ls[b]) == top + 1:
            result.append(b)
    return result


lines = [l for l in lines if serial_of(l) is not None]
clean_at = clean_boundaries(lines)
lines = lines[:clean_at[-1]]  # Every event of the slice complete.
clean_at = clean_at[:-1]


def boundary_near(fraction):
    want = int(len(lines) * fraction)
    return min(clean_at, key=lambda b: abs(b - want))


bounds = sorted({boundary_near(k / 6) for k in range(1, 6)})
check(len(bounds) == 5, f"the slice has 5 clean boundaries ({bounds})")

# Renumber: the serial of the event a third in becomes 0, the one before it
# 4294967295.
pivot = serial_of(lines[boundary_near(0.33) + 3])


def renumber(serial):
    return (serial - pivot) % (1 << 32)


def renumbered(line):
    return STAMP.sub(lambda m: b"msg=audit(%s.%s:%d)" % (
        m.group(1), m.group(2), renumber(int(m.group(3)))), line)


valid = [renumbered(l) for l in lines]
serials = sorted({serial_of(l) for l in valid if serial_of(l) is not None})
check(4294967295 in serials and 0 in serials,
      "the renumbered slice wraps from 4294967295 to 0")


def replay(data, out_name):
    """Replays `data` from stdin; (exit code, summary dict, stream lines)."""
    out = os.path.join(work, out_name)
    p = subprocess.run(
        [AUDITREE, "replay", "-", f"--auditree.output={out}",
         f"--auditree.assemblers={ASSEMBLERS}",
         f"--config-file={REPO}/config/auditree.conf"],
        input=data, capture_output=True, timeout=120)
    with open(out) as f:
        stream = f.read().splitlines()
    return p.returncode, summary_of(p.stderr.decode(errors="replace")), stream


def summary_of(text):
    result = {}
    for line in text.splitlines():
        if line.startswith("  ") and ":" in line:
            key, value = line.rsplit(":", 1)
            if value.strip().isdigit():
                result[key.strip()] = int(value)
    return result


# -- the wrap: the slice as captured and renumbered ------------------------------
rc0, as_captured, stream0 = replay(b"\n".join(lines) + b"\n", "captured.json")
rc1, clean, stream1 = replay(b"\n".join(valid) + b"\n", "clean.json")
check(rc0 == 0 and rc1 == 0, f"clean replays exit 0 ({rc0}, {rc1})")
for key in ("records", "events", "process events", "serial gaps",
            "late records", "serial resets", "malformed events"):
    check(clean.get(key) == as_captured.get(key),
          f"wrap: {key} as in the capture ({as_captured.get(key)} -> "
          f"{clean.get(key)})")
check(clean.get("serial resets") == 0 and clean.get("serial gaps") == 0,
      "wrap: no serial reset and no gap")


def with_serial(line, serial):
    doc = json.loads(line)
    stamp, s = doc["event"]["id"].rsplit(":", 1)
    doc["event"]["id"] = f"{stamp}:{serial(int(s))}"
    return json.dumps(doc, sort_keys=True)


check([with_serial(l, renumber) for l in stream0]
      == [with_serial(l, lambda s: s) for l in stream1],
      f"wrap: the same {len(stream1)} JSON lines, serials renumbered")

# -- the hostile input ------------------------------------------------------------
chunks = [valid[a:b] for a, b in zip([0] + bounds, bounds + [len(valid)])]


def corrupt_execve(chunk, how):
    """Replaces the first argument of the first EXECVE record in `chunk` by
    `how(its hex encoding)`; returns the event id."""
    for i, line in enumerate(chunk):
        m = re.search(rb' a0=(?:"([^"]*)"|([0-9A-F]+))(?= |$)', line)
        if line.startswith(b"type=EXECVE") and m:
            hexed = m.group(2) or m.group(1).hex().upper().encode()
            chunk[i] = line[:m.start()] + b" a0=" + how(hexed) \
                + line[m.end():]
            m2 = STAMP.search(line)
            return "%s.%s:%s" % (m2.group(1).decode(), m2.group(2).decode(),
                                 m2.group(3).decode())
    return None


# Not hex digits; an odd number of them.
corrupted = [corrupt_execve(chunks[1], lambda h: b"ZZ" + h[2:]),
             corrupt_execve(chunks[2], lambda h: h[:-1])]
check(None not in corrupted, f"two EXECVE records corrupted ({corrupted})")

truncated = [b"type=SYSCALL msg=audit(1795990089.702:3228",
             b"type=SYSCALL msg=aud", b"type=EXECVE",
             b"type=SYSCALL msg=audit(",
             b"type=PROCTITLE msg=audit(1795990089.702:322878)",
             b"node=", b"msg=audit(1795990089.702:322878): arch=c000003e"]
rng = random.Random(20261130)
garbage = bytes(rng.getrandbits(8) if rng.random() < 0.9 else 0
                for _ in range(32768)) + b"\n"
garbage_lines = sum(1 for seg in garbage.split(b"\n")[:-1]
                    if seg not in (b"", b"\r"))
long_stamp = stamp_of(chunks[3][0]).decode()
long_head = (f"type=EXECVE msg=audit({long_stamp}:{serial_of(chunks[3][0])}"
             "): argc=1 a0=").encode()
long_body = b"41" * (50 << 20)
# A closed event's serial again: with its stamp, with another stamp, and a
# SYSCALL cut short (a malformed event; it never gets an EOE).
closed = [l for l in chunks[3] if l.startswith(b"type=SYSCALL")][:3]


def syscall44(stamp, serial):
    return [b"type=SYSCALL msg=audit(%s:%d): arch=c000003e syscall=44 "
            b"success=yes exit=0 a0=3 a1=0 a2=0 a3=0 items=0 ppid=1 pid=4 "
            b"auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 "
            b"sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"x\" "
            b"exe=\"/x\" key=(null)" % (stamp, serial),
            b"type=EOE msg=audit(%s:%d): " % (stamp, serial)]


dups = (syscall44(stamp_of(closed[0]), serial_of(closed[0]))
        + syscall44(b"%d%s" % (int(stamp_of(closed[1])[:-4]) + 1,
                               stamp_of(closed[1])[-4:]),
                    serial_of(closed[1]))
        + [b"type=SYSCALL msg=audit(%s:%d): arch=c000003e sysc"
           % (stamp_of(closed[2]), serial_of(closed[2]))])
# A reboot: serials far away, then the capture again.
reboot_stamp = stamp_of(chunks[5][0])
reboot = (syscall44(reboot_stamp, 1 << 27)
          + syscall44(reboot_stamp, (1 << 27) + 1))
eof_truncated = b"type=SYSCALL msg=audit(17959"

expected = {
    "malformed lines": len(truncated) + garbage_lines + 1 + 1,
    "late records": 3,
    "serial resets": 2 * min(ASSEMBLERS, 2),
    "malformed events": 2 + 1,
}


def joined(ls):
    return b"".join(l + b"\n" for l in ls)


parts = [joined(chunks[0]), joined(truncated), joined(chunks[1]), garbage,
         joined(chunks[2]), long_head, long_body, b"\n", joined(chunks[3]),
         joined(dups), joined(chunks[4]), joined(reboot), joined(chunks[5]),
         eof_truncated]
hostile = b"".join(parts)
print(f"hostile input: {len(hostile) >> 20} MB, {len(valid)} valid lines, "
      f"{expected['malformed lines']} malformed lines, "
      f"{garbage.count(0)} NULs", flush=True)


def check_counts(got, where, keys=expected):
    for key, want in keys.items():
        delta = got.get(key, -1) - clean.get(key, 0)
        check(delta == want, f"{where}: {key} +{want} over the clean run "
              f"({clean.get(key)} -> {got.get(key)})")


def without_host(line):
    """Plugin mode names this machine (host.name, its boot in entity ids);
    a replay names none."""
    event = json.loads(line)
    event.pop("host", None)
    process = event.get("process", {})
    process.pop("entity_id", None)
    process.get("parent", {}).pop("entity_id", None)
    process.get("entry_leader", {}).pop("entity_id", None)
    return json.dumps(event, sort_keys=True)


def check_stream(stream, where):
    """The clean run's stream, but for the corrupted execs."""
    mine = {json.loads(l)["event"]["id"]: without_host(l) for l in stream}
    theirs = {json.loads(l)["event"]["id"]: without_host(l) for l in stream1}
    differ = sorted(i for i in theirs if mine.get(i) != theirs[i])
    extra = sorted(set(mine) - set(theirs))
    check(len(stream) == len(stream1) and differ == sorted(corrupted)
          and not extra,
          f"{where}: the clean run's {len(stream1)} process events "
          f"({len(stream)}; differing {differ[:5]}, extra {extra[:5]})")
    for event_id in corrupted:
        a = json.loads(mine.get(event_id, "{}"))
        b = json.loads(theirs[event_id])
        check(a.get("event", {}).get("action") == "exec"
              and a["process"]["pid"] == b["process"]["pid"]
              and a["process"].get("executable")
              == b["process"].get("executable"),
              f"{where}: the exec with bad hex ({event_id}) is still there "
              f"with its pid and executable")


# -- through `auditree replay -` -----------------------------------------------
t = time.time()
rc, got, stream = replay(hostile, "hostile.json")
print(f"replay of the hostile input: {time.time() - t:.1f} s", flush=True)
check(rc == 0, f"replay -: exit 0 ({rc})")
check_counts(got, "replay -")
check(got.get("serial gaps") == clean.get("serial gaps"),
      f"replay -: serial gaps as clean ({got.get('serial gaps')})")
check(got.get("process events") == clean.get("process events"),
      f"replay -: process events as clean ({got.get('process events')})")
check_stream(stream, "replay -")

# -- through the plugin mode -------------------------------------------------------
sock = os.path.join(work, "plugin.sock")
out_path = os.path.join(work, "plugin.json")
err_path = os.path.join(work, "plugin.err")
plugin = subprocess.Popen(
    [AUDITREE, "run", "--auditree.mode=stdin",
     "--auditree.proc-connector=false", "--auditree.bootstrap=false",
     "--auditree.reconcile-interval=0s", f"--auditree.socket={sock}",
     f"--auditree.output={out_path}", f"--auditree.assemblers={ASSEMBLERS}",
     f"--auditree.state-file={work}/audit-state",
     f"--config-file={REPO}/config/auditree.conf"],
    stdin=subprocess.PIPE, stderr=open(err_path, "w"))


def cli(*args):
    out = subprocess.run([AUDITREE, f"--auditree.socket={sock}", *args],
                         capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout, out.stderr


def stats():
    rc, out, _ = cli("stats", "--json")
    return json.loads(out) if rc == 0 else {}


def answers(when):
    rc, out, err = cli("health")
    check(rc == 0 and out == "ok\n",
          f"plugin mode {when}: health ok ({rc} {out.strip()!r} "
          f"{err.strip()!r})")
    rc, out, _ = cli("tree", "--json")
    check(rc == 0 and isinstance(json.loads(out), list),
          f"plugin mode {when}: tree --json answers")


# Process events the clean run had from the chunks written so far.
chunk_of = {}
for k, chunk in enumerate(chunks):
    for line in chunk:
        if serial_of(line) is not None:
            chunk_of[serial_of(line)] = k


def events_through(k):
    return sum(1 for l in stream1
               if chunk_of[int(json.loads(l)["event"]["id"].rsplit(":")[1])]
               <= k)


try:
    wait_for(lambda: os.path.exists(sock), 10, "the plugin's socket")
    answers("before any input")
    plugin.stdin.write(b"".join(parts[:4]))
    plugin.stdin.flush()
    check(wait_for(lambda: stats().get("process_events", 0)
                   >= events_through(1), 15, "the first chunks"),
          "plugin mode: stats answer while it is fed garbage")
    answers("after truncated records and binary garbage")
    plugin.stdin.write(b"".join(parts[4:6]) + long_body[:len(long_body) // 2])
    plugin.stdin.flush()
    time.sleep(0.3)
    answers("in the middle of the 100 MB line")
    plugin.stdin.write(long_body[len(long_body) // 2:] + b"".join(parts[7:]))
    plugin.stdin.flush()
    wait_for(lambda: stats().get("process_events", 0) >= events_through(5),
             15, "every chunk")
    answers("after the whole hostile input")
    # The SYSCALL cut short has no EOE: it closes after event-timeout.
    wait_for(lambda: stats().get("malformed_events", 0) >= 3, 5,
             "the event without EOE to time out")
    live = stats()
    # The last line has no newline: it is taken at the end of stdin.
    check_counts({"late records": live.get("late_records", -1),
                  "serial resets": live.get("serial_resets", -1),
                  "malformed events": live.get("malformed_events", -1),
                  "malformed lines": live.get("malformed_lines", -1)},
                 "plugin mode, stats",
                 dict(expected, **{"malformed lines":
                                   expected["malformed lines"] - 1}))
    plugin.stdin.close()
    code = plugin.wait(timeout=60)
except Exception:
    plugin.kill()
    raise
with open(err_path) as f:
    err = f.read()
check(code == 0, f"plugin mode: exit 0 at the end of stdin ({code})")
summary = summary_of(err[err.rfind("auditree run summary"):])
check_counts(summary, "plugin mode, summary")
check(summary.get("process events") == clean.get("process events"),
      f"plugin mode: process events as clean ({summary.get('process events')})")
with open(out_path) as f:
    check_stream(f.read().splitlines(), "plugin mode")
check("Traceback" not in err and "unhandled exception" not in err,
      "plugin mode: no unhandled exception in its log")
print(f"run time {time.time() - started:.1f} s")
finish()
