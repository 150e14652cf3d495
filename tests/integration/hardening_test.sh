#!/bin/bash
# The built binary carries Debian's hardening (CMakeLists.txt, hardening):
# a PIE, full RELRO (GNU_RELRO and BIND_NOW), the strong stack protector and
# FORTIFY_SOURCE (their checked libc calls). Read with readelf, as
# hardening-check does.
set -u
binary="$1"
command -v readelf >/dev/null || { echo "readelf missing (binutils)"; exit 1; }
[ -x "$binary" ] || { echo "no binary $binary"; exit 1; }
failures=0
check() {
  if [ "$2" -eq 0 ]; then
    echo "ok: $1"
  else
    echo "FAIL: $1"
    failures=$((failures + 1))
  fi
}
header="$(readelf -h "$binary")"
dynamic="$(readelf -d "$binary")"
segments="$(readelf -lW "$binary")"
symbols="$(readelf --dyn-syms -W "$binary")"
grep -Eq 'Type:[[:space:]]+DYN' <<<"$header"; check "ELF type DYN (position-independent)" $?
grep -Eq 'FLAGS_1.*PIE' <<<"$dynamic"; check "FLAGS_1 has PIE" $?
grep -Eq 'BIND_NOW|FLAGS.*[[:space:]]NOW' <<<"$dynamic"; check "BIND_NOW (-z now)" $?
grep -q 'GNU_RELRO' <<<"$segments"; check "GNU_RELRO segment (-z relro)" $?
grep -q '__stack_chk_fail' <<<"$symbols"; check "__stack_chk_fail (stack protector)" $?
fortified="$(grep -Eo '__[a-z_]+_chk@' <<<"$symbols" | grep -v __stack_chk | sort -u)"
[ -n "$fortified" ]; check "FORTIFY_SOURCE: checked libc calls ($(echo $fortified | tr -d @))" $?
# An executable stack would undo the rest.
grep -Eq 'GNU_STACK.* RW ' <<<"$segments"; check "non-executable stack" $?
exit $((failures > 0))
