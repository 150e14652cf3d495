#!/usr/bin/env bash
# `auditree replay` on every corpus log (gzip, read as it is kept) and on
# every excerpt in tests/data, as a user runs it:
# - events assembled == distinct audit(...) stamps, zero malformed, and no
#   timeouts when EOE is present (the excerpts hold whole events);
# - the corpus's gzip, its text as a plain file and its gzip on stdin give
#   the same event stream;
# - with EOE lines removed, the same events close by timeout and the JSON
#   event stream is the same set of lines.
set -euo pipefail
source "$(dirname "$0")/replay_common.sh" "$@"

excerpts=("$data"/*.log)
[ "${#excerpts[@]}" -ge 6 ] || fail "only ${#excerpts[@]} excerpts in $data"
for log in "${logs[@]}" "${excerpts[@]}"; do
  if [ "${log%.gz}" != "$log" ]; then
    name=$(log_name "$log")
    text=${plain[$name]}
  else
    name=excerpt-$(log_name "$log")
    text=$log
  fi
  stamps=$(grep -o 'msg=audit([0-9.:]*)' "$text" | sort -u | wc -l)
  has_eoe=$(grep -c '^type=EOE' "$text" || true)
  "$auditree" --auditree.output="$work/$name.json" replay "$log" \
    2> "$work/$name.summary"
  events=$(summary "$work/$name.summary" events)
  [ "$events" = "$stamps" ] || fail "$name: $events events, $stamps stamps"
  [ "$(summary "$work/$name.summary" "malformed lines")" = 0 ] \
    || fail "$name: malformed lines"
  [ "$(summary "$work/$name.summary" "malformed events")" = 0 ] \
    || fail "$name: malformed events"
  if [ "$has_eoe" -gt 0 ]; then
    [ "$(summary "$work/$name.summary" "closed by timeout")" = 0 ] \
      || fail "$name: timeouts although EOE is present"
  fi
  # One line per process event, plus container starts and stops, but no
  # fork that made a thread or that nothing placed (yet).
  lines=$(grep -vc '"action":"container-' "$work/$name.json" || true)
  unreported=$(( $(summary "$work/$name.summary" "forks dropped as threads") \
    + $(summary "$work/$name.summary" "forks unresolved") \
    + $(summary "$work/$name.summary" "forks waiting") ))
  [ "$lines" = $(( $(summary "$work/$name.summary" "process events") \
    - unreported )) ] || fail "$name: $lines process event lines"

  if [ "$text" != "$log" ]; then
    "$auditree" --auditree.output="$work/$name.plain.json" replay "$text" \
      2> /dev/null
    "$auditree" --auditree.output="$work/$name.stdin.json" replay - \
      < "$log" 2> /dev/null
    for how in plain stdin; do
      cmp -s <(sort "$work/$name.json") <(sort "$work/$name.$how.json") \
        || fail "$name: the stream of gzip and of its text ($how) differ"
    done
  fi

  grep -v '^type=EOE' "$text" \
    | "$auditree" --auditree.output="$work/$name.noeoe.json" replay - \
      2> "$work/$name.noeoe.summary"
  [ "$(summary "$work/$name.noeoe.summary" events)" = "$stamps" ] \
    || fail "$name without EOE: event count differs"
  standalone=$(summary "$work/$name.noeoe.summary" "closed standalone")
  timeouts=$(summary "$work/$name.noeoe.summary" "closed by timeout")
  [ $((standalone + timeouts)) = "$stamps" ] \
    || fail "$name without EOE: $timeouts timeouts + $standalone standalone"
  cmp -s <(sort "$work/$name.json") <(sort "$work/$name.noeoe.json") \
    || fail "$name without EOE: different event stream"
  # 1, 2 or 4 assemblers: the tree merges them back into arrival order, so
  # the final tree (with every exited process kept) and the stream are the
  # same.
  for n in 1 2 4; do
    "$auditree" --auditree.assemblers=$n --auditree.output="$work/$name.$n.json" \
      replay "$log" --keep-exited --tree-json "$work/$name.$n.tree" \
      2> /dev/null
    sort "$work/$name.$n.json" > "$work/$name.$n.sorted"
  done
  for n in 2 4; do
    cmp -s "$work/$name.1.tree" "$work/$name.$n.tree" \
      || fail "$name: the tree with $n assemblers differs from 1"
    cmp -s "$work/$name.1.sorted" "$work/$name.$n.sorted" \
      || fail "$name: the stream with $n assemblers differs from 1"
  done
  echo "ok: $name: $stamps events, $lines process events, same without EOE" \
    "and with 1, 2, 4 assemblers"
done

# Hostile input: garbage, truncated lines and a 1 MB line are counted with
# their line numbers; the good records around them still assemble.
good=$(head -n 3 "${plain[container-lifecycle]}")
{
  echo "$good" | head -n 1
  echo 'garbage that is not an audit record'
  echo 'type=SYSCALL msg=audit(1795990081.2'
  head -c 1048576 /dev/zero | tr '\0' 'x'; echo
  printf 'type=EXECVE msg=audit(17x.1:2): argc=1\n'
  echo "$good" | tail -n +2
} > "$work/hostile.log"
"$auditree" --auditree.output="$work/hostile.json" replay "$work/hostile.log" \
  2> "$work/hostile.summary"
[ "$(summary "$work/hostile.summary" "malformed lines")" = 4 ] \
  || fail "hostile: expected 4 malformed lines"
[ "$(summary "$work/hostile.summary" records)" = 3 ] \
  || fail "hostile: expected the 3 good records"
grep -q 'hostile.log:2: malformed line' "$work/hostile.summary" \
  || fail "hostile: line number not reported"
grep -q 'hostile.log:4: malformed line (line too long)' "$work/hostile.summary" \
  || fail "hostile: long line not reported"
: > "$work/empty.log"
"$auditree" --auditree.output="$work/empty.json" replay "$work/empty.log" \
  2> "$work/empty.summary"
[ "$(summary "$work/empty.summary" events)" = 0 ] || fail "empty file"
echo "ok: hostile input and an empty file"

if [ "$failures" -gt 0 ]; then
  cat "$work"/hostile.summary
  exit 1
fi
