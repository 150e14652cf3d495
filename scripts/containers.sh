#!/usr/bin/env bash
# containers.sh — auditree's container test environment.
#
# Gives the integration tests real containers to watch: runc, containerd,
# docker and podman from Debian 12 packages, and a tiny local image built
# from busybox-static. Nothing is pulled from a registry and the containers
# get no network (runc/ctr: a private network namespace with loopback only;
# docker and podman: --network none, dockerd without bridge or iptables).
#
# The daemons started here are private to this script: their own sockets,
# data and state under $AUDITREE_CONTAINERS_STATE (default
# /var/lib/auditree-test), so `down` stops exactly what `up` started and never
# touches a containerd, dockerd or podman of someone else's.
#
# Audit: this script never touches kernel audit. A process forked before audit
# was enabled carries no audit context, so neither do its descendants: callers
# must start the auditree agent (which enables audit) BEFORE `up`, or the
# daemons' forks — shims, runc init and the containers themselves — are not
# audited.
#
# Run as root. Usage: containers.sh COMMAND [ARGS]   (see usage() below)
set -euo pipefail

STATE=${AUDITREE_CONTAINERS_STATE:-/var/lib/auditree-test}
IMAGE_DIR=$STATE/image               # built by `prepare`, kept by `down`
ROOTFS=$IMAGE_DIR/rootfs
ROOTFS_TAR=$IMAGE_DIR/rootfs.tar     # docker import input, and the OCI layer
OCI_TAR=$IMAGE_DIR/oci-image.tar     # ctr images import input
IMAGE_STAMP=$IMAGE_DIR/stamp
IMAGE=auditree-busybox:latest                 # docker's short name
CTR_IMAGE=docker.io/library/auditree-busybox:latest   # same name, normalised
CTR_NS=${AUDITREE_CTR_NAMESPACE:-auditree}    # ctr cgroups: /<ns>/<id>
RUNC_CGROUP_PARENT=/auditree-runc             # runc cgroups: /auditree-runc/<id>

CTRD_DIR=$STATE/containerd
CTRD_SOCK=$CTRD_DIR/containerd.sock
CTRD_PIDFILE=$CTRD_DIR/containerd.pid
DOCKER_DIR=$STATE/docker
DOCKER_SOCK=$DOCKER_DIR/docker.sock
DOCKER_PIDFILE=$DOCKER_DIR/dockerd.pid
RUNC_ROOT=$STATE/runc                # runc --root: lists only our containers
BUNDLES=$STATE/bundles
LOGS=$STATE/logs

PACKAGES=(runc containerd docker.io podman conmon busybox-static jq)

# Debian's client matches Debian's dockerd (20.10); a newer client may sit
# earlier in PATH (/usr/local/bin/docker on some images).
docker_() { /usr/bin/docker -H "unix://$DOCKER_SOCK" "$@"; }
ctr_() { ctr --address "$CTRD_SOCK" --namespace "$CTR_NS" "$@"; }
runc_() { runc --root "$RUNC_ROOT" "$@"; }
. "$(dirname "${BASH_SOURCE[0]}")/containers-podman.sh"  # podman_, podman_up, ...

