# Sourced by the replay tests with their arguments (AUDITREE DATA): a work
# directory removed at exit, a failure counter, a reader of the replay
# summary, and the corpus to replay: the four captures in DATA/corpus
# (gzip, as the repository keeps them; see its README). A missing capture
# fails the test.
auditree=$1
data=$2
corpus=$data/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

summary() { # FILE KEY -> value of "KEY: value" in a replay summary
  sed -n "s/^ *$2: *//p" "$1"
}

# logs: the captures as kept (.log.gz); plain[NAME]: the same text
# inflated by gzip(1), for the checks that read it.
logs=()
declare -A plain
for name in container-lifecycle fork-storm kill-and-reuse \
            long-argv-and-threads; do
  log=$corpus/$name.log.gz
  if [ ! -f "$log" ]; then
    echo "FAIL: $log is missing"
    exit 1
  fi
  logs+=("$log")
  plain[$name]=$work/$name.log
  gzip -dc "$log" > "${plain[$name]}"
done

log_name() { # PATH -> NAME of NAME.log or NAME.log.gz
  local name
  name=$(basename "$1" .gz)
  echo "${name%.log}"
}
