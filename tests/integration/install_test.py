#!/usr/bin/env python3
"""auditree installed as a system daemon, on this machine.

Builds the .deb with cpack (or takes $AUDITREE_DEB), checks its Depends,
conffiles and maintainer scripts, runs the build's binary from / with no
/etc/auditree (the built-in defaults), installs the package with dpkg
(nothing may start without systemd), runs the installed `auditree run`
from / with its defaults for a few seconds, asks it with the installed
`auditree tree`, renders `man auditree`, then purges the package and checks
that nothing is left: binary, /etc/auditree, unit, man page, doc, the
unit's enablement, the agent's run and log directories, and the kernel's
audit state (no rule with key auditree, the audit pid and settings as
before).

Usage: install_test.py AUDITREE AUDIT_STATE REPO BUILD_DIR
Needs root, dpkg, cpack, dpkg-shlibdeps and man: anything missing fails.
Kernel audit and /usr are shared: run it under
`flock /tmp/auditree-kernel.lock`.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import check, finish, proc_stat, wait_for

AUDITREE, AUDIT_STATE, REPO, BUILD = (os.path.abspath(a)
                                      for a in sys.argv[1:5])
KEY = "auditree"
SBIN = "/usr/sbin/auditree"
LEFTOVERS = [SBIN, "/etc/auditree", "/usr/lib/systemd/system/auditree.service",
             "/usr/share/man/man8/auditree.8.gz", "/usr/share/doc/auditree",
             "/etc/systemd/system/multi-user.target.wants/auditree.service",
             "/var/lib/systemd/deb-systemd-helper-enabled/auditree.service",
             "/var/lib/systemd/deb-systemd-helper-masked/auditree.service",
             "/var/log/auditree", "/var/lib/auditree", "/run/auditree"]
work = tempfile.mkdtemp(prefix="auditree-install-")


def fail_now(what):
    print("FAIL: " + what, flush=True)
    sys.exit(1)


def sh(*args, **kw):
    print("$ " + " ".join(args), flush=True)
    return subprocess.run(args, capture_output=True, text=True, **kw)


def audit_state():
    out = subprocess.run([AUDIT_STATE, KEY], capture_output=True, text=True)
    if out.returncode != 0:
        fail_now("kernel audit unavailable: " + out.stderr.strip())
    return json.loads(out.stdout)


def installed():
    out = sh("dpkg-query", "-W", "-f=${Status}", "auditree")
    return out.returncode == 0 and "installed" in out.stdout \
        and "not-installed" not in out.stdout


def installed_pids():
    """Pids of processes running the installed binary."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                exe = os.readlink(f"/proc/{entry}/exe")
            except OSError:
                continue
            if exe == SBIN:
                st = proc_stat(int(entry))
                if st and st[0] not in ("Z", "X"):
                    pids.append(int(entry))
    return pids


def run_agent(binary, name):
    """Starts `BINARY run` from / with no option; returns (proc, err path,
    out path) once it listens, or fails."""
    err_path = os.path.join(work, name + ".err")
    out_path = os.path.join(work, name + ".json")
    proc = subprocess.Popen([binary, "run"], cwd="/",
                            stdout=open(out_path, "w"),
                            stderr=open(err_path, "w"))

    def log():
        with open(err_path) as f:
            return f.read()
    if not wait_for(lambda: "listening to kernel audit" in log()
                    or proc.poll() is not None, 15, f"{name} to listen") \
            or proc.poll() is not None:
        print(log())
        stop_agent(proc, err_path)
        fail_now(f"{name}: the agent did not start")
    return proc, err_path, out_path


def stop_agent(proc, err_path):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = "hung"
    with open(err_path) as f:
        print(f.read()[-600:])
    return code


def check_restored(before, what):
    after = audit_state()
    check(after["rules"] == 0, f"{what}: no rule with key {KEY} left")
    for k in ("enabled", "pid", "backlog_limit", "backlog_wait_time"):
        check(after[k] == before[k],
              f"{what}: {k} restored ({before[k]} -> {after[k]})")


# -- preconditions: what this test needs, and a clean machine -----------------
if os.geteuid() != 0:
    fail_now("needs root (dpkg -i, kernel audit)")
for tool in ("dpkg", "dpkg-deb", "dpkg-query", "cpack", "dpkg-shlibdeps",
             "man"):
    if shutil.which(tool) is None:
        fail_now(f"{tool} is missing (scripts/setup.sh installs it)")