usage() {
  cat <<EOF
usage: ${0##*/} COMMAND [ARGS]

  prepare                      install missing packages, build the image (quick when done)
  up                           prepare, start containerd and dockerd, import the image
  down                         remove all containers, stop the daemons, unmount and
                               delete runtime state (the built image is kept); idempotent
  status                       daemons, containers, mounts under the state dir
  env                          shell exports to drive ctr/docker directly (eval "\$(...)")

  run-runc [-d] [--cgroup PATH] ID CMD...   runc run of an OCI bundle (default cgroup
                                            $RUNC_CGROUP_PARENT/ID)
  run-ctr  [-d] ID CMD...                   ctr run in namespace $CTR_NS
  run-docker [-d] NAME CMD...               docker run --network none
  run-podman [-d] NAME CMD...               podman run --network none (cgroupfs, runc)
      Foreground by default: prints the command's output, exits with its status,
      removes the container. -d: prints "CONTAINER-ID INIT-PID" and returns
      (INIT-PID is 0 if the container already exited).

  pid  RUNTIME ID              host pid of the container's init
  stop RUNTIME ID [SECONDS]    SIGTERM, SIGKILL after SECONDS (default 5), then remove
  kill RUNTIME ID [SIGNAL]     send SIGNAL (default KILL), wait for exit, then remove
  rm   RUNTIME ID              remove a container, killing it if still running
      RUNTIME is runc, ctr, docker or podman.

Start the auditree agent before 'up': the daemons' forks are audited only if
audit was enabled before they started. State: $STATE
(AUDITREE_CONTAINERS_STATE); ctr namespace: $CTR_NS (AUDITREE_CTR_NAMESPACE).
EOF
}

log() { printf '[containers %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
now_ms() { date +%s%3N; }
# Time since T0, which each top-level command sets when it starts.
elapsed() { local ms=$(($(now_ms) - T0)); printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)); }

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
  local deadline=$(($(now_ms) + $1 * 1000)); shift
  until "$@"; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# A zombie counts as gone: pid 1 may reap a dead daemon only much later
# (on this VM it is not a real init), and kill -0 succeeds on zombies.
running() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]; }
pid_alive() { [ -s "$1" ] && running "$(cat "$1")"; }
# ctr blocks ~10 s dialing a missing socket: check the socket first.
ctrd_answers() {
  [ -S "$CTRD_SOCK" ] && timeout 5 ctr --address "$CTRD_SOCK" version >/dev/null 2>&1
}
docker_answers() {
  [ -S "$DOCKER_SOCK" ] && timeout 5 /usr/bin/docker -H "unix://$DOCKER_SOCK" version >/dev/null 2>&1
}
ctrd_up() { pid_alive "$CTRD_PIDFILE" && ctrd_answers; }
dockerd_up() { pid_alive "$DOCKER_PIDFILE" && docker_answers; }

# Serialise prepare/up/down between concurrent callers; run-* need no lock.
# The daemons must not inherit fd 9 (see `9>&-` below): a daemon holding
# the lock would block every later `down`.
lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 300 9 || die "another ${0##*/} holds $STATE/.lock"
}

# ---------------------------------------------------------------- prepare ---

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Update the lists only when apt does not know a package yet: it is slow.
  for p in "${missing[@]}"; do
    apt-cache show --no-all-versions "$p" >/dev/null 2>&1 || { apt-get update -qq; break; }
  done
  # The packages' maintainer scripts would start containerd and dockerd with
  # their default sockets; policy-rc.d exit 101 forbids that.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  local rc=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  [ "$made_policy" = 1 ] && rm -f "$policy"
  [ "$rc" = 0 ] || die "apt-get install failed ($rc)"
}

# sha256_blob FILE DIR: move FILE into the OCI blob dir, print "DIGEST SIZE".
sha256_blob() {
  local digest size
  digest=$(sha256sum "$1" | cut -c1-64)
  size=$(stat -c %s "$1")
  mv "$1" "$2/$digest"
  echo "$digest $size"
}

