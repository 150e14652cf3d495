#!/usr/bin/env python3
"""man/auditree.8 against the binary and config/auditree.conf, so they never
drift: every key of `auditree --help` and of the config file has an entry
with the file's default, every command of the usage has one, the files the
binary names are under FILES, and groff renders the page without a
warning. Missing groff or man fails the test."""
import os
import re
import shutil
import subprocess
import sys

AUDITREE = os.path.abspath(sys.argv[1])
REPO = os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import check, finish


def plain(roff):
    """The roff source with the escapes this page uses undone."""
    for esc, text in (("\\-", "-"), ("\\(dq", '"'), ("\\fB", ""),
                      ("\\fR", ""), ("\\fI", ""), ("\\&", "")):
        roff = roff.replace(esc, text)
    return roff


with open(os.path.join(REPO, "man", "auditree.8")) as f:
    source = f.read()
lines = [plain(l) for l in source.splitlines()]


def section(name):
    """The plain lines of one .SH section."""
    out, inside = [], False
    for line in lines:
        if line.startswith(".SH "):
            inside = line[4:].strip('"') == name
        elif inside:
            out.append(line)
    return out


# Each key: ".TP" then ".B KEY", and its paragraph ends with "Default: X.".
entries = {}
config = section("CONFIGURATION")
for i, line in enumerate(config):
    if line == ".TP" and i + 1 < len(config) \
            and config[i + 1].startswith(".B "):
        key = config[i + 1][3:]
        body = []
        for more in config[i + 2:]:
            if more == ".TP" or more.startswith(".SS"):
                break
            body.append(more)
        entries[key] = " ".join(body)

conf = {}
with open(os.path.join(REPO, "config", "auditree.conf")) as f:
    for line in f:
        line = line.split(";", 1)[0].strip()
        if "=" in line:
            key, value = (x.strip() for x in line.split("=", 1))
            conf[key] = value.strip('"')
help_out = subprocess.run([AUDITREE, "--help"], capture_output=True,
                          text=True, cwd="/").stdout
help_keys = re.findall(r"--auditree\.([a-z-]+)=<", help_out)

check(len(help_keys) >= 30 and set(help_keys) == set(conf),
      f"--help and config/auditree.conf have the same {len(conf)} keys "
      f"({sorted(set(help_keys) ^ set(conf))})")
for key in sorted(set(help_keys) | set(conf)):
    body = entries.get(key)
    if body is None:
        check(False, f"auditree.8 documents key {key}")
        continue
    want = f"Default: {conf[key]}." if conf.get(key) else "Default: empty."
    check(want in body, f"auditree.8: {key}, {want!r}")
check(set(entries) <= set(conf),
      f"auditree.8 documents no key that does not exist "
      f"({sorted(set(entries) - set(conf))})")

commands = section("COMMANDS")
usage_commands = help_out.split("commands:\n", 1)[-1].split("options", 1)[0]
found = re.findall(r"^  ([a-z]+(?: crash)?) ", usage_commands, re.M)
check(len(found) >= 9, f"the usage lists the commands ({found})")
for command in found:
    check(any(l.startswith((f".B {command}", f".BR {command}",
                            f".BI {command}", f'.BR "{command}"'))
              for l in commands), f"auditree.8 documents command {command}")

files = "\n".join(section("FILES"))
for path in ("/etc/auditree/auditree.conf", "/etc/auditree/audit.rules",
             conf.get("socket"), conf.get("state-file"),
             "auditree.service"):
    check(path and path in files, f"auditree.8 FILES names {path}")
for option in ("--config-file", "--help", "--long-help", "--tree",
               "--tree-json", "--keep-exited", "--json", "--container"):
    check(option in "\n".join(lines), f"auditree.8 names {option}")

with open(os.path.join(REPO, "CMakeLists.txt")) as f:
    version = re.search(r"project\(auditree VERSION ([0-9.]+)", f.read())
th = [l for l in lines if l.startswith(".TH ")]
check(version and th and f'"auditree {version.group(1)}"' in th[0],
      f"auditree.8's .TH names the project's version ({th[:1]})")

groff, man = shutil.which("groff"), shutil.which("man")
check(groff is not None and man is not None,
      "groff and man are installed (scripts/setup.sh)")
if groff:
    out = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z",
                          os.path.join(REPO, "man", "auditree.8")],
                         capture_output=True, text=True)
    check(out.returncode == 0 and out.stderr == "",
          f"groff renders auditree.8 without warnings ({out.stderr[:300]!r})")
if man:
    out = subprocess.run([man, "-l", os.path.join(REPO, "man", "auditree.8")],
                         capture_output=True, text=True,
                         env={**os.environ, "MANPAGER": "cat", "PAGER": "cat",
                              "MANWIDTH": "80"})
    check(out.returncode == 0 and "AUDITREE(8)" in out.stdout
          and "restart-backoff-max" in out.stdout,
          "man -l renders the page")

finish()
