#!/usr/bin/env bash
# Equivalence under faults: every corpus log replayed with faults injected
# (assemblers killed or throwing every ~N records, the tree crashed twice,
# the sink once) against a fault-free replay: the same final tree and the
# same set of lines in the event stream. Prints the injected and restart
# counts per log; any difference fails. The summary's counters hold every
# replaced actor's work: lines written over all sinks equal the stream's
# lines, and the events counted are at least the fault-free run's.
set -euo pipefail
source "$(dirname "$0")/replay_common.sh" "$@"

common=(--auditree.assemblers=2 --keep-exited
        --auditree.checkpoint-interval=200
        --auditree.restart-max=100 --auditree.restart-backoff=1ms
        --auditree.restart-backoff-max=20ms)

for log in "${logs[@]}"; do
  name=$(log_name "$log")
  records=$(grep -c 'msg=audit(' "${plain[$name]}" || true)
  "$auditree" replay "$log" "${common[@]}" \
    --auditree.output="$work/$name.clean.json" \
    --tree-json="$work/$name.clean.tree" 2> "$work/$name.clean.err" \
    || fail "$name: the fault-free replay failed"
  # Spread the faults over the log: each assembler every third of it, the
  # tree at a third and at two thirds (records), the sink at a third of
  # the stream (it counts the events it writes, not records).
  every=$((records / 3 + 1))
  lines=$(wc -l < "$work/$name.clean.json")
  faults="[\"assembler-0:kill:every=$every\""
  faults+=",\"assembler-1:throw:every=$((every + 7))\""
  faults+=",\"tree:throw:at=$((records / 3 + 1))\""
  faults+=",\"tree:kill:at=$((2 * records / 3 + 1))\""
  faults+=",\"sink:throw:at=$((lines / 3 + 1))\"]"
  "$auditree" replay "$log" "${common[@]}" --auditree.faults="$faults" \
    --auditree.output="$work/$name.faulty.json" \
    --tree-json="$work/$name.faulty.tree" 2> "$work/$name.faulty.err" \
    || { fail "$name: the replay with faults failed";
         tail -20 "$work/$name.faulty.err"; }
  injected=$(grep -c 'fault injection' "$work/$name.faulty.err" || true)
  restarts=$(sed -n 's/^ *restarts of \(.*\): \(.*\)/\1=\2/p' \
               "$work/$name.faulty.err" | tr '\n' ' ')
  duplicates=$(summary "$work/$name.faulty.err" "duplicates dropped")
  written=$(summary "$work/$name.faulty.err" "lines written")
  events=$(summary "$work/$name.faulty.err" "events")
  clean_events=$(summary "$work/$name.clean.err" "events")
  sort "$work/$name.clean.json" > "$work/a"
  sort "$work/$name.faulty.json" > "$work/b"
  stream_diff=$(diff "$work/a" "$work/b" | grep -c '^[<>]' || true)
  tree_diff=$(diff "$work/$name.clean.tree" "$work/$name.faulty.tree" \
                | grep -c '^[<>]' || true)
  echo "$name: $records records, $(wc -l < "$work/a") stream lines;" \
       "faults injected $injected; restarts: $restarts;" \
       "duplicates dropped $duplicates;" \
       "diff: stream $stream_diff lines, tree $tree_diff lines;" \
       "lines written $written; events $events (fault-free $clean_events)"
  [ "$injected" -ge 4 ] || fail "$name: only $injected faults fired"
  [ "$stream_diff" = 0 ] || fail "$name: the event streams differ"
  [ "$tree_diff" = 0 ] || fail "$name: the final trees differ"
  [ "$written" = "$(wc -l < "$work/b")" ] \
    || fail "$name: lines written ($written) is not the stream's lines"
  [ "$events" -ge "$clean_events" ] \
    || fail "$name: $events events counted, fewer than without faults"
done

[ "$failures" = 0 ] || exit 1
echo "PASS: ${#logs[@]} logs, the same tree and stream under faults"
