#!/usr/bin/env bash
# A throw-away single-node Ceph cluster with radosgw on 127.0.0.1, for the test suite.
#
#   scripts/s3-server.sh start [DIR]   start a cluster under DIR (default: a fresh temp dir);
#                                      prints DIR/env (KEY=VALUE lines) on stdout
#   scripts/s3-server.sh stop DIR      kill its processes and remove DIR
#   scripts/s3-server.sh status DIR    exit 0 when all its processes run and S3 answers
#   scripts/s3-server.sh env DIR       print DIR/env
#
# One ceph-mon, one ceph-osd on memstore (data lives in RAM), one radosgw; plain background
# processes (no systemd, no mgr, no cephx). Only stdout carries the env lines; everything else
# goes to stderr. If S3_SERVER_OWNER_PID is set, a watcher stops the cluster when that process
# ends, so a killed test run does not leave clusters behind.
#
# Exit codes: 0 ok, 1 failure, 2 usage, 3 radosgw is missing and cannot be installed here
# (not root, or not Debian, or apt-get failed).
#
# Why the settings below (see shared/DESIGN.md, "A real S3 server for tests"):
# - no auth + crc message modes: otherwise radosgw wants a secure monitor connection and hangs;
# - fast paxos: pool creation drops from ~12 s to ~1 s;
# - tcp_nodelay on the beast frontend: otherwise every GET takes ~45 ms;
# - storage classes must be in the zone(group) placement before radosgw starts, or they are 400.
set -euo pipefail

readonly ACCESS_KEY=s3pq-test-access
readonly SECRET_KEY=s3pq-test-secret-0123456789abcdef
readonly KMS_KEY_ID=testkey-1
readonly STORAGE_CLASSES=(STANDARD_IA INTELLIGENT_TIERING GLACIER_IR ONEZONE_IA)
readonly PACKAGES=(ceph-mon ceph-osd radosgw)
readonly COMMANDS=(ceph ceph-mon ceph-osd monmaptool radosgw radosgw-admin)
readonly START_TIMEOUT=${S3_SERVER_START_TIMEOUT:-60}
# Ports are drawn from here: below Linux's ephemeral range (32768+) and away from the ports
# Ceph daemons bind by themselves (6800-7300).
readonly PORT_MIN=20000 PORT_MAX=32000

