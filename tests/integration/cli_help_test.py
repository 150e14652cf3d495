#!/usr/bin/env python3
"""`auditree --help` as a user meets it, from a directory that is not the
checkout: auditree's own usage first (no CAF option dump, no
caf-application.ini), the real config file named, every key listed; the
config file and rules resolved without the working directory. No kernel
state, no root."""
import json
import os
import subprocess
import sys
import tempfile

AUDITREE = os.path.abspath(sys.argv[1])
REPO = os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import check, finish


def run(*args, cwd="/"):
    out = subprocess.run([AUDITREE, *args], capture_output=True, text=True,
                         cwd=cwd, timeout=30)
    return out.returncode, out.stdout, out.stderr


def conf_keys():
    """The keys of config/auditree.conf's [auditree] section."""
    keys = []
    with open(os.path.join(REPO, "config", "auditree.conf")) as f:
        for line in f:
            line = line.split(";", 1)[0].strip()
            if "=" in line:
                keys.append(line.split("=", 1)[0].strip())
    return keys


for flag in ("--help", "-h", "-?"):
    rc, out, err = run(flag)
    check(rc == 0 and out.startswith("usage: auditree "),
          f"{flag}: starts with auditree's usage ({out[:40]!r})")
    check("caf-application.ini" not in out and "caf." not in out
          and "global options" not in out,
          f"{flag}: no CAF option dump, no caf-application.ini")
    check("/etc/auditree/auditree.conf" in out
          and "/etc/auditree/audit.rules" in out,
          f"{flag}: names the real config and rules files")
    missing = [k for k in conf_keys() if f"--auditree.{k}=" not in out]
    check(not missing and len(conf_keys()) >= 30,
          f"{flag}: lists every key of config/auditree.conf (missing "
          f"{missing})")
    for command in ("run", "replay", "tree", "ps", "process", "containers",
                    "stats", "health", "ctl crash"):
        check(f"\n  {command} " in out, f"{flag}: names the command {command}")

rc, out, err = run("tree", "--help")
check(rc == 0 and out.startswith("usage: auditree "),
      "--help after a command: the usage, nothing run")
rc, out, err = run("--long-help")
check(rc == 0 and out.startswith("usage: auditree ")
      and "scheduler.max-threads" in out
      and "caf-application.ini" not in out,
      "--long-help: the usage first, then CAF's options with auditree's "
      "config file")
rc, out, err = run()
check(rc == 2 and err.startswith("usage: auditree ") and out == "",
      "no command: the usage on stderr, exit 2")

# The config file: named and missing is an error; a bad key names the
# file and line, whatever the working directory.
rc, out, err = run("--config-file=/nonexistent/auditree.conf", "tree")
check(rc == 2 and "cannot read the config file /nonexistent/auditree.conf"
      in err, f"a missing --config-file is an error ({err.strip()!r})")
with tempfile.TemporaryDirectory() as work:
    conf = os.path.join(work, "a.conf")
    with open(conf, "w") as f:
        f.write("[auditree]\nlog-level=\"debug\"\nno-such-key=1\n")
    rc, out, err = run("--config-file", conf, "tree")
    check(rc == 2 and f"{conf}:3: unknown key auditree.no-such-key" in err,
          f"--config-file FILE: its unknown key named ({err.strip()!r})")
    # replay from an empty directory: the built-in (or installed) config.
    log = os.path.join(work, "one.log")
    with open(log, "w") as f:
        f.write("type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e "
                "syscall=59 success=yes exit=0 a0=0 a1=0 a2=0 a3=0 items=0 "
                "ppid=1 pid=100 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 "
                "egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"true\" "
                "exe=\"/usr/bin/true\" key=(null)\n"
                "type=EOE msg=audit(1700000000.000:1): \n")
    rc, out, err = run("replay", log, "--auditree.output=-", cwd=work)
    lines = [json.loads(x) for x in out.splitlines()]
    check(rc == 0 and len(lines) == 1
          and lines[0]["process"]["pid"] == 100
          and lines[0]["event"]["action"] == "exec",
          f"replay from an empty directory: one exec ({rc}, {err[-200:]!r})")

# Files root can trust: a config file others can write is refused, output
# is never written through a symlink, and the text tree escapes what a
# terminal would act on.
EXEC = ("type=SYSCALL msg=audit(1700000000.000:{n}): arch=c000003e "
        "syscall=59 success=yes exit=0 a0=0 a1=0 a2=0 a3=0 items=0 "
        "ppid=1 pid={pid} auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 "
        "egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm={comm} "
        "exe=\"/usr/bin/true\" key=(null)\n"
        "type=EOE msg=audit(1700000000.000:{n}): \n")
with tempfile.TemporaryDirectory() as work:
    conf = os.path.join(work, "open.conf")
    with open(conf, "w") as f:
        f.write("[auditree]\noutput=\"/tmp/planted\"\n")
    os.chmod(conf, 0o666)
    rc, out, err = run("--config-file", conf, "tree")
    check(rc == 2 and f"refusing the config file {conf}: mode 0666" in err,
          f"a config file others can write is refused ({err.strip()!r})")
    os.chmod(conf, 0o644)
    rc, out, err = run("--config-file", conf, "--help")
    check(rc == 0, "the same file, mode 0644, is read")

    log = os.path.join(work, "hostile.log")
    # comm is hex in the log: ESC [ 2 J, then U+202E (RIGHT-TO-LEFT
    # OVERRIDE) in "gpj\u202eexe", then a C1 CSI (U+009B).
    hostile = (b"\x1b[2J" + "gpj\u202eexe".encode() + b"\xc2\x9b").hex()
    with open(log, "w") as f:
        f.write(EXEC.format(n=1, pid=100, comm=hostile.upper()))
    rc, out, err = run("replay", log, "--tree", "--auditree.output=none",
                       cwd=work)
    check(rc == 0 and "\\x1b[2Jgpj\\u202eexe\\u009b(100)" in out
          and "\x1b" not in out and "\u202e" not in out
          and "\u009b" not in out,
          f"replay --tree escapes controls and bidi marks ({out!r})")

    target = os.path.join(work, "victim")
    with open(target, "w") as f:
        f.write("untouched\n")
    link = os.path.join(work, "events.json")
    os.symlink(target, link)
    rc, out, err = run("replay", log, f"--auditree.output={link}", cwd=work)
    check(rc != 0 and "symlink; refused" in err,
          f"output through a symlink is refused ({rc}, {err.strip()!r})")
    tree_link = os.path.join(work, "tree.json")
    os.symlink(target, tree_link)
    rc, out, err = run("replay", log, "--auditree.output=none",
                       f"--tree-json={tree_link}", cwd=work)
    check(rc != 0 and "symlink; refused" in err,
          f"--tree-json through a symlink is refused ({rc}, "
          f"{err.strip()[-200:]!r})")
    with open(target) as f:
        check(f.read() == "untouched\n", "the symlinks' target is untouched")

    # Log messages quote what users named: a log file whose name holds an
    # escape sequence and a bidi override, with a malformed line to log.
    evil = os.path.join(work, "a\x1b[2J\u202eb.log")
    with open(evil, "w") as f:
        f.write("not an audit record\n")
    rc, out, err = run("replay", evil, "--auditree.output=none", cwd=work)
    check("a\\x1b[2J\\u202eb.log:1: malformed line" in err
          and "\x1b" not in err and "\u202e" not in err,
          f"log messages escape controls and bidi marks ({err[-300:]!r})")

finish()
