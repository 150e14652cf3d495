# Sourced by the replay tests with their arguments (AUDITREE DATA): a work
# directory removed at exit, a failure counter, a reader of the replay
# summary, and the logs to replay: ../shared/corpus beside the repository
# when it exists (its absence fails in CI), else the excerpts in DATA.
auditree=$1
data=$2
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

summary() { # FILE KEY -> value of "KEY: value" in a replay summary
  sed -n "s/^ *$2: *//p" "$1"
}

if [ -d "$repo/../shared/corpus" ]; then
  logs=("$repo"/../shared/corpus/*.log)
else
  if [ "${CI:-}" = true ]; then
    echo "FAIL: ../shared/corpus is missing in CI"; exit 1
  fi
  echo "WARNING: ../shared/corpus not found; using the excerpts in $data"
  logs=("$data"/*.log)
fi
