# containers-podman.sh — podman for containers.sh, which sources it (not
# run on its own). Podman has no daemon: `up` writes its private config and
# imports the image, conmons watch the containers, `down` removes them.
# Everything lives under $PODMAN_DIR (containers.sh's state dir); runc's
# state root is the only shared place, and only our ids are deleted there.
# shellcheck shell=bash

PODMAN_DIR=$STATE/podman             # podman's storage, run root and config
PODMAN_IMAGE=localhost/$IMAGE        # podman names local images localhost/
PODMAN_RUNC_ROOT=/run/runc           # podman runs runc with its default --root

# Our own containers.conf and storage.conf replace the system's (see
# write_podman_conf); --root/--runroot say it again for the conmons' exit
# command, which podman passes them.
podman_() {
  CONTAINERS_CONF=$PODMAN_DIR/containers.conf \
    CONTAINERS_STORAGE_CONF=$PODMAN_DIR/storage.conf \
    podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/run" "$@"
}

# Podman reads its settings from these two files only (CONTAINERS_CONF and
# CONTAINERS_STORAGE_CONF replace /etc/containers' files).
write_podman_conf() {
  mkdir -p "$PODMAN_DIR"/{tmp,net}
  # Podman raises root containers' nofile and nproc to 1048576 and 4194304;
  # without CAP_SYS_RESOURCE (some sandboxes) runc then fails. Podman lowers
  # its own nproc to 32768 when it cannot raise it.
  local nproc; nproc=$(ulimit -Hu)
  [[ $nproc =~ ^[0-9]+$ ]] && [ "$nproc" -le 32768 ] || nproc=32768
  cat >"$PODMAN_DIR/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=$nproc:$nproc"]
netns = "none"
[engine]
# pid 1 is not systemd here: plain cgroupfs, events to a file, no journald.
cgroup_manager = "cgroupfs"
events_logger = "file"
# crun refuses hosts with cgroup v1 and v2 both mounted; runc does not.
runtime = "runc"
tmp_dir = "$PODMAN_DIR/tmp"
[network]
network_config_dir = "$PODMAN_DIR/net"
EOF
  # vfs: plain copies, no overlay mounts that a crash could leave behind.
  cat >"$PODMAN_DIR/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$PODMAN_DIR/root"
runroot = "$PODMAN_DIR/run"
EOF
}

podman_up() {
  write_podman_conf
  if ! podman_ image exists "$PODMAN_IMAGE"; then
    podman_ import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' \
      "$ROOTFS_TAR" "$PODMAN_IMAGE" >/dev/null 2>&1 || die "podman import failed"
    log "podman imported $PODMAN_IMAGE ($(elapsed))"
  fi
}

# Our conmons (and the `podman container cleanup` they run at exit) name our
# podman directories in their argv.
our_podman() { pgrep -f -- "$PODMAN_DIR/" || true; }

teardown_podman() {
  [ -d "$PODMAN_DIR" ] || return 0
  # Our ids are the directories of our storage (read before `rm` drops
  # them); runc's root is shared, so only those are deleted there.
  local ids=() p id pid
  [ -d "$PODMAN_DIR/root/vfs-containers" ] &&
    mapfile -t ids < <(ls "$PODMAN_DIR/root/vfs-containers")
  if [ -f "$PODMAN_DIR/containers.conf" ]; then
    podman_ rm -a -f -t 0 >/dev/null 2>&1 || true
  fi
  # After a crash: conmons still watching, or containers whose conmon died
  # (podman rm then leaves runc's state behind).
  for p in $(our_podman); do
    STOPPED_PIDS+=("$p")
    kill -KILL "$p" 2>/dev/null || true
  done
  for id in "${ids[@]}"; do
    [[ $id =~ ^[0-9a-f]{64}$ ]] || continue
    pid=$(runc --root "$PODMAN_RUNC_ROOT" state "$id" 2>/dev/null | jq -r .pid) || true
    [[ $pid =~ ^[1-9][0-9]*$ ]] && STOPPED_PIDS+=("$pid")
    runc --root "$PODMAN_RUNC_ROOT" delete -f "$id" >/dev/null 2>&1 || true
  done
  rmdir "$PODMAN_RUNC_ROOT" 2>/dev/null || true
}

need_podman() {
  [ -f "$PODMAN_DIR/containers.conf" ] && podman_ image exists "$PODMAN_IMAGE" \
    || die "podman's image is not imported (run: ${0##*/} up)"
}

cmd_run_podman() {
  local detach=0
  [ "${1:-}" = -d ] && { detach=1; shift; }
  [ $# -ge 2 ] || { usage >&2; exit 2; }
  need_podman
  local name=$1; shift
  if [ "$detach" = 1 ]; then
    local id
    id=$(podman_ run -d --network none --name "$name" "$PODMAN_IMAGE" "$@" </dev/null)
    echo "$id $(pid_podman "$name")"
  else
    podman_ run --rm --network none --name "$name" "$PODMAN_IMAGE" "$@" </dev/null
  fi
}

pid_podman() { podman_ inspect -f '{{.State.Pid}}' "$1"; }
running_podman() { [ "$(podman_ inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
signal_podman() { podman_ kill -s "$2" "$1" >/dev/null 2>&1 || true; }
remove_podman() { podman_ rm -f -t 0 "$1" >/dev/null 2>&1 || true; }

status_podman() {
  [ -f "$PODMAN_DIR/containers.conf" ] || return 0
  echo "--- podman containers"; podman_ ps -a
}

env_podman() {
  echo "export CONTAINERS_CONF=$PODMAN_DIR/containers.conf"
  echo "export CONTAINERS_STORAGE_CONF=$PODMAN_DIR/storage.conf"
}