if installed():
    fail_now("the auditree package is installed already; "
             "dpkg --purge auditree first")
# /run/auditree and /var/lib/auditree are any agent's (the default socket
# and state file); purge removes them.
present = [p for p in LEFTOVERS if os.path.lexists(p)
           and p not in ("/run/auditree", "/var/lib/auditree")]
if present:
    fail_now(f"left from an earlier install: {present}")
before = audit_state()
check(before["rules"] == 0, f"no rule with key {KEY} before")

# -- the package --------------------------------------------------------------
deb = os.environ.get("AUDITREE_DEB")
if not deb:
    start = time.time()
    out = sh("cpack", "-G", "DEB", "--config",
             os.path.join(BUILD, "CPackConfig.cmake"), "-B", work)
    debs = [f for f in os.listdir(work) if f.endswith(".deb")]
    if out.returncode != 0 or len(debs) != 1:
        print(out.stdout[-2000:], out.stderr[-2000:])
        fail_now("cpack -G DEB built no package")
    deb = os.path.join(work, debs[0])
    print(f"cpack: {time.time() - start:.1f} s, {os.path.getsize(deb)} bytes")
depends = sh("dpkg-deb", "-f", deb, "Depends").stdout.strip()
print("Depends: " + depends)
for lib in ("libc6", "libstdc++6", "libcaf-core0.17", "libaudit1"):
    check(f"{lib} (>= " in depends, f"Depends names {lib} with a version")
control = os.path.join(work, "control")
sh("dpkg-deb", "-e", deb, control)
with open(os.path.join(control, "conffiles")) as f:
    conffiles = f.read().split()
check(sorted(conffiles) == ["/etc/auditree/audit.rules",
                            "/etc/auditree/auditree.conf"],
      f"conffiles: the two files in /etc/auditree ({conffiles})")
for script in ("postinst", "prerm"):
    with open(os.path.join(control, script)) as f:
        text = f.read()
    check("[ -d /run/systemd/system ]" in text,
          f"{script} starts or stops the unit only where systemd runs")

# -- the built-in defaults: the build's binary from /, no /etc/auditree -------
out = sh(AUDITREE, "run", "--auditree.rules-file=/nonexistent/audit.rules",
         cwd="/")
check(out.returncode == 1 and "cannot read the rules file "
      "/nonexistent/audit.rules" in out.stderr
      and audit_state()["rules"] == 0,
      f"an unreadable rules-file stops run before the kernel is touched "
      f"({out.returncode}, {out.stderr.strip()[-120:]!r})")
agent, err_path, _ = run_agent(AUDITREE, "built-in")
with open(err_path) as f:
    log = f.read()
check("config: built-in defaults (no /etc/auditree/auditree.conf)" in log
      and "rules: built-in defaults (no /etc/auditree/audit.rules)" in log,
      "from / without /etc/auditree: the built-in config and rules, logged")
check(audit_state()["rules"] == 2, "the built-in rules are installed")
code = stop_agent(agent, err_path)
check(code == 0, f"the built-in run stops cleanly (exit {code})")
check_restored(before, "after the built-in run")

