#!/usr/bin/env python3
"""The benchmark suite of auditree against its peers; run by bench/run.sh.

Prints one table: every figure of auditree next to its peer's figure and
the ratio (auditree / peer). Benchmarks print figures; they assert nothing.

- replay: records/s of `auditree replay` on the fork-storm corpus against
  bench_auparse_peer (libauparse), alternating, median of BENCH_RUNS runs;
  both timed as the wall time of the whole process.
- scaling: the same replay with 1, 2 and 4 assemblers.
- live (root and kernel audit only): CPU seconds per 10,000 fork+exec+exit
  at a fixed rate, audit stamp -> tree latency, and loss at the highest
  rate bench_loadgen reaches; auditree (multicast and unicast) against
  auditd (RAW log, the same rules), one after another, alternating. At the
  fixed rate also auditree with batch-delay 0s and 2ms, and for each the
  kernel's share of the latency: stamp -> the event's EOE read; and how far
  the clock the kernel stamps events with lags the real time meanwhile.
- memory: bytes per tracked process (bench_tree_memory).
- budget: peak RSS of replaying a generated spawn flood with 100 KB argv
  (scripts/argv_flood_log.py) under the default max-args-bytes against no
  cap, and with --keep-exited under max-processes=1000 against no cap.

Kernel audit is global state: the live part records `auditctl -s` and the
rule list first, tags every rule it adds with BENCH_KEY, removes exactly
those, stops what it started, restores every setting it saw, and checks.
"""

import atexit
import contextlib
import gzip
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BENCH_BUILD", os.path.join(ROOT, "build-bench"))
# The log to replay, plain or gzip (the repository keeps it as gzip).
CORPUS = os.environ.get(
    "BENCH_CORPUS",
    os.path.join(ROOT, "tests", "data", "corpus", "fork-storm.log.gz"))
RUNS = int(os.environ.get("BENCH_RUNS", "11"))
LIVE_RUNS = int(os.environ.get("BENCH_LIVE_RUNS", "5"))
RATE = int(os.environ.get("BENCH_RATE", "500"))
COUNT = int(os.environ.get("BENCH_COUNT", "5000"))
JOBS = int(os.environ.get("BENCH_JOBS", "4"))
FLOOD_SECONDS = float(os.environ.get("BENCH_FLOOD_SECONDS", "5"))
KEY = os.environ.get("BENCH_KEY", "auditree-bench")
# Extra options for `auditree run` and `auditree replay` (A/B trials).
EXTRA_ARGS = os.environ.get("BENCH_AUDITREE_ARGS", "").split()
# Another rules file for both live agents (A/B trials of the rules, e.g.
# without setsid and setpgid); empty: config/audit.rules.
RULES_FILE = os.path.abspath(os.environ["BENCH_RULES"]) \
    if os.environ.get("BENCH_RULES") else ""
# A second rules file: both agents run with it too, at the fixed rate, in
# the same live run (the cost of rules: BENCH_RULES without a call,
# BENCH_RULES_B with it).
RULES_B = os.path.abspath(os.environ["BENCH_RULES_B"]) \
    if os.environ.get("BENCH_RULES_B") else ""
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The clock of audit stamps (the kernel's ktime_get_coarse_real_ts64).
CLOCK_REALTIME_COARSE = 5

AUDITREE = os.path.join(BUILD, "auditree")
PEER = os.path.join(BUILD, "bench_auparse_peer")
LOADGEN = os.path.join(BUILD, "bench_loadgen")
TREE_MEMORY = os.path.join(BUILD, "bench_tree_memory")


def log(*args):
    print("bench:", *args, file=sys.stderr, flush=True)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# -- replay ------------------------------------------------------------------


def plain_corpus(work):
    """CORPUS as plain text: libauparse reads no gzip, and auditree reads
    the same file so that both pay for the same bytes."""
    if not CORPUS.endswith(".gz"):
        return CORPUS
    path = os.path.join(work, os.path.basename(CORPUS)[:-3])
    with gzip.open(CORPUS, "rb") as f, open(path, "wb") as out:
        shutil.copyfileobj(f, out)
    return path


def corpus_records():
    with open(CORPUS, "rb") as f:
        return sum(1 for line in f if line.strip())


def timed(cmd):
    """Wall time of the whole process, and its stdout and stderr."""
    start = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, check=False)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({p.returncode}): {p.stderr}")
    return elapsed, p.stdout, p.stderr