build_image() {
  local stamp
  stamp="v1 busybox-static $(dpkg-query -W -f='${Version}' busybox-static)"
  if [ -f "$OCI_TAR" ] && [ -f "$ROOTFS_TAR" ] && [ "$(cat "$IMAGE_STAMP" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  log "building $IMAGE from busybox-static"
  rm -rf "$IMAGE_DIR"
  mkdir -p "$ROOTFS"/{bin,dev,etc,proc,root,sys,tmp}
  chmod 1777 "$ROOTFS/tmp"
  cp /bin/busybox "$ROOTFS/bin/busybox"
  local applet
  for applet in $("$ROOTFS/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$ROOTFS/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOTFS/etc/passwd"
  echo 'root:x:0:' >"$ROOTFS/etc/group"
  # Reproducible layer: fixed order, owner and mtime.
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -C "$ROOTFS" -cf "$ROOTFS_TAR" .

  # A one-layer OCI image layout, for `ctr images import`.
  local oci=$IMAGE_DIR/oci blobs arch diff_id layer config manifest
  blobs=$oci/blobs/sha256
  mkdir -p "$blobs"
  arch=$(dpkg --print-architecture)
  diff_id=$(sha256sum "$ROOTFS_TAR" | cut -c1-64)
  gzip -n -c "$ROOTFS_TAR" >"$oci/layer"
  read -r -a layer < <(sha256_blob "$oci/layer" "$blobs")
  printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$arch" "$diff_id" >"$oci/config"
  read -r -a config < <(sha256_blob "$oci/config" "$blobs")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "${config[0]}" "${config[1]}" "${layer[0]}" "${layer[1]}" >"$oci/manifest"
  read -r -a manifest < <(sha256_blob "$oci/manifest" "$blobs")
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"latest"}}]}' \
    "${manifest[0]}" "${manifest[1]}" "$arch" "$CTR_IMAGE" >"$oci/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
  tar -C "$oci" -cf "$OCI_TAR" oci-layout index.json blobs
  rm -rf "$oci"
  echo "$stamp" >"$IMAGE_STAMP"
}

cmd_prepare() {
  T0=$(now_ms)
  install_packages
  build_image
  log "prepare done in $(elapsed)"
}

# --------------------------------------------------------------------- up ---

start_containerd() {
  ctrd_up && return 0
  mkdir -p "$CTRD_DIR" "$LOGS"
  # Own root/state/socket so nothing collides with a system containerd; CRI
  # (kubelet API, CNI networking) is not needed by ctr or dockerd.
  cat >"$CTRD_DIR/config.toml" <<EOF
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD_DIR/opt"
EOF
  # setsid: the daemon must not die with the caller's process group. (It
  # does not fork here: without job control a background job leads no
  # process group, so $! is containerd itself.)
  setsid containerd --config "$CTRD_DIR/config.toml" \
    </dev/null >>"$LOGS/containerd.log" 2>&1 9>&- &
  echo $! >"$CTRD_PIDFILE"
  wait_for 20 ctrd_answers || die "containerd did not answer; see $LOGS/containerd.log"
  log "containerd pid $(cat "$CTRD_PIDFILE") answers ($(elapsed))"
}

start_dockerd() {
  dockerd_up && return 0
  mkdir -p "$DOCKER_DIR" "$LOGS"
  rm -f "$DOCKER_PIDFILE"   # dockerd refuses to start over a stale pidfile
  # No network: no docker0 bridge, no iptables/NAT rules, no sysctl changes.
  setsid dockerd \
    --host "unix://$DOCKER_SOCK" --pidfile "$DOCKER_PIDFILE" \
    --data-root "$DOCKER_DIR/data" --exec-root "$DOCKER_DIR/exec" \
    --containerd "$CTRD_SOCK" \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false \
    --ip-masq=false --userland-proxy=false \
    </dev/null >>"$LOGS/dockerd.log" 2>&1 9>&- &
  wait_for 30 docker_answers || die "dockerd did not answer; see $LOGS/dockerd.log"
  log "dockerd pid $(cat "$DOCKER_PIDFILE") answers ($(elapsed))"
}

import_images() {
  if ! ctr_ images ls -q | grep -qxF "$CTR_IMAGE"; then
    ctr_ images import "$OCI_TAR" >/dev/null
    log "ctr imported $CTR_IMAGE ($(elapsed))"
  fi
  if ! docker_ image inspect "$IMAGE" >/dev/null 2>&1; then
    docker_ import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' \
      "$ROOTFS_TAR" "$IMAGE" >/dev/null
    log "docker imported $IMAGE ($(elapsed))"
  fi
}