# -- install ------------------------------------------------------------------
try:
    start = time.time()
    out = sh("dpkg", "-i", deb)
    print(out.stdout, out.stderr)
    check(out.returncode == 0, f"dpkg -i: exit {out.returncode}")
    print(f"dpkg -i: {time.time() - start:.1f} s")
    systemd = os.path.isdir("/run/systemd/system")
    if not systemd:
        time.sleep(0.5)
        check(not installed_pids(),
              "without systemd running, installing started nothing")
    for path in (SBIN, "/etc/auditree/auditree.conf",
                 "/etc/auditree/audit.rules",
                 "/usr/lib/systemd/system/auditree.service",
                 "/usr/share/man/man8/auditree.8.gz"):
        check(os.path.exists(path), f"installed: {path}")
    if shutil.which("deb-systemd-helper"):
        check(os.path.islink("/etc/systemd/system/multi-user.target.wants/"
                             "auditree.service"),
              "the unit is enabled for the next boot (deb-systemd-helper)")
    with open("/usr/lib/systemd/system/auditree.service") as f:
        unit = f.read()
    check(f"ExecStart={SBIN} run" in unit, "the unit runs /usr/sbin/auditree")
    check(f"ExecStopPost={SBIN} repair\n" in unit
          and "StateDirectory=auditree\n" in unit,
          "the unit repairs after every stop, from its StateDirectory")
    out = sh("dpkg-query", "-W", "-f=${Conffiles}", "auditree")
    check("/etc/auditree/auditree.conf" in out.stdout
          and "/etc/auditree/audit.rules" in out.stdout,
          "dpkg knows both files as conffiles")

    # -- the installed agent, from /, with its defaults ----------------------
    if systemd:
        sh("systemctl", "stop", "auditree")
    agent, err_path, out_path = run_agent(SBIN, "installed")
    try:
        with open(err_path) as f:
            log = f.read()
        check("config: /etc/auditree/auditree.conf" in log
              and "rules: /etc/auditree/audit.rules" in log,
              "the installed agent logs /etc/auditree's config and rules")
        check(audit_state()["rules"] == 2,
              f"two rules with key {KEY} while it runs")
        marker = subprocess.Popen(["sleep", "2"], cwd="/")
        out = sh(SBIN, "tree", cwd="/")
        check(out.returncode == 0 and f"({agent.pid})" in out.stdout
              and "(1)" in out.stdout,
              f"auditree tree answers with pid 1 and the agent "
              f"({out.returncode}, {out.stderr.strip()!r})")
        out = sh(SBIN, "health", cwd="/")
        check(out.returncode == 0 and out.stdout == "ok\n",
              f"auditree health: ok ({out.stdout.strip()!r})")

        def marker_exec():
            with open(out_path) as f:
                for line in f:
                    if line.endswith("\n"):
                        e = json.loads(line)
                        if e["process"]["pid"] == marker.pid \
                                and e["event"]["action"] == "exec":
                            return True
            return False
        check(wait_for(marker_exec, 5, "the marker's exec"),
              "the event stream (stdout) has an exec run meanwhile")
        marker.wait()
        time.sleep(1)
    finally:
        code = stop_agent(agent, err_path)
    check(code == 0, f"the installed agent stops cleanly (exit {code})")
    check_restored(before, "after the installed run")
    check(not os.path.lexists("/var/lib/auditree/audit-state"),
          "a clean stop leaves no state file")
    out = sh(SBIN, "repair", cwd="/")
    check(out.returncode == 0 and "nothing to repair" in out.stderr,
          f"the unit's ExecStopPost after a clean stop: nothing to repair "
          f"({out.returncode}, {out.stderr.strip()[-200:]!r})")

    out = sh("man", "auditree", env={**os.environ, "MANPAGER": "cat",
                                     "PAGER": "cat", "MANWIDTH": "80"})
    check(out.returncode == 0 and "AUDITREE(8)" in out.stdout
          and "restart-backoff-max" in out.stdout
          and "/etc/auditree/audit.rules" in out.stdout,
          f"man auditree renders ({out.returncode}, {out.stderr[:200]!r})")
    out = sh("man", "-w", "auditree")
    check(out.stdout.strip() == "/usr/share/man/man8/auditree.8.gz",
          f"man -w auditree: {out.stdout.strip()}")

    # An admin's edit of a conffile survives a reinstall (dpkg keeps it),
    # and configuring again starts nothing either.
    with open("/etc/auditree/auditree.conf", "a") as f:
        f.write("; edited by install_test\n")
    out = sh("dpkg", "-i", deb)
    check(out.returncode == 0, f"dpkg -i again: exit {out.returncode}")
    with open("/etc/auditree/auditree.conf") as f:
        check(f.read().endswith("; edited by install_test\n"),
              "the edited auditree.conf is kept by a reinstall")
    if not systemd:
        time.sleep(0.5)
        check(not installed_pids(), "the reinstall started nothing")
    # What the unit writes when systemd runs it; purge removes it.
    os.makedirs("/var/log/auditree", exist_ok=True)
    with open("/var/log/auditree/events.json", "w") as f:
        f.write("{}\n")
finally:
    start = time.time()
    out = sh("dpkg", "--purge", "auditree")
    print(out.stdout, out.stderr)
    check(out.returncode == 0, f"dpkg --purge: exit {out.returncode}")
    print(f"dpkg --purge: {time.time() - start:.1f} s")

# -- nothing is left ----------------------------------------------------------
check(not installed(), "the package is gone")
for path in LEFTOVERS:
    check(not os.path.lexists(path), f"purged: {path}")
check(not installed_pids(), "no installed auditree process runs")
check_restored(before, "after the purge")
shutil.rmtree(work, ignore_errors=True)

finish()
