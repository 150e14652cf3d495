#!/bin/bash
# corpus-run.sh NAME SCENARIO.sh [OUTDIR]
# Capture one audit corpus: multicast audit reader (capture.py) + proc connector
# ground truth (procevents.py) + kernel status sampler, with the rules
# (fork/vfork/clone/clone3/execve/execveat/exit_group, b64 and b32,
# key "feasibility") installed only while SCENARIO runs.  Writes
#   OUTDIR/NAME.log.gz             audit records, audit.log text format (EOE kept)
#   OUTDIR/NAME.truth.txt.gz       truth.py output (what really happened)
#   OUTDIR/NAME.stats.json         capture.py statistics (incl. kernel lost/backlog)
#   OUTDIR/NAME.procevents.txt.gz  raw proc-connector log the truth was built from
# all gzip -9, as the repository keeps them.  OUTDIR defaults to the
# repository's tests/data/corpus (see its README); give another folder to
# look at a new capture before replacing the repository's.  Work files,
# plain text, go to $CORPUS_WORK/NAME (default /tmp/audit-corpus-work/NAME)
# and are kept.
# SCENARIO is run as `bash SCENARIO NOTESFILE`; it appends NOTE lines.  If the
# script accepts `--prepare`, `bash SCENARIO --prepare` runs first, before the
# capture starts (compiling helpers and the like stay out of the capture).
# Needs root, auditd (auditctl), python3, gzip.  Leaves no rules behind;
# restores the kernel audit 'enabled' flag it found.  Kernel audit is global
# state: run it alone (no auditree, auditd or other capture at the same time).
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ] || [ $# -lt 2 ]; then
    sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
    [ $# -ge 2 ] || [ "${1:-}" = -h ] || [ "${1:-}" = --help ]
    exit
fi
set -uo pipefail
NAME="$1"; SCEN="$2"
for tool in auditctl python3 gzip; do
    command -v "$tool" > /dev/null \
        || { echo "corpus-run.sh: $tool is missing (auditctl: apt-get install auditd)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "corpus-run.sh: run as root" >&2; exit 1; }
HERE="$(cd "$(dirname "$0")" && pwd)"
OUTDIR="${3:-$HERE/../../tests/data/corpus}"
W="${CORPUS_WORK:-/tmp/audit-corpus-work}/$NAME"; rm -rf "$W"; mkdir -p "$W" "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"

if grep -q -- '--prepare' "$SCEN"; then
    bash "$SCEN" --prepare > "$W/prepare.out" 2>&1 || { echo "corpus-run.sh: $SCEN --prepare failed, see $W/prepare.out" >&2; exit 1; }
fi

# CAPTURE_SYSCALLS adds calls to the rules (e.g. setsid,setpgid).
CALLS="fork,vfork,clone,clone3,execve,execveat,exit_group${CAPTURE_SYSCALLS:+,$CAPTURE_SYSCALLS}"
RULES=(
  "always,exit -F arch=b64 -S $CALLS -k feasibility"
  "always,exit -F arch=b32 -S $CALLS -k feasibility"
)
rules_on()  { for r in "${RULES[@]}"; do auditctl -a $r >/dev/null; done; }
rules_off() { for r in "${RULES[@]}"; do auditctl -d $r >/dev/null 2>&1; done; }
trap 'rules_off' EXIT

WAS_ENABLED=$(auditctl -s | awk '/^enabled/{print $2}')
[ "$WAS_ENABLED" = 1 ] || auditctl -e 1 >/dev/null
auditctl -s > "$W/status.before"
dmesg > "$W/dmesg.before" 2>/dev/null || true

python3 "$HERE/capture.py" -t 900 -o "$W/$NAME.log" --stats "$W/stats.json" \
    --ready "$W/cap.ready" --stop-file "$W/stop" -q & CAP=$!
python3 "$HERE/procevents.py" --proc-info -t 900 -o "$W/procevents.log" \
    --ready "$W/pe.ready" --stop-file "$W/stop" 2> "$W/procevents.err" & PE=$!
python3 - "$HERE" "$W" <<'PY' & SAMP=$!
import sys, time, os, importlib.util
here, w = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("cap", here + "/capture.py")
cap = importlib.util.module_from_spec(spec); spec.loader.exec_module(cap)
c = cap.Control(); first = c.get_status(); maxb = 0; n = 0; rows = []
open(w + "/samp.ready", "w").write("1\n")
while not os.path.exists(w + "/stop"):
    s = c.get_status()
    if s:
        n += 1; maxb = max(maxb, s["backlog"])
        if s["backlog"]: rows.append("%.2f backlog=%d lost=%d" % (time.time(), s["backlog"], s["lost"]))
    time.sleep(0.02)
last = c.get_status()
with open(w + "/backlog.txt", "w") as f:
    f.write("samples=%d every 20ms, max_backlog=%d backlog_limit=%d lost_before=%d lost_after=%d "
            "backlog_wait_time_actual_before=%d after=%d\n" % (n, maxb, last["backlog_limit"], first["lost"],
            last["lost"], first["backlog_wait_time_actual"], last["backlog_wait_time_actual"]))
    f.write("\n".join(rows[:2000]) + ("\n" if rows else ""))
PY
for f in cap.ready pe.ready samp.ready; do
    for _ in $(seq 200); do [ -f "$W/$f" ] && break; sleep 0.05; done
done

: > "$W/notes"
T0=$(date +%s.%N)
rules_on
bash "$SCEN" "$W/notes" > "$W/scenario.out" 2>&1 & ROOT=$!
wait $ROOT; RC=$?
rules_off
T1=$(date +%s.%N)
sleep 1.5
touch "$W/stop"
wait $CAP $PE $SAMP
auditctl -s > "$W/status.after"
[ "$WAS_ENABLED" = 1 ] || auditctl -e "$WAS_ENABLED" >/dev/null
dmesg > "$W/dmesg.after" 2>/dev/null || true

{
  echo "scenario: $(basename "$SCEN") rc=$RC root_pid=$ROOT wall=$(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.2f", b-a}')s"
  echo "kernel: $(uname -r); audit status after: $(tr '\n' ' ' < "$W/status.after")"
  grep -vxFf "$W/dmesg.before" "$W/dmesg.after" > "$W/dmesg.new"
  echo "dmesg lines added during capture: $(wc -l < "$W/dmesg.new") ($(grep -c 'callbacks suppressed' "$W/dmesg.new") 'callbacks suppressed' lines, $(grep -cE 'backlog limit exceeded|audit_lost' "$W/dmesg.new") lost/backlog lines)"
  cat "$W/notes"
} > "$W/notes.full"

python3 "$HERE/truth.py" --audit "$W/$NAME.log" --procevents "$W/procevents.log" \
    --notes "$W/notes.full" --stats "$W/stats.json" --sampler "$W/backlog.txt" \
    --root "$ROOT" --title "$NAME: $(head -1 "$W/notes" 2>/dev/null)" -o "$W/truth.txt"
# -n: no name or time in the gzip header, so the same text gives the same bytes.
gzip -9 -n -c "$W/$NAME.log" > "$OUTDIR/$NAME.log.gz"
gzip -9 -n -c "$W/truth.txt" > "$OUTDIR/$NAME.truth.txt.gz"
gzip -9 -n -c "$W/procevents.log" > "$OUTDIR/$NAME.procevents.txt.gz"
cp "$W/stats.json" "$OUTDIR/$NAME.stats.json"
echo "corpus $NAME: $(wc -l < "$W/$NAME.log") records -> $OUTDIR/$NAME.log.gz ($(stat -c %s "$OUTDIR/$NAME.log.gz") bytes); work dir $W"
head -12 "$W/truth.txt"