cmd_up() {
  [ "$(id -u)" = 0 ] || die "run as root"
  lock
  cmd_prepare
  T0=$(now_ms)
  # Leftovers of a run that never reached `down` (crash, reboot) would make
  # the daemons trip over stale sockets, tasks and mounts.
  if ! ctrd_up; then
    if [ -d "$CTRD_DIR" ] || [ -d "$PODMAN_DIR/root" ]; then
      log "cleaning up a previous session that never reached 'down'"
      teardown
    fi
    rm -rf "$LOGS"   # the previous session's logs stay readable until now
  fi
  mkdir -p "$RUNC_ROOT" "$BUNDLES" "$LOGS"
  start_containerd
  start_dockerd
  import_images
  podman_up
  log "up in $(elapsed)"
}

# ------------------------------------------------------------------- down ---

STOPPED_PIDS=()   # daemons and shims stopped by teardown

# stop_daemon PIDFILE NAME: SIGTERM, SIGKILL after 20 s.
stop_daemon() {
  pid_alive "$1" || { rm -f "$1"; return 0; }
  local pid; pid=$(cat "$1")
  STOPPED_PIDS+=("$pid")
  kill -TERM "$pid"
  if ! wait_for 20 eval "! running $pid"; then
    log "$2 ignored SIGTERM; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_for 5 eval "! running $pid" || true
  fi
  rm -f "$1"
  log "stopped $2 (pid $pid)"
}

