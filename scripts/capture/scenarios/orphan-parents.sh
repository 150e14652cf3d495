#!/bin/bash
# orphan-parents scenario (issue 14, item 5): children that die without a
# record of their own, then their pids handed out again.  $1 = notes file.
# 1. a session leader's process group killed at once (kill -9 -PGID);
# 2. a parent whose forks call exit(2) (not exit_group, like Go's short-lived
#    forks: no record), then exits normally.
# Each dead pid is then given to a new /bin/true through ns_last_pid (root).
N="$1"
note() { echo "$*" >> "$N"; }
note "children that die unrecorded (a killed process group, forks that call exit(2)), their pids reused"
note "scenario shell pid=$$"

# Makes the machine's next fork get pid $1 (other forks may race: retry);
# prints the pid the new /bin/true got, or '-'.
reuse() {
    # A zombie still holds its pid (and a dead leader's, as its pgid) until
    # pid 1 reaps it.
    for _ in $(seq 100); do [ -e "/proc/$1" ] || break; sleep 0.05; done
    for _ in $(seq 200); do
        echo $(( $1 - 1 )) > /proc/sys/kernel/ns_last_pid
        /bin/true & local p=$!; wait "$p"
        [ "$p" = "$1" ] && { echo "$p"; return 0; }
    done
    echo "-"
}

# 1. a process group killed at once
setsid bash -c 'sleep 30 & sleep 30 & sleep 30 & wait' & G=$!
sleep 0.3
KIDS=$(ps -o pid= --ppid "$G" | tr -d ' ' | tr '\n' ' ')
kill -9 -- "-$G"; wait "$G" 2>/dev/null
sleep 0.1
note "pgroup: leader pid=$G children ${KIDS}killed with kill -9 -$G"
# The leader's pid first (its end is then seen while its children still
# run in the table); it stays taken while a zombie child holds it as pgid.
for p in $KIDS; do for _ in $(seq 100); do [ -e "/proc/$p" ] || break; sleep 0.05; done; done
for p in $G $KIDS; do note "reuse: pid $p given to a new /bin/true: $(reuse "$p")"; done

# 2. forks that die unrecorded, then their parent exits normally
OUT=$(python3 - <<'PYEOF'
import ctypes, os
libc = ctypes.CDLL(None)
kids = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        libc.syscall(60, 253)   # x86_64 exit(2): only this thread, no record
    kids.append(pid)
for k in kids:
    os.waitpid(k, 0)
print(os.getpid(), " ".join(map(str, kids)))
PYEOF
)
set -- $OUT; P=$1; shift
note "unrecorded: python pid=$P forked $* which called exit(2) with 253, then exited 0"
for p in "$@"; do note "reuse: pid $p given to a new /bin/true: $(reuse "$p")"; done
note "t=$(date +%s.%N) end"
