#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan) and runs
# each for a bounded time over its checked-in seed corpus.
#
#   scripts/fuzz.sh [BUILD_DIR]      default BUILD_DIR: ./build-fuzz
#
#   FUZZ_SECONDS   seconds per target (default 15)
#   FUZZ_TARGETS   targets to run, space-separated (default: all six)
#
# New inputs the fuzzer finds go to a temporary directory, never into
# fuzz/corpus. A crash leaves its input in BUILD_DIR/artifacts/; replay it
# with `BUILD_DIR/TARGET FILE`. Each target's full log is in BUILD_DIR/logs/.
# Exit status: 0 if every target ran clean, 1 if any crashed, 77 (skipped)
# if clang's fuzzer runtime is missing.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(realpath -m "${1:-$root/build-fuzz}")"
seconds="${FUZZ_SECONDS:-15}"
targets=(${FUZZ_TARGETS:-audit_line_fuzzer execve_fuzzer assembler_fuzzer
  proc_connector_fuzzer gzip_stream_fuzzer container_ref_fuzzer})
cxx="${FUZZ_CXX:-clang++}"

if ! command -v "$cxx" > /dev/null \
  || ! "$cxx" -print-file-name=libclang_rt.fuzzer-x86_64.a | grep -q /; then
  echo "fuzz: skipped: $cxx or its fuzzer runtime (libclang-rt-14-dev) missing"
  exit 77
fi

# The pure core the targets call; none of it needs CAF or libaudit (zlib
# for gzip_stream).
sources=(arch_table audit_parser cgroup_container container_evidence
  container_labels container_lineage container_ref docker_names ecs_json
  event_assembler event_interpreter pid_views
  gzip_stream proc_connector proc_scan record_types serial_ledger
  terminal_text)
flags=(-std=c++17 -O1 -g -Wall -Wextra -I"$root"
  -fno-sanitize-recover=all -fno-omit-frame-pointer)
# Coverage for the core; the fuzzer's main only in the targets.
core_sanitize=-fsanitize=fuzzer-no-link,address,undefined
target_sanitize=-fsanitize=fuzzer,address,undefined

mkdir -p "$build/obj" "$build/logs" "$build/artifacts"
echo "fuzz: building into $build"
# The arch table comes from libaudit's tables, as in the CMake build.
"${CC:-cc}" "$root/codegen/arch_table_gen.c" -laudit -o "$build/arch_table_gen"
"$build/arch_table_gen" "$build/obj/arch_table_data.cpp"
"$cxx" "${flags[@]}" "$core_sanitize" -c "$build/obj/arch_table_data.cpp" \
  -o "$build/obj/arch_table_data.o" &
for s in "${sources[@]}"; do
  "$cxx" "${flags[@]}" "$core_sanitize" -c "$root/runtime/$s.cpp" \
    -o "$build/obj/$s.o" &
done
wait
objects=("${sources[@]/#/$build/obj/}")
objects=("${objects[@]/%/.o}" "$build/obj/arch_table_data.o")
for t in "${targets[@]}"; do
  "$cxx" "${flags[@]}" "$target_sanitize" "$root/fuzz/$t.cpp" \
    "${objects[@]}" -lz -o "$build/$t"
done

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
passed=0
failed=0
for t in "${targets[@]}"; do
  corpus="$root/fuzz/corpus/$t"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-")
  # Record text has a vocabulary worth giving; datagrams and gzip are
  # binary.
  if [ "$t" != proc_connector_fuzzer ] && [ "$t" != gzip_stream_fuzzer ] \
    && [ "$t" != container_ref_fuzzer ]; then
    args+=(-dict="$root/fuzz/audit.dict")
  fi
  mkdir "$scratch/$t"
  log="$build/logs/$t.log"
  # The first directory receives new inputs; the seeds are only read.
  if "$build/$t" "${args[@]}" "$scratch/$t" "$corpus" > "$log" 2>&1; then
    passed=$((passed + 1))
    # The last status line: executions, coverage, corpus size, exec/s.
    summary="$(grep -E '^#[0-9]+' "$log" | tail -n 1 | tr -s ' ')"
    echo "fuzz: $t ok: ${summary:-no status line}"
  else
    failed=$((failed + 1))
    echo "fuzz: $t FAILED; from its log ($log):"
    # The sanitizer's or the invariant's report, then where the input went.
    sed -n '/ERROR\|invariant broken\|runtime error/,$p' "$log" | head -n 60
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