def summary_value(text, label):
    m = re.search(r"^\s*" + re.escape(label) + r":?\s+(\d+)\s*$", text,
                  re.M)
    return int(m.group(1)) if m else None


def bench_replay():
    records = corpus_records()
    variants = {
        "auditree, JSON to /dev/null": [
            AUDITREE, "replay", *EXTRA_ARGS, CORPUS,
            "--auditree.output=/dev/null", "--auditree.assemblers=2"],
        "auditree, no sink": [
            AUDITREE, "replay", *EXTRA_ARGS, CORPUS,
            "--auditree.output=none", "--auditree.assemblers=2"],
        "libauparse, raw values": [PEER, CORPUS],
        "libauparse, raw + interpreted": [PEER, "-i", CORPUS],
    }
    for n in (1, 2, 4):
        variants[f"auditree, {n} assembler(s)"] = [
            AUDITREE, "replay", *EXTRA_ARGS, CORPUS,
            "--auditree.output=/dev/null", f"--auditree.assemblers={n}"]
    names = list(variants)
    times = {name: [] for name in names}
    for run in range(RUNS):
        # Alternate, and rotate who goes first, so drift hits all alike.
        order = names[run % len(names):] + names[:run % len(names)]
        for name in order:
            elapsed, out, err = timed(variants[name])
            if name.startswith("auditree"):
                seen = summary_value(err, "records")
                if seen != records:
                    raise RuntimeError(f"{name}: {seen} records, not {records}")
            times[name].append(elapsed)
    return records, {name: records / median(times[name]) for name in names}


# -- kernel audit state ------------------------------------------------------


