#!/usr/bin/env python3
"""ECS conformance: every field path that the stream and the tree JSON emit,
for every corpus log (tests/data/corpus/*.log.gz) and the two-host log, is
either an ECS field of the pinned release (tests/data/ecs/ecs_flat.yml.gz)
whose type matches the JSON value, or lies under `auditree.*`. An array is
allowed only where ECS normalizes the field to one.

usage: ecs_conformance_test.py AUDITREE REPO"""

import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile

import yaml

auditree, repo = sys.argv[1], sys.argv[2]
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what)


def load_ecs():
    path = os.path.join(repo, "tests", "data", "ecs", "ecs_flat.yml.gz")
    with gzip.open(path, "rt") as f:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(f, Loader=loader)


STRINGS = {"keyword", "constant_keyword", "wildcard", "text",
           "match_only_text", "ip", "version", "date"}
INTEGERS = {"long", "integer", "short", "byte", "unsigned_long"}
FLOATS = {"float", "double", "half_float", "scaled_float"}


def type_ok(ecs_type, value):
    if ecs_type in STRINGS:
        return isinstance(value, str)
    if ecs_type in INTEGERS:
        return isinstance(value, int) and not isinstance(value, bool)
    if ecs_type in FLOATS:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if ecs_type == "boolean":
        return isinstance(value, bool)
    return False


def leaves(obj, prefix=""):
    """(path, value) for every non-object value; arrays stay whole."""
    for key, value in obj.items():
        path = prefix + key
        if isinstance(value, dict):
            yield from leaves(value, path + ".")
        else:
            yield path, value


reported = set()


def conforms(ecs, path, value, where):
    """Checks every value; reports each path's first failure only."""
    if path.startswith("auditree.") or path in reported:
        return
    field = ecs.get(path)
    if field is None:
        reported.add(path)
        check(False, f"{where}: {path} is no ECS field and not under auditree.")
        return
    ecs_type = field.get("type")
    values = [value]
    if isinstance(value, list):
        if "array" not in (field.get("normalize") or []):
            reported.add(path)
            check(False, f"{where}: {path} is an array, ECS says one value")
        values = value
    bad = [v for v in values if not type_ok(ecs_type, v)]
    if bad:
        reported.add(path)
        check(False, f"{where}: {path} = {bad[:1]!r} is not an ECS {ecs_type}")


def replay(log, tmp):
    stream = os.path.join(tmp, "stream.json")
    tree = os.path.join(tmp, "tree.json")
    for f in (stream, tree):
        if os.path.exists(f):
            os.remove(f)
    # ancestors-depth on: its list must conform too (auditree.*).
    run = subprocess.run([auditree, "replay", log, "--keep-exited",
                          "--tree-json", tree, "--auditree.output=" + stream,
                          "--auditree.ancestors-depth=8"],
                         capture_output=True, text=True, timeout=300)
    check(run.returncode == 0, f"replay {log}: exit {run.returncode}")
    lines = [json.loads(l) for l in open(stream)]
    return lines, json.load(open(tree))


ecs = load_ecs()
check(len(ecs) > 1000 and "process.entity_id" in ecs,
      "tests/data/ecs/ecs_flat.yml.gz is not ECS's field list")
tmp = tempfile.mkdtemp()
logs = sorted(glob.glob(os.path.join(repo, "tests", "data", "corpus",
                                     "*.log.gz")))
check(len(logs) >= 4, f"only {len(logs)} corpus logs")
# Captured with setsid and setpgid: its events name their leaders.
logs.append(os.path.join(repo, "tests", "data", "lineage",
                         "session-leaders.log.gz"))
two = os.path.join(tmp, "two")
subprocess.run([sys.executable, os.path.join(repo, "scripts",
                                             "two_host_log.py"),
                os.path.join(repo, "tests", "data", "sample.log"), two],
               check=True)
logs.append(two + ".log")
paths = {"stream": set(), "tree": set()}
for log in logs:
    name = os.path.basename(log)
    stream, tree = replay(log, tmp)
    check(stream and tree, f"{name}: empty stream or tree")
    for event in stream:
        for path, value in leaves(event):
            conforms(ecs, path, value, f"{name} stream")
            paths["stream"].add(path)
    for process in tree:
        for path, value in leaves(process):
            conforms(ecs, path, value, f"{name} tree")
            paths["tree"].add(path)
    # Every stream event names its process lifetime and, with a parent,
    # the parent's.
    check(all(e["process"].get("entity_id") for e in stream
              if e["event"]["action"] in ("fork", "exec", "exit")),
          f"{name}: a process event without process.entity_id")
for where, seen in paths.items():
    print(f"{where}: {len(seen)} field paths checked")
    check("process.entity_id" in seen, f"{where}: no process.entity_id")
for leader in ("group_leader", "session_leader"):
    check(f"process.{leader}.entity_id" in paths["stream"],
          f"stream: no process.{leader}")
check("auditree.process.ancestors" in paths["stream"],
      "stream: no auditree.process.ancestors with ancestors-depth=8")
if failures:
    print(f"{len(failures)} checks failed")
    sys.exit(1)
print("ecs conformance: ok")
