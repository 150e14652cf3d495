#!/usr/bin/env bash
# The benchmark suite: builds auditree and the bench programs into
# build-bench/ (Release flags as shipped: RelWithDebInfo), installs the
# peers if missing (libauparse-dev, auditd), and prints one table of every
# figure next to its peer's and the ratio. The live part needs root and
# kernel audit; it is skipped otherwise (BENCH_LIVE=0 skips it too).
#
#   bench/run.sh
#
# Knobs (environment): BENCH_RUNS (replay runs, 11), BENCH_LIVE_RUNS (5),
# BENCH_RATE (fork+exec+exit per second, 500: about half of what this
# 2-core machine reaches with audit on), BENCH_COUNT (5000),
# BENCH_JOBS (load generator processes, 4), BENCH_FLOOD_SECONDS (5),
# BENCH_CORPUS (tests/data/corpus/fork-storm.log.gz, replayed as plain
# text by both), BENCH_KEY (the key on every rule the live part adds,
# auditree-bench), BENCH_AUDITREE_ARGS (extra options for every auditree
# run, for A/B trials), BENCH_RULES (a rules file for both live agents
# instead of config/audit.rules), BENCH_RULES_B (a second rules file both
# live agents also run with at the fixed rate, in the same run: A/B of rules).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for p in libauparse-dev auditd; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# Installing auditd starts its service where there is an init system: the
# live runs need the kernel to themselves.
if pgrep -x auditd > /dev/null; then
  echo "bench: auditd is running; the live part will be skipped" >&2
fi

build="${BENCH_BUILD:-build-bench}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build" -j 2 --target auditree bench_tree_memory \
  bench_loadgen bench_auparse_peer > /dev/null
BENCH_BUILD="$PWD/$build" exec python3 bench/bench.py