def auditctl(*args, check=True):
    p = subprocess.run(["auditctl", *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, check=False)
    if check and p.returncode != 0:
        raise RuntimeError(f"auditctl {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def audit_status():
    status = {}
    for line in auditctl("-s").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].lstrip("-").isdigit():
            status[parts[0]] = int(parts[1])
    return status


def audit_rules():
    return auditctl("-l").strip()


def bench_rules():
    return [line for line in audit_rules().splitlines()
            if f"key={KEY}" in line]


def other_agents():
    """Pids of audit agents running now (another session's live test)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        name = os.path.basename(args[0]) if args else b""
        if name == b"auditd" or (name == b"auditree" and b"run" in args):
            pids.append(int(entry))
    return pids


def live_possible():
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("auditctl") is None or shutil.which("auditd") is None:
        return "auditctl or auditd missing"
    try:
        audit_status()
    except (RuntimeError, OSError) as e:
        return f"no kernel audit ({e})"
    # Kernel audit is one per host: wait for another agent to finish.
    deadline = time.monotonic() + 180
    while other_agents() and time.monotonic() < deadline:
        time.sleep(1)
    if other_agents():
        return f"other audit agents are running: {other_agents()}"
    return None


def restore(before):
    """Back to the settings seen before: only our rules go."""
    if bench_rules():
        auditctl("-D", "-k", KEY, check=False)
    now = audit_status()
    if now.get("enabled") != before["enabled"] and before["enabled"] != 2:
        auditctl("-e", str(before["enabled"]), check=False)
    if now.get("backlog_limit") != before["backlog_limit"]:
        auditctl("-b", str(before["backlog_limit"]), check=False)
    if now.get("backlog_wait_time") != before["backlog_wait_time"]:
        auditctl("--backlog_wait_time", str(before["backlog_wait_time"]),
                 check=False)


def state_differences(before, rules_before):
    after = audit_status()
    diffs = [f"{k} {before[k]} -> {after.get(k)}"
             for k in ("enabled", "backlog_limit", "backlog_wait_time", "pid",
                       "failure", "rate_limit")
             if after.get(k) != before.get(k)]
    rules = audit_rules()
    if rules != rules_before:
        old, new = set(rules_before.splitlines()), set(rules.splitlines())
        diffs.append("rules changed: gone " + repr(sorted(old - new))
                     + ", new " + repr(sorted(new - old)))
    return diffs


# -- live runs ---------------------------------------------------------------


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat(5); index 0 here is 3.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def kauditd_pid():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == "kauditd":
                        return int(entry)
            except OSError:
                pass
    return None


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def stop(proc, sig=signal.SIGINT, seconds=30):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class auditree_daemon:
    """`auditree run` with its rules tagged with the bench key."""

    def __init__(self, mode, tmp, variant="", rules=None):
        self.mode = mode
        self.tmp = tmp
        # A variant sets one more option: "batch-delay=0s".
        self.variant = variant
        self.rules = RULES_FILE if rules is None else rules
        self.name = f"auditree {mode}" + (f", {variant}" if variant else "") \
            + (", rules B" if rules else "")

    def start(self):
        self.err_path = os.path.join(self.tmp,
                                     self.name.replace(" ", "_") + ".err")
        self.err = open(self.err_path, "w")
        variant = [f"--auditree.{self.variant}"] if self.variant else []
        self.proc = subprocess.Popen(
            [AUDITREE, "run", *EXTRA_ARGS, *variant,
             *([f"--auditree.rules-file={self.rules}"] if self.rules else []),
             f"--auditree.mode={self.mode}",
             "--auditree.output=/dev/null", f"--auditree.rule-key={KEY}",
             "--auditree.log-level=warning",
             f"--auditree.state-file={self.tmp}/auditree-state"],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.err)
        wait_for(lambda: self.proc.poll() is not None
                 or len(bench_rules()) >= 2, 30, "auditree's rules")
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited: {self.stderr()}")
        if self.mode == "unicast":
            wait_for(lambda: audit_status().get("pid") == self.proc.pid, 10,
                     "auditree to register")
        return self.proc.pid

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def finish(self):
        stop(self.proc, signal.SIGINT)
        self.err.close()
        text = self.stderr()
        result = {
            "enobufs": summary_value(text, "ENOBUFS overruns"),
            "gaps": summary_value(text, "serial gaps"),
            "agent_lost": summary_value(text, "kernel lost"),
            "records": summary_value(text, "records"),
        }
        latency = [summary_value(text, f"latency {q} (us)")
                   for q in ("p50", "p99", "max")]
        if None not in latency and summary_value(text, "latency samples"):
            result["latency"] = tuple(x / 1000 for x in latency)
        delivery = [summary_value(text, f"delivery {q} (us)")
                    for q in ("p50", "p99", "max")]
        if None not in delivery:
            result["delivery"] = tuple(x / 1000 for x in delivery)
        if result["records"] is None:
            raise RuntimeError(f"{self.name}: no summary: {text}")
        return result


class auditd_daemon:
    """Debian's auditd in the foreground with a private config: RAW log in
    a temp dir, no plugins, the same rules as config/audit.rules."""

    def __init__(self, tmp, rules=None):
        self.tmp = tmp
        self.rules = RULES_FILE if rules is None else rules
        self.name = "auditd" + (", rules B" if rules else "")

    def write_config(self):
        self.dir = os.path.join(self.tmp, "auditd")
        os.makedirs(os.path.join(self.dir, "plugins"), exist_ok=True)
        self.log_file = os.path.join(self.dir, "audit.log")
        if os.path.exists(self.log_file):
            os.unlink(self.log_file)
        conf = os.path.join(self.dir, "auditd.conf")
        # Debian's /etc/audit/auditd.conf, but RAW, private, and never
        # suspending or rotating during a run.
        with open(conf, "w") as f:
            f.write(f"""local_events = yes
write_logs = yes
log_file = {self.log_file}
log_group = root
log_format = RAW
flush = INCREMENTAL_ASYNC
freq = 50
max_log_file = 1024
num_logs = 1
priority_boost = 4
name_format = NONE
max_log_file_action = IGNORE
space_left = 75
space_left_action = IGNORE
admin_space_left = 50
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
use_libwrap = no
tcp_listen_queue = 5
tcp_max_per_addr = 1
tcp_client_max_idle = 0
transport = TCP
distribute_network = no
q_depth = 2000
overflow_action = IGNORE
max_restarts = 10
plugin_dir = {self.dir}/plugins
end_of_event_timeout = 2
""")
        os.chmod(conf, 0o640)

    def start(self):
        self.write_config()
        self.err_path = os.path.join(self.tmp, "auditd.err")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(
            ["auditd", "-n", "-c", self.dir], stdin=subprocess.DEVNULL,
            stdout=self.err, stderr=self.err)
        wait_for(lambda: self.proc.poll() is not None
                 or audit_status().get("pid") == self.proc.pid, 20,
                 "auditd to register")
        if self.proc.poll() is not None:
            raise RuntimeError("auditd exited early")
        # As the agent does: backlog_limit raised to the same value, and the
        # rules of config/audit.rules, tagged.
        auditctl("-b", "8192")
        with open(self.rules
                  or os.path.join(ROOT, "config", "audit.rules")) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    auditctl(*line.split(), "-k", KEY)
        return self.proc.pid

    def finish(self):
        auditctl("-D", "-k", KEY, check=False)
        stop(self.proc, signal.SIGTERM)
        self.err.close()
        return {"gaps": self.log_gaps(), "records": self.log_records}

    def log_gaps(self):
        """Serials missing from the log (auditd's own DAEMON_* records
        excluded: they are numbered by auditd, not the kernel)."""
        serials = set()
        self.log_records = 0
        stamp = re.compile(r"msg=audit\(\d+\.\d+:(\d+)\)")
        with open(self.log_file, errors="replace") as f:
            for line in f:
                if line.startswith("type=DAEMON_"):
                    continue
                m = stamp.search(line)
                if m:
                    self.log_records += 1
                    serials.add(int(m.group(1)))
        if not serials:
            return 0
        return max(serials) - min(serials) + 1 - len(serials)


def run_loadgen(args):
    p = subprocess.run([LOADGEN, *args], stdout=subprocess.PIPE, text=True,
                       check=False)
    result = {}
    for line in p.stdout.splitlines():
        key, _, value = line.partition(":")
        result[key.strip()] = float(value)
    return result


def percentiles(xs):
    """p50, p99 and max of `xs`; None when there are none."""
    if not xs:
        return None
    xs = sorted(xs)
    return (xs[len(xs) // 2], xs[int(len(xs) * 0.99)], xs[-1])


class background_sampler:
    """Runs `sample()` over and over on a thread while inside `with`; it
    appends to `samples` (ms)."""

    def __enter__(self):
        self.samples = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()
        return self

    def run(self):
        while not self.done.is_set():
            self.sample()

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def percentiles(self):
        return percentiles(self.samples)


class stamp_clock_lag(background_sampler):
    """How far the coarse clock that stamps audit events lags the real
    time, at random moments: an event's stamp is older than the event by
    as much, and so every latency measured from it overstates by as
    much."""

    def sample(self):
        coarse = time.clock_gettime(CLOCK_REALTIME_COARSE)
        fine = time.clock_gettime(time.CLOCK_REALTIME)
        self.samples.append((fine - coarse) * 1000)
        time.sleep(random.uniform(0.0005, 0.005))


class log_latency(background_sampler):
    """Follows auditd's log: for each SYSCALL record that appears (auditd
    logs no EOE; an event's records leave the kernel together), the real
    time minus its stamp. The log is polled every millisecond, so each
    figure is up to 1 ms late."""

    stamp = re.compile(rb"^type=SYSCALL msg=audit\((\d+)\.(\d+):")

    def __init__(self, path):
        self.log = open(path, "rb")
        self.log.seek(0, os.SEEK_END)
        self.partial = b""

    def sample(self):
        data = self.log.read()
        now = time.time()
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            m = self.stamp.match(line)
            if m:
                at = int(m.group(1)) + int(m.group(2)) / 1000
                self.samples.append((now - at) * 1000)
        time.sleep(0.001)

    def __exit__(self, *exc):
        super().__exit__(*exc)
        self.log.close()


def one_live_run(daemon, loadgen_args, kauditd):
    """Starts the daemon, lets it settle, runs the load, lets it drain,
    stops it; CPU from /proc/<pid>/stat deltas over load and drain."""
    pid = daemon.start()
    try:
        time.sleep(1.5)  # Bootstrap (/proc scan) and startup settle.
        lost0 = audit_status()["lost"]
        cpu0 = cpu_seconds(pid)
        kcpu0 = cpu_seconds(kauditd) if kauditd else 0.0
        log = getattr(daemon, "log_file", None)
        follow = log_latency(log) if log and os.path.exists(log) \
            else contextlib.nullcontext()
        with stamp_clock_lag() as lag, follow as tail:
            load = run_loadgen(loadgen_args)
        time.sleep(1.0)  # Drain.
        cpu1 = cpu_seconds(pid)
        kcpu1 = cpu_seconds(kauditd) if kauditd else 0.0
        lost1 = audit_status()["lost"]
    finally:
        result = daemon.finish()
    result.update(cpu=cpu1 - cpu0, kauditd_cpu=kcpu1 - kcpu0,
                  lost=lost1 - lost0, spawned=load.get("spawned", 0),
                  rate=load.get("rate", 0), clock_lag=lag.percentiles(),
                  log_latency=tail.percentiles() if tail else None)
    return result


def bench_live():
    why_not = live_possible()
    if why_not:
        log("live benchmarks skipped:", why_not)
        return None
    before = audit_status()
    rules_before = audit_rules()
    if before.get("pid", 0) != 0:
        log("live benchmarks skipped: an audit daemon is registered (pid",
            before["pid"], ")")
        return None
    kauditd = kauditd_pid()
    tmp = tempfile.mkdtemp(prefix="auditree-bench-")
    daemons = [auditree_daemon("multicast", tmp),
               auditree_daemon("unicast", tmp), auditd_daemon(tmp)]
    # At the fixed rate only: what batching costs in latency and saves in
    # CPU, and the kernel's share of the latency (its delivery to a reader
    # that never waits).
    delays = [auditree_daemon("multicast", tmp, f"batch-delay={d}")
              for d in ("0s", "2ms")]
    if RULES_B:
        delays += [auditree_daemon("multicast", tmp, rules=RULES_B),
                   auditd_daemon(tmp, rules=RULES_B)]
    fixed = {d.name: [] for d in daemons + delays}
    flood = {d.name: [] for d in daemons}
    problems = []
    try:
        for phase, runs, args, ds in (
                (fixed, LIVE_RUNS, ["-r", str(RATE), "-n", str(COUNT),
                                    "-j", str(JOBS)], daemons + delays),
                (flood, LIVE_RUNS, ["-r", "0", "-n", "1000000000", "-j",
                                    str(JOBS), "-t", str(FLOOD_SECONDS)],
                 daemons)):
            for run in range(runs):
                order = ds[run % len(ds):] + ds[:run % len(ds)]
                for d in order:
                    log(("fixed rate" if phase is fixed else "flood"),
                        f"run {run + 1}/{runs}:", d.name)
                    # Another agent (a live test elsewhere) shares the CPU
                    # and the kernel: wait for it, and redo a run it
                    # overlapped.
                    for attempt in range(3):
                        wait_for(lambda: not other_agents(), 300,
                                 "other audit agents to finish")
                        result = one_live_run(d, args, kauditd)
                        restore(before)
                        diffs = state_differences(before, rules_before)
                        if not other_agents() and not diffs:
                            break
                        problems.append(f"{d.name} run {run + 1} overlapped"
                                        f" another agent: {', '.join(diffs)}")
                    phase[d.name].append(result)
    finally:
        for d in daemons + delays:
            proc = getattr(d, "proc", None)
            if proc is not None and proc.poll() is None:
                stop(proc, signal.SIGTERM)
        restore(before)
        diffs = state_differences(before, rules_before)
        shutil.rmtree(tmp, ignore_errors=True)
    return {"fixed": fixed, "flood": flood, "before": before,
            "restored": not diffs, "diffs": diffs, "problems": problems}


# -- memory ------------------------------------------------------------------


def bench_memory():
    p = subprocess.run([TREE_MEMORY], stdout=subprocess.PIPE, text=True,
                       check=True)
    m = re.search(r"bytes per process: (\d+)", p.stdout)
    return int(m.group(1)) if m else None


# -- memory budget under a spawn flood -------------------------------------------

FLOOD_WORKERS = int(os.environ.get("BENCH_FLOOD_WORKERS", "1000"))
FLOOD_JOBS = int(os.environ.get("BENCH_FLOOD_JOBS", "2000"))
FLOOD_ARG = 100 * 1024
NO_CAP = "--auditree.max-args-bytes=1000000000"


def peak_rss_mb(cmd):
    """The peak resident set of `cmd`'s process, MB (wait4's ru_maxrss)."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({p.returncode}): {err[-500:]}")
    return usage.ru_maxrss / 1024


