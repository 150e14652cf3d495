#!/bin/bash
# session-leaders scenario (issue 14, item 2): an ssh-like session. A
# setsid'd bash with job control (set -m: every job gets its own process
# group through setpgid) runs a pipeline, a background job and a runc
# container (scripts/containers.sh run-runc, the locally built busybox
# image; no network, no daemon) that runs a pipeline of its own.  $1 = notes
# file.  Capture with CAPTURE_SYSCALLS=setsid,setpgid.
N="$1"
note() { echo "$*" >> "$N"; }
SCRIPTS="$(cd "$(dirname "$0")/../.." && pwd)"
note "an ssh-like session: a setsid'd bash with job control runs a pipeline, a background job and a runc container"
note "scenario shell pid=$$"
setsid bash -c '
set -m
ls / | grep x | wc -l
sleep 0.2 | cat &
wait
"$0" run-runc "leaders-$$" sh -c "ls / | grep x | wc -l; sleep 0.1"
' "$SCRIPTS/containers.sh" > /dev/null 2>&1 & S=$!
wait "$S"
note "session: setsid bash pid=$S rc=$?"
note "t=$(date +%s.%N) end"