log() { printf 's3-server: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# --- packages ---------------------------------------------------------------------------------

missing_commands() {
  local c missing=()
  for c in "${COMMANDS[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  echo "${missing[*]:-}"
}

ensure_packages() {
  local missing
  missing=$(missing_commands)
  [[ -z $missing ]] && return 0
  if [[ $(id -u) -ne 0 || ! -f /etc/debian_version ]] || ! command -v apt-get >/dev/null; then
    log "radosgw is not installed (missing: $missing) and cannot be installed here:"
    log "installing needs root on Debian: apt-get install -y --no-install-recommends ${PACKAGES[*]}"
    exit 3
  fi
  log "installing ${PACKAGES[*]} (missing: $missing)"
  local t0 rc=0
  t0=$(now_ms)
  # One installer at a time when several test files start clusters at once.
  (
    flock 9
    [[ -z $(missing_commands) ]] && exit 0
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 &&
      apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "${PACKAGES[@]}" >&2
  ) 9>/tmp/s3pq-rgw-install.lock || rc=$?
  if [[ $rc -ne 0 || -n $(missing_commands) ]]; then
    log "apt-get could not install ${PACKAGES[*]} (exit $rc)"
    exit 3
  fi
  log "installed in $(( $(now_ms) - t0 )) ms"
}

# --- ports ------------------------------------------------------------------------------------

# True when no TCP socket (any state, IPv4 or IPv6) uses local port $1.
port_free() {
  local hex
  hex=$(printf ':%04X ' "$1")
  ! grep -q -- "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Prints a free port other than the ones given.
pick_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((PORT_MIN + (RANDOM * 32768 + RANDOM) % (PORT_MAX - PORT_MIN)))
    [[ " $* " == *" $p "* ]] && continue
    if port_free "$p"; then echo "$p"; return 0; fi
  done
  die "no free port found in $PORT_MIN-$PORT_MAX"
}

# True when process $1 owns a listening socket on 127.0.0.1:$2 (radosgw does not exit when its
# port is taken, so "S3 answers" alone could be someone else's server).
pid_listens_on() {
  local pid=$1 hex inode
  hex=$(printf '0100007F:%04X' "$2")
  while read -r inode; do
    [[ -n $(find "/proc/$pid/fd" -lname "socket:\[$inode\]" -print -quit 2>/dev/null) ]] && return 0
  done < <(awk -v a="$hex" '$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp)
  return 1
}

# --- cluster ----------------------------------------------------------------------------------

write_conf() {
  local dir=$1 fsid=$2 mon_port=$3 rgw_port=$4 kms_key=$5
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
keyring = /dev/null
ms mon client mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms cluster mode = crc
ms service mode = crc
ms mon service mode = crc
run dir = $dir/run
crash dir = $dir/crash
admin socket = $dir/run/\$name.\$pid.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
mon cluster log file = $dir/log/cluster.log
paxos propose interval = 0.05
paxos min wait = 0.01
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon max pg per osd = 1000

[mon]
mon data = $dir/mon/\$cluster-\$id

[osd]
osd data = $dir/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 2147483648

[client]
rgw data = $dir/rgw
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw init timeout = $START_TIMEOUT
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = $KMS_KEY_ID=$kms_key
rgw crypt require ssl = false
rgw lc debug interval = 10
rgw dynamic resharding = false
EOF
}

# Starts "$@" detached, logs to $dir/log/$name.out, records its pid in $dir/pids.
spawn() {
  local dir=$1 name=$2
  shift 2
  setsid "$@" </dev/null >>"$dir/log/$name.out" 2>&1 &
  echo "$name $!" >>"$dir/pids"
  disown $!
}

pid_of() { awk -v n="$2" '$1 == n { print $2 }' "$1/pids" 2>/dev/null; }

# Admin commands are bounded: against a broken cluster they would otherwise wait forever.
ceph_cli() { timeout "$START_TIMEOUT" ceph -c "$DIR/ceph.conf" --connect-timeout "$START_TIMEOUT" "$@"; }
rgw_admin() { timeout "$START_TIMEOUT" radosgw-admin -c "$DIR/ceph.conf" "$@" >>"$DIR/log/radosgw-admin.out" 2>&1; }

show_logs() {
  local f
  for f in "$1"/log/*; do
    [[ -s $f ]] || continue
    echo "----- $f (last 25 lines)" >&2
    tail -n 25 "$f" >&2
  done
}

fail_start() {
  log "error: $*"
  show_logs "$DIR"
  stop_processes "$DIR"
  log "cluster files kept in $DIR"
  exit 1
}

cmd_start() {
  local t0 t1
  ensure_packages
  t0=$(now_ms)
  if [[ -n ${1:-} ]]; then
    DIR=$1
    mkdir -p "$DIR"
    [[ -z $(ls -A "$DIR") ]] || die "$DIR is not empty"
  else
    DIR=$(mktemp -d /tmp/s3pq-rgw.XXXXXX)
  fi
  DIR=$(cd "$DIR" && pwd)
  mkdir -p "$DIR"/{run,log,crash,mon,osd,rgw}
  : >"$DIR/pids"

  local fsid osd_uuid mon_port rgw_port kms_key osd_id rgw_pid endpoint
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  mon_port=$(pick_port)
  rgw_port=$(pick_port "$mon_port")
  kms_key=$(head -c 32 /dev/urandom | base64)
  endpoint="http://127.0.0.1:$rgw_port"
  write_conf "$DIR" "$fsid" "$mon_port" "$rgw_port" "$kms_key"
  log "starting in $DIR (mon 127.0.0.1:$mon_port, S3 $endpoint)"

  local conf=(-c "$DIR/ceph.conf")
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$DIR/monmap" >>"$DIR/log/setup.out" 2>&1 ||
    fail_start "monmaptool failed"
  ceph-mon "${conf[@]}" -i a --mkfs --monmap "$DIR/monmap" >>"$DIR/log/setup.out" 2>&1 ||
    fail_start "ceph-mon --mkfs failed"
  spawn "$DIR" mon ceph-mon "${conf[@]}" -i a -f

  osd_id=$(ceph_cli osd new "$osd_uuid" 2>>"$DIR/log/setup.out") || fail_start "ceph osd new failed (monitor not up?)"
  [[ $osd_id =~ ^[0-9]+$ ]] || fail_start "ceph osd new printed '$osd_id', not an OSD id"
  mkdir -p "$DIR/osd/ceph-$osd_id"
  ceph-osd "${conf[@]}" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >>"$DIR/log/setup.out" 2>&1 ||
    fail_start "ceph-osd --mkfs failed"
  spawn "$DIR" osd ceph-osd "${conf[@]}" -i "$osd_id" -f

  # The first radosgw-admin command that initialises the store creates the default realm-less
  # zonegroup and zone (and the rgw pools, once the OSD is up); "placement add" does not.
  rgw_admin user create --uid=test --display-name=test --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" ||
    fail_start "radosgw-admin user create failed"
  # Storage classes: one get/edit/set of the zonegroup and of the zone (twice as fast as
  # "placement add" per class). /usr/bin/python3 comes with ceph-common.
  if ! { timeout "$START_TIMEOUT" radosgw-admin "${conf[@]}" zonegroup get >"$DIR/zonegroup.json" 2>>"$DIR/log/radosgw-admin.out" &&
    timeout "$START_TIMEOUT" radosgw-admin "${conf[@]}" zone get >"$DIR/zone.json" 2>>"$DIR/log/radosgw-admin.out"; }; then
    fail_start "radosgw-admin zonegroup/zone get failed"
  fi
  /usr/bin/python3 - "$DIR/zonegroup.json" "$DIR/zone.json" "${STORAGE_CLASSES[@]}" <<'PY' >>"$DIR/log/setup.out" 2>&1 ||
import json, sys
zg_path, zone_path, classes = sys.argv[1], sys.argv[2], sys.argv[3:]
zg = json.load(open(zg_path))
for target in zg["placement_targets"]:
    if target["name"] == "default-placement":
        target["storage_classes"] = sorted(set(target["storage_classes"]) | set(classes))
json.dump(zg, open(zg_path, "w"))
zone = json.load(open(zone_path))
for pool in zone["placement_pools"]:
    if pool["key"] == "default-placement":
        scs = pool["val"]["storage_classes"]
        for c in classes:
            scs[c] = {"data_pool": scs["STANDARD"]["data_pool"]}
json.dump(zone, open(zone_path, "w"))
PY
    fail_start "editing the zonegroup/zone placement failed"
  rgw_admin zonegroup set --infile "$DIR/zonegroup.json" || fail_start "radosgw-admin zonegroup set failed"
  rgw_admin zone set --infile "$DIR/zone.json" || fail_start "radosgw-admin zone set failed"

  port_free "$rgw_port" || fail_start "port $rgw_port was taken meanwhile"
  spawn "$DIR" radosgw radosgw "${conf[@]}" -n client.rgw.a -f
  rgw_pid=$(pid_of "$DIR" radosgw)

  local deadline=$((t0 + START_TIMEOUT * 1000))
  until curl -fsS -o /dev/null --max-time 2 "$endpoint/" 2>/dev/null; do
    kill -0 "$rgw_pid" 2>/dev/null || fail_start "radosgw exited"
    (($(now_ms) < deadline)) || fail_start "S3 did not answer on $endpoint within ${START_TIMEOUT}s"
    sleep 0.1
  done
  pid_listens_on "$rgw_pid" "$rgw_port" || fail_start "another process answers on port $rgw_port"

  cat >"$DIR/env" <<EOF
S3_ENDPOINT=$endpoint
S3_ACCESS_KEY_ID=$ACCESS_KEY
S3_SECRET_ACCESS_KEY=$SECRET_KEY
S3_REGION=us-east-1
S3_KMS_KEY_ID=$KMS_KEY_ID
S3_SERVER_DIR=$DIR
S3_SERVER_KIND=radosgw
EOF
  if [[ -n ${S3_SERVER_OWNER_PID:-} ]]; then
    # Stops the cluster once the owner is gone; exits by itself when DIR disappears (stop).
    # shellcheck disable=SC2016 # expanded by the inner bash
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && [[ -f "$2/pids" ]]; do sleep 2; done
                    [[ -f "$2/pids" ]] && exec bash "$0" stop "$2"' \
      "$(realpath "$0")" "$S3_SERVER_OWNER_PID" "$DIR" </dev/null >/dev/null 2>&1 &
  fi
  t1=$(now_ms)
  log "S3 up at $endpoint in $((t1 - t0)) ms"
  cat "$DIR/env"
}

# --- stop / status ----------------------------------------------------------------------------

# The cluster is throw-away (the OSD keeps its data in RAM), so SIGKILL: radosgw alone takes
# ~5 s to leave after SIGTERM. A pid is only killed while its command line names this
# cluster's ceph.conf, so a recycled pid is never hit.
stop_processes() {
  local dir=$1 name pid pids=()
  [[ -f $dir/pids ]] || return 0
  while read -r name pid; do
    [[ -n $pid ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/ceph.conf" && pids+=("$pid")
  done <"$dir/pids"
  ((${#pids[@]})) || return 0
  kill -KILL "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 100); do
    for pid in "${pids[@]}"; do
      [[ -e /proc/$pid && $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] && break
      pid=
    done
    [[ -z $pid ]] && return 0
    sleep 0.05
  done
  log "warning: processes still present after SIGKILL: ${pids[*]}"
}

require_cluster_dir() {
  [[ -n ${1:-} ]] || usage
  [[ -f $1/ceph.conf && -f $1/pids ]] || die "$1 is not a cluster directory made by this script"
}

cmd_stop() {
  require_cluster_dir "${1:-}"
  stop_processes "$1"
  rm -rf -- "$1"
  log "stopped and removed $1"
}

cmd_status() {
  require_cluster_dir "${1:-}"
  local dir=$1 name pid ok=0 endpoint
  while read -r name pid; do
    if kill -0 "$pid" 2>/dev/null; then log "$name: running (pid $pid)"; else log "$name: not running"; ok=1; fi
  done <"$dir/pids"
  endpoint=$(sed -n 's/^S3_ENDPOINT=//p' "$dir/env" 2>/dev/null)
  if [[ -n $endpoint ]] && curl -fsS -o /dev/null --max-time 2 "$endpoint/"; then
    log "S3: answering on $endpoint"
  else
    log "S3: not answering${endpoint:+ on $endpoint}"
    ok=1
  fi
  return $ok
}

cmd_env() {
  require_cluster_dir "${1:-}"
  [[ -f $1/env ]] || die "$1 has no env file (start did not finish)"
  cat "$1/env"
}

case ${1:-} in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  env) shift; cmd_env "$@" ;;
  *) usage ;;
esac