# Mount points under the state dir, deepest first (mountinfo field 5).
state_mounts() {
  awk -v pre="$STATE/" 'index($5, pre) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# Shims serving our containerd: identified by our socket in their argv.
our_shims() { pgrep -f -- "-address $CTRD_SOCK" || true; }

teardown() {
  teardown_podman
  local shim
  for shim in $(our_shims); do STOPPED_PIDS+=("$shim"); done
  if docker_answers; then
    local c
    for c in $(docker_ ps -aq); do docker_ rm -f "$c" >/dev/null 2>&1 || true; done
  fi
  stop_daemon "$DOCKER_PIDFILE" dockerd

  if ctrd_answers; then
    local ns t c
    for ns in $(ctr --address "$CTRD_SOCK" namespaces ls -q); do
      for t in $(ctr --address "$CTRD_SOCK" -n "$ns" tasks ls -q); do
        ctr --address "$CTRD_SOCK" -n "$ns" tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true
        ctr --address "$CTRD_SOCK" -n "$ns" tasks rm -f "$t" >/dev/null 2>&1 || true
      done
      for c in $(ctr --address "$CTRD_SOCK" -n "$ns" containers ls -q); do
        ctr --address "$CTRD_SOCK" -n "$ns" containers rm "$c" >/dev/null 2>&1 || true
      done
    done
  fi
  stop_daemon "$CTRD_PIDFILE" containerd
  local p
  for p in $(our_shims); do kill -KILL "$p" 2>/dev/null || true; done

  # Every container is a runc container in one of three runc roots: ours,
  # docker's and the containerd shim's for our namespace. After a crash the
  # daemons and shims are gone but the containers are not; `runc delete -f`
  # kills them and removes their cgroups.
  local root id pid ns
  for root in "$RUNC_ROOT" "$DOCKER_DIR/exec/runtime-runc/moby" "/run/containerd/runc/$CTR_NS"; do
    [ -d "$root" ] || continue
    for id in $(runc --root "$root" list -q 2>/dev/null); do
      pid=$(runc --root "$root" state "$id" 2>/dev/null | jq -r .pid) || true
      [[ $pid =~ ^[1-9][0-9]*$ ]] && STOPPED_PIDS+=("$pid")
      runc --root "$root" delete -f "$id" >/dev/null 2>&1 || true
    done
  done

  local m
  for m in $(state_mounts); do umount "$m" 2>/dev/null || umount -l "$m" || true; done

  # Empty cgroups our containers left, in every hierarchy (v1 and unified).
  # rmdir only succeeds on unpopulated cgroups, so others' are safe.
  local tops=("${RUNC_CGROUP_PARENT#/}" "$CTR_NS" docker libpod_parent) top d
  [ -f "$STATE/runc-cgroups" ] && mapfile -t -O 4 tops <"$STATE/runc-cgroups"
  for top in "${tops[@]}"; do
    for d in /sys/fs/cgroup/*/"$top" /sys/fs/cgroup/"$top"; do
      if [ -d "$d" ]; then find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
    done
  done
  rm -f "$STATE/runc-cgroups"
  # A shim that was killed or crashed leaves its socket behind, at
  # /run/containerd/s/<sha256 of "ADDRESS/NAMESPACE/ID">; its task dir tells
  # which ones.
  local task
  for task in "$CTRD_DIR"/state/io.containerd.runtime.v2.task/*/*; do
    [ -d "$task" ] || continue
    id=${task##*/}; ns=${task%/*}; ns=${ns##*/}
    rm -f "/run/containerd/s/$(printf '%s' "$CTRD_SOCK/$ns/$id" | sha256sum | cut -c1-64)"
  done
  # Shims and dockerd still use a few fixed paths under /run whatever their
  # configured roots; drop them when empty (a system daemon's are not).
  rmdir /run/containerd/runc/{"$CTR_NS",moby} /run/containerd/{runc,s} /run/containerd \
    /run/docker/plugins /run/docker 2>/dev/null || true

  # --one-file-system: never follow a mount that survived the umount above.
  rm -rf --one-file-system "$CTRD_DIR" "$DOCKER_DIR" "$RUNC_ROOT" "$BUNDLES" "$STATE/fifo" "$PODMAN_DIR"
}

cmd_down() {
  [ "$(id -u)" = 0 ] || die "run as root"
  [ -d "$STATE" ] || return 0
  lock
  T0=$(now_ms)
  teardown
  local left=0
  [ -z "$(our_shims)" ] || { log "still running: shims $(our_shims | tr '\n' ' ')"; left=1; }
  [ -z "$(our_podman)" ] || { log "still running: podman $(our_podman | tr '\n' ' ')"; left=1; }
  [ -z "$(state_mounts)" ] || { log "still mounted: $(state_mounts | tr '\n' ' ')"; left=1; }
  [ "$left" = 0 ] || die "down left things behind"
  # Dead daemons stay visible to pgrep as zombies until pid 1 reaps them,
  # which a minimal init may do seconds later; callers check with pgrep.
  if [ ${#STOPPED_PIDS[@]} -gt 0 ]; then
    local pids; pids=$(IFS=,; echo "${STOPPED_PIDS[*]}")
    wait_for 15 eval "! ps -p $pids >/dev/null" ||
      log "note: pid 1 has not yet reaped $(ps -o pid= -p "$pids" | xargs)"
  fi
  log "down in $(elapsed)"
}

# ---------------------------------------------------------- containers ---

need_ctrd() { ctrd_up || die "containerd is not up (run: ${0##*/} up)"; }
need_dockerd() { dockerd_up || die "dockerd is not up (run: ${0##*/} up)"; }

# runc_bundle ID CGROUP CMD...: an OCI bundle from `runc spec`, edited to run
# CMD without a terminal on the shared read-only rootfs.
runc_bundle() {
  local id=$1 cgroup=$2; shift 2
  local b=$BUNDLES/$id
  rm -rf "$b"; mkdir -p "$b"
  runc spec --bundle "$b"
  # One --arg per word: jq would take a "-c" among --args for its own option.
  local argv='[]' word
  for word in "$@"; do argv=$(jq -c --arg w "$word" '. + [$w]' <<<"$argv"); done
  jq --arg root "$ROOTFS" --arg host "$id" --arg cgroup "$cgroup" \
    --argjson argv "$argv" '
      .process.terminal = false
    | .process.args = $argv
    | .process.env = ["PATH=/bin", "HOME=/root"]
    | .root = {path: $root, readonly: true}
    | .hostname = $host
    | .linux.cgroupsPath = $cgroup' \
    "$b/config.json" >"$b/config.json.new"
  mv "$b/config.json.new" "$b/config.json"
}

# Foreground runs: no stdin (tests are not terminals), exit with the
# command's status, remove the container afterwards.
cmd_run_runc() {
  local detach=0 cgroup=""
  while [ $# -gt 0 ]; do
    case $1 in
      -d) detach=1; shift ;;
      --cgroup) cgroup=$2; shift 2 ;;
      *) break ;;
    esac
  done
  [ $# -ge 2 ] || { usage >&2; exit 2; }
  local id=$1; shift
  mkdir -p "$RUNC_ROOT" "$BUNDLES"
  cgroup=${cgroup:-$RUNC_CGROUP_PARENT/$id}
  # runc removes the leaf cgroup only; `down` removes the parents it lists here.
  cgroup=/${cgroup#/}
  local top=${cgroup#/}; top=${top%%/*}
  grep -qxF "$top" "$STATE/runc-cgroups" 2>/dev/null || echo "$top" >>"$STATE/runc-cgroups"
  runc_bundle "$id" "$cgroup" "$@"
  local b=$BUNDLES/$id
  if [ "$detach" = 1 ]; then
    # Detached runc hands its own stdio to the container: give it a file.
    runc_ run -d --bundle "$b" --pid-file "$b/init.pid" "$id" \
      </dev/null >"$b/output.log" 2>&1 || die "runc run failed: $(cat "$b/output.log")"
    echo "$id $(cat "$b/init.pid")"
  else
    local rc=0
    runc_ run --bundle "$b" "$id" </dev/null || rc=$?
    runc_ delete -f "$id" >/dev/null 2>&1 || true
    rm -rf "$b"
    return "$rc"
  fi
}

cmd_run_ctr() {
  local detach=0
  [ "${1:-}" = -d ] && { detach=1; shift; }
  [ $# -ge 2 ] || { usage >&2; exit 2; }
  need_ctrd
  local id=$1; shift
  mkdir -p "$STATE/fifo" "$LOGS"
  if [ "$detach" = 1 ]; then
    ctr_ run -d --fifo-dir "$STATE/fifo" --log-uri "file://$LOGS/ctr-$id.log" \
      "$CTR_IMAGE" "$id" "$@" </dev/null >/dev/null
    echo "$id $(pid_ctr "$id")"
  else
    ctr_ run --rm --fifo-dir "$STATE/fifo" "$CTR_IMAGE" "$id" "$@" </dev/null
  fi
}

cmd_run_docker() {
  local detach=0
  [ "${1:-}" = -d ] && { detach=1; shift; }
  [ $# -ge 2 ] || { usage >&2; exit 2; }
  need_dockerd
  local name=$1; shift
  if [ "$detach" = 1 ]; then
    # No --rm: the test may want to see the exited container; `rm`/`down` clean up.
    local id
    id=$(docker_ run -d --network none --name "$name" "$IMAGE" "$@")
    echo "$id $(pid_docker "$name")"
  else
    docker_ run --rm --network none --name "$name" "$IMAGE" "$@"
  fi
}

# Per-runtime primitives used by pid/stop/kill/rm.
pid_runc() { runc_ state "$1" | jq -r .pid; }
pid_ctr() { ctr_ tasks ls | awk -v id="$1" '$1 == id { print $2 }'; }
pid_docker() { docker_ inspect -f '{{.State.Pid}}' "$1"; }

running_runc() { runc_ state "$1" 2>/dev/null | jq -e '.status != "stopped"' >/dev/null; }
running_ctr() { ctr_ tasks ls | awk -v id="$1" '$1 == id && $3 != "STOPPED" { f = 1 } END { exit !f }'; }
running_docker() { [ "$(docker_ inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }

signal_runc() { runc_ kill "$1" "$2" 2>/dev/null || true; }
signal_ctr() { ctr_ tasks kill -s "$2" "$1" >/dev/null 2>&1 || true; }
signal_docker() { docker_ kill -s "$2" "$1" >/dev/null 2>&1 || true; }

remove_runc() { runc_ delete -f "$1" >/dev/null 2>&1 || true; rm -rf "${BUNDLES:?}/$1"; }
remove_ctr() {
  ctr_ tasks rm -f "$1" >/dev/null 2>&1 || true
  ctr_ containers rm "$1" >/dev/null 2>&1 || true
}
remove_docker() { docker_ rm -f "$1" >/dev/null 2>&1 || true; }

check_runtime() {
  case ${1:-} in
    runc | ctr | docker | podman) ;;
    *) usage >&2; exit 2 ;;
  esac
  [ -n "${2:-}" ] || { usage >&2; exit 2; }
}

cmd_pid() { check_runtime "$@"; "pid_$1" "$2"; }

cmd_kill() {
  check_runtime "$@"
  local rt=$1 id=$2 sig=${3:-KILL}
  "signal_$rt" "$id" "$sig"
  wait_for 10 eval "! running_$rt $id" || die "$rt $id still running after SIG$sig"
  "remove_$rt" "$id"
}

cmd_stop() {
  check_runtime "$@"
  local rt=$1 id=$2 grace=${3:-5}
  "signal_$rt" "$id" TERM
  if ! wait_for "$grace" eval "! running_$rt $id"; then
    "signal_$rt" "$id" KILL
    wait_for 10 eval "! running_$rt $id" || die "$rt $id survived SIGKILL"
  fi
  "remove_$rt" "$id"
}

cmd_rm() { check_runtime "$@"; "remove_$1" "$2"; }

cmd_status() {
  local name pidfile
  for name in containerd dockerd; do
    pidfile=$CTRD_PIDFILE; [ "$name" = dockerd ] && pidfile=$DOCKER_PIDFILE
    if pid_alive "$pidfile"; then echo "$name: running, pid $(cat "$pidfile")"
    else echo "$name: stopped"; fi
  done
  if ctrd_answers; then
    echo "--- ctr tasks (namespace $CTR_NS)"; ctr_ tasks ls
  fi
  if docker_answers; then
    echo "--- docker containers"; docker_ ps -a
  fi
  if [ -d "$RUNC_ROOT" ]; then
    echo "--- runc containers"; runc_ list
  fi
  status_podman
  echo "--- mounts under $STATE: $(state_mounts | wc -l)"
}

cmd_env() {
  cat <<EOF
export CONTAINERD_ADDRESS=$CTRD_SOCK
export CONTAINERD_NAMESPACE=$CTR_NS
export DOCKER_HOST=unix://$DOCKER_SOCK
export AUDITREE_RUNC_ROOT=$RUNC_ROOT
EOF
  env_podman
}

main() {
  local cmd=${1:-}
  [ $# -gt 0 ] && shift
  case $cmd in
    prepare) [ "$(id -u)" = 0 ] || die "run as root"; lock; cmd_prepare ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    run-runc) cmd_run_runc "$@" ;;
    run-ctr) cmd_run_ctr "$@" ;;
    run-docker) cmd_run_docker "$@" ;;
    run-podman) cmd_run_podman "$@" ;;
    pid) cmd_pid "$@" ;;
    stop) cmd_stop "$@" ;;
    kill) cmd_kill "$@" ;;
    rm) cmd_rm "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