def bench_budget(work):
    """Peak RSS of replaying a spawn flood with 100 KB argv: the default
    caps against none, live-like (reaps) and with --keep-exited."""
    log = os.path.join(work, "argv-flood.log")
    subprocess.run([sys.executable,
                    os.path.join(ROOT, "scripts", "argv_flood_log.py"), log,
                    str(FLOOD_WORKERS), str(FLOOD_JOBS), str(FLOOD_ARG)],
                   check=True)
    base = [AUDITREE, "replay", *EXTRA_ARGS, log,
            "--auditree.output=/dev/null"]
    variants = {
        "default": base,
        "no cap": base + [NO_CAP],
        "history, max-processes=1000": base + [
            "--keep-exited", "--auditree.max-processes=1000"],
        "history, no cap": base + ["--keep-exited", NO_CAP],
    }
    peaks = {name: [] for name in variants}
    for _ in range(3):
        for name, cmd in variants.items():
            peaks[name].append(peak_rss_mb(cmd))
    return {name: median(xs) for name, xs in peaks.items()}


# -- the table ---------------------------------------------------------------


def fmt(x, digits=0):
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def main():
    rows = []

    def row(what, ours, peer_name, peer, r="auto"):
        rows.append((what, ours, peer_name, peer, r))

    global CORPUS
    work = tempfile.mkdtemp(prefix="auditree-bench-")
    atexit.register(shutil.rmtree, work, True)
    CORPUS = plain_corpus(work)
    log(f"replay: {RUNS} runs of each, alternating, on {CORPUS}")
    records, replay = bench_replay()
    peer = replay["libauparse, raw values"]
    peer_i = replay["libauparse, raw + interpreted"]
    for name in ("auditree, JSON to /dev/null", "auditree, no sink"):
        what = "replay records/s, " + name.split(", ")[1]
        row(what, fmt(replay[name]), "libauparse, every field",
            fmt(peer), ratio(replay[name], peer))
    row("replay records/s, JSON to /dev/null",
        fmt(replay["auditree, JSON to /dev/null"]),
        "libauparse, every field + interpreted", fmt(peer_i),
        ratio(replay["auditree, JSON to /dev/null"], peer_i))
    one = replay["auditree, 1 assembler(s)"]
    for n in (1, 2, 4):
        x = replay[f"auditree, {n} assembler(s)"]
        row(f"replay records/s, {n} assembler(s)", fmt(x),
            "auditree, 1 assembler", fmt(one), ratio(x, one))

    live = None
    if os.environ.get("BENCH_LIVE", "1") != "0":
        log(f"live: {LIVE_RUNS} runs each at {RATE}/s x {COUNT} "
            f"({JOBS} jobs), then {LIVE_RUNS} floods of {FLOOD_SECONDS} s")
        live = bench_live()
    if live:
        fixed, flood = live["fixed"], live["flood"]

        def per10k(runs, key="cpu"):
            return median([r[key] / r["spawned"] * 10000 for r in runs
                           if r["spawned"]])

        auditd_cpu = per10k(fixed["auditd"])
        auditd_k = per10k(fixed["auditd"], "kauditd_cpu")
        rate = median([r["rate"] for rs in fixed.values() for r in rs])
        variants = ("multicast", "unicast", "multicast, batch-delay=0s",
                    "multicast, batch-delay=2ms")
        for mode in variants:
            runs = fixed[f"auditree {mode}"]
            cpu = per10k(runs)
            row(f"live CPU s per 10k fork+exec+exit, {mode} "
                f"(at {rate:,.0f}/s)", fmt(cpu, 3), "auditd (RAW log)",
                fmt(auditd_cpu, 3), ratio(cpu, auditd_cpu))
            k = per10k(runs, "kauditd_cpu")
            row(f"  kernel kauditd CPU s per 10k, {mode}", fmt(k, 3),
                "kauditd with auditd", fmt(auditd_k, 3), ratio(k, auditd_k))
        if RULES_B:
            b = per10k(fixed["auditree multicast, rules B"])
            b_peer = per10k(fixed["auditd, rules B"])
            a = per10k(fixed["auditree multicast"])
            row(f"live CPU s per 10k, multicast, rules B "
                f"({os.path.basename(RULES_B)})", fmt(b, 3),
                "auditd, rules B", fmt(b_peer, 3), ratio(b, b_peer))
            row("  rules B against the rules, auditree multicast", fmt(b, 3),
                "auditree multicast", fmt(a, 3), ratio(b, a))
            row("  rules B against the rules, auditd", fmt(b_peer, 3),
                "auditd", fmt(auditd_cpu, 3), ratio(b_peer, auditd_cpu))
            for name in ("auditree multicast", "auditree multicast, rules B",
                         "auditd", "auditd, rules B"):
                row(f"  kernel kauditd CPU s per 10k, {name}",
                    fmt(per10k(fixed[name], "kauditd_cpu"), 3), "—", "—", "—")

        def medians(runs, key):
            """(p50, p99, max), each the median over `runs`; or None."""
            got = [r[key] for r in runs if r.get(key)]
            return tuple(median([x[i] for x in got]) for i in range(3)) \
                if got else None

        def ms(figures):
            return " / ".join(f"{x:.1f}" for x in figures) if figures else "—"

        row("stamp clock lag ms p50/p99/max (real − coarse clock)",
            ms(medians([r for rs in fixed.values() for r in rs],
                       "clock_lag")), "—", "—", "—")
        peer = medians(fixed["auditd"], "log_latency")
        if peer:
            row("latency stamp→SYSCALL in its log ms p50/p99/max, auditd "
                "(peer; polled every 1 ms)", "—", "auditd", ms(peer), "—")
        for mode in variants:
            runs = fixed[f"auditree {mode}"]
            lat = medians(runs, "latency")
            if lat:
                row(f"latency stamp→tree ms p50/p99/max, {mode}", ms(lat),
                    "goal p99", "5.0", ratio(lat[1], 5.0))
            got = medians(runs, "delivery")
            if got:
                row(f"  of which stamp→EOE read ms p50/p99/max, {mode}",
                    ms(got), "—", "—", "—")
            row(f"  at {rate:,.0f}/s: kernel lost / ENOBUFS / gaps, {mode}",
                " / ".join(fmt(median([r[k] for r in runs]), 0)
                           for k in ("lost", "enobufs", "gaps")),
                "auditd: kernel lost / log gaps",
                " / ".join(fmt(median([r[k] for r in fixed["auditd"]]), 0)
                           for k in ("lost", "gaps")), "—")
        for mode in ("multicast", "unicast"):
            runs = flood[f"auditree {mode}"]
            peer_runs = flood["auditd"]
            row(f"flood ({FLOOD_SECONDS:.0f} s, max rate) spawns/s, {mode}",
                fmt(median([r["rate"] for r in runs])), "with auditd",
                fmt(median([r["rate"] for r in peer_runs])),
                ratio(median([r["rate"] for r in runs]),
                      median([r["rate"] for r in peer_runs])))
            row(f"  flood: kernel lost / ENOBUFS / gaps, {mode}",
                " / ".join(fmt(median([r[k] for r in runs]), 0)
                           for k in ("lost", "enobufs", "gaps")),
                "auditd: kernel lost / log gaps",
                " / ".join(fmt(median([r[k] for r in peer_runs]), 0)
                           for k in ("lost", "gaps")), "—")
    mem = bench_memory()
    row("memory bytes per tracked process", fmt(mem), "goal", "1,024",
        ratio(mem, 1024))
    log(f"budget: spawn flood of {FLOOD_WORKERS} running + {FLOOD_JOBS} "
        "ended processes with 100 KB argv, 3 runs each")
    peaks = bench_budget(work)
    what = (f"peak RSS MB, replay of {FLOOD_WORKERS:,} running + "
            f"{FLOOD_JOBS:,} ended, 100 KB argv")
    row(f"{what}, max-args-bytes=4096 (default)", fmt(peaks["default"], 1),
        "no cap", fmt(peaks["no cap"], 1),
        ratio(peaks["default"], peaks["no cap"]))
    row(f"{what}, --keep-exited, max-processes=1000",
        fmt(peaks["history, max-processes=1000"], 1),
        "--keep-exited, no cap", fmt(peaks["history, no cap"], 1),
        ratio(peaks["history, max-processes=1000"],
              peaks["history, no cap"]))

    header = ("benchmark", "auditree", "peer", "peer's figure",
              "ratio")
    widths = [max(len(str(r[i])) for r in rows + [header])
              for i in range(5)]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths))
             + " |" for r in [header] + rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    uname = os.uname()
    print(f"machine: {os.cpu_count()} vCPU, kernel {uname.release}; "
          f"corpus {os.path.basename(CORPUS)} ({records:,} records); "
          f"medians of {RUNS} replay runs"
          + (f" and {LIVE_RUNS} live runs" if live else "")
          + "; ratio = auditree / peer"
          + (f"; auditree options: {' '.join(EXTRA_ARGS)}" if EXTRA_ARGS
             else ""))
    print("\n".join(lines))
    if live:
        print("kernel audit state restored: "
              + ("yes" if live["restored"] else "NO: " + "; ".join(
                  live["diffs"])))
        for p in live["problems"]:
            print("note:", p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
