#!/usr/bin/env bash
# One topology served by two kendall processes that find each other through
# etcd, attacked through the registry, with one replica stopped in the
# middle: the README's steps for several processes, run for real. It
# installs Debian's etcd-server if /usr/bin/etcd is missing, builds kendall,
# and kills everything it started on exit. It fails when a step fails or
# when fewer than MIN_SUCCESS of the attack's requests succeed. About 30 s
# once kendall is built.
#
#   .ci/multiprocess.sh                      # examples/etcd-demo.yaml
#   ETCD_PORT=2379 MIN_SUCCESS=0.99 .ci/multiprocess.sh
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
export PATH="/usr/local/go/bin:$PATH"

ETCD_PORT=${ETCD_PORT:-23790}        # not 2379: Debian's package starts an etcd there
PEER_PORT=${PEER_PORT:-$((ETCD_PORT + 1))}
MIN_SUCCESS=${MIN_SUCCESS:-0.99}
RATE=${RATE:-50}
DURATION=${DURATION:-10}             # seconds; the replica stops half-way
TOPOLOGY=examples/replicas.yaml
[ -f "$TOPOLOGY" ] || TOPOLOGY=examples/etcd-demo.yaml
REGISTRY="etcd://127.0.0.1:$ETCD_PORT"

work=$(mktemp -d)
pids=()
cleanup() {
  status=$?
  # serve withdraws its replicas on SIGINT; etcd last.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -INT "${pids[i]}" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${pids[i]}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "$status" != 0 ]; then
    for f in "$work"/*.out "$work"/*.err; do
      [ -s "$f" ] && { echo "--- $(basename "$f")"; cat "$f"; }
    done
    echo "FAILED (exit $status)"
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return
  echo "== apt-get install $2"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
}
[ -x /usr/bin/etcd ] || need etcd etcd-server
need curl curl
ETCD=$(command -v etcd || echo /usr/bin/etcd)

# wait_for FILE PATTERN WHAT: until FILE has a line matching PATTERN.
wait_for() {
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return
    sleep 0.1
  done
  echo "timed out waiting for $3"; return 1
}

echo "== go build ./cmd/kendall"
go build -o "$work/kendall" ./cmd/kendall
kendall="$work/kendall"

echo "== etcd on 127.0.0.1:$ETCD_PORT"
"$ETCD" --name kendall --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "kendall=http://127.0.0.1:$PEER_PORT" --logger=zap --log-level error \
  >"$work/etcd.out" 2>"$work/etcd.err" &
pids+=($!)
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"' && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"' || { echo "etcd is not healthy"; exit 1; }

echo "== kendall serve $TOPOLOGY --services back --registry $REGISTRY"
"$kendall" serve "$TOPOLOGY" --services back --registry "$REGISTRY" >"$work/back.out" 2>"$work/back.err" &
pids+=($!)
wait_for "$work/back.out" '^Entry ' "back's addresses"
cat "$work/back.out"

echo "== kendall serve $TOPOLOGY --services front --registry $REGISTRY"
"$kendall" serve "$TOPOLOGY" --services front --registry "$REGISTRY" >"$work/front.out" 2>"$work/front.err" &
pids+=($!)
wait_for "$work/front.out" '^Entry ' "front's addresses"
cat "$work/front.out"

# The last replica of back, and the entry's target in the registry.
stop_url=$(awk '$1 ~ /^back\[[0-9]+\]$/ {u = $5} END {print u}' "$work/back.out")
target=$(sed -n 's/^Entry [^:]*: kendall attack \(etcd:[^ ]*\) .*/\1/p' "$work/front.out" | head -1)
[ -n "$stop_url" ] && [ -n "$target" ] || { echo "no replica of back or no entry target in the output"; exit 1; }

echo "== kendall attack $target --rate $RATE --duration ${DURATION}s --min-success $MIN_SUCCESS"
"$kendall" attack "$target" --rate "$RATE" --duration "${DURATION}s" --min-success "$MIN_SUCCESS" \
  >"$work/attack.out" 2>"$work/attack.err" &
attack=$!
pids+=($attack)
sleep $((DURATION / 2))
echo "== curl -X POST ${stop_url}admin/stop"
curl -fsS -X POST "${stop_url}admin/stop"
set +e
wait "$attack"
attack_status=$?
set -e
cat "$work/attack.out"
echo "== front's stderr"
cat "$work/front.err"
echo "== front's balancer for back, after the stop"
front_metrics=$(awk '$1 == "front" {print $6}' "$work/front.out")
curl -fsS "$front_metrics" | grep -E '^kendall_callee_(replicas|calls_total)'
if [ "$attack_status" != 0 ]; then
  cat "$work/attack.err"
  echo "the attack failed (exit $attack_status): success below $MIN_SUCCESS, or an error above"
  exit 1
fi
remaining=$(curl -fsS "$front_metrics" | sed -n 's/^kendall_callee_replicas{[^}]*callee="back"} //p')
[ "$remaining" = 1 ] || { echo "front still routes to $remaining replicas of back after one stopped"; exit 1; }
echo "OK: two processes through etcd, one replica stopped mid-attack, success >= $MIN_SUCCESS"
