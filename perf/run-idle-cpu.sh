#!/usr/bin/env bash
# Idle CPU by thread: a gatewayd process (2 event loops, health checks off, 10-minute heartbeats) holding
# N idle logged-in connections from a ConnectionHolder process; after a settle (the logins' JIT work
# done), the CPU (user + system clock ticks from /proc/PID/task/*/stat) of each of its threads over a
# window, as a share of one core: the gateway's own threads (cellgate-*) apart from the JVM's (JIT, GC,
# VM periodic task).
# Usage: perf/run-idle-cpu.sh [connections=10000] [settle-seconds=90] [window-seconds=60]
# gatewayd runs with bin/gatewayd's JVM options (GATEWAYD_JVM_OPTS); CELLGATE_OPTS adds to them, as there.
set -euo pipefail
# shellcheck source=bin/common.sh
. "$(dirname "$0")/../bin/common.sh"
cellgate_build_if_needed perf
cp=$(cellgate_classpath perf)
cd "$CELLGATE_HOME"
connections=${1:-10000}
settle=${2:-90}
window=${3:-60}
secret=0123456789abcdef0123456789abcdef
dir=$(mktemp -d)
cat > "$dir/gateway.yaml" <<EOF
gateway: {city: sz, idc: sz-1, transport: auto, event-loop-threads: 2}
listen: {client: 127.0.0.1:0, metrics: off}
login: {token-secret: $secret, timeout: 10s, heartbeat-interval: 10m}
topology:
  sets:
    - {name: sz-a, city: sz, idc: sz-1, endpoints: ["127.0.0.1:1"]}
routes:
  write-points:
    - {slots: 0-16383, set: sz-a}
commands:
  - {cmd: 1, method: cellgate.sample.v1.SampleAo/Echo, route: READ, priority: P1, timeout: 10s}
upstream:
  health: {enabled: false}
admission: {accept-rate: 100000, login-rate: 100000, source-share: 1}
EOF
java_bin=$(cellgate_java)
# shellcheck disable=SC2086 # CELLGATE_OPTS is a list of JVM options, as bin/gatewayd takes it
"$java_bin" "${GATEWAYD_JVM_OPTS[@]}" ${CELLGATE_OPTS:-} -Xms1g -Xmx1g -cp "$cp" io.cellgate.server.Gatewayd --config "$dir/gateway.yaml" > "$dir/gatewayd.log" 2>&1 &
gateway=$!
holder=
cleanup() {
  if [ -n "$holder" ]; then
    kill "$holder" 2>/dev/null || true
  fi
  kill "$gateway" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  grep -q "gatewayd: listening on port" "$dir/gatewayd.log" && break
  sleep 0.5
done
port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$dir/gatewayd.log" | head -n 1)
if [ "$connections" -gt 0 ]; then
  "$java_bin" -Xmx512m -XX:+UseSerialGC -cp "$cp" io.cellgate.perf.harness.ConnectionHolder --port "$port" \
    --count "$connections" --sources 127.0.0.2 --secret "$secret" --uid-base 1 > "$dir/holder.log" 2>&1 &
  holder=$!
  for _ in $(seq 1 240); do
    grep -q "holder: holding" "$dir/holder.log" && break
    sleep 0.5
  done
  grep "holder: holding" "$dir/holder.log"
fi
sleep "$settle"
# thread name (spaces as _) and its user + system ticks
snapshot() {
  for t in /proc/"$gateway"/task/*; do
    name=$(tr ' ' '_' < "$t/comm")
    read -r -a f <<< "$(sed 's/.*) //' "$t/stat")"
    echo "$name $((f[11] + f[12]))"
  done | awk '{a[$1] += $2} END {for (k in a) print k, a[k]}' | sort
}
snapshot > "$dir/before"
sleep "$window"
snapshot > "$dir/after"
hz=$(getconf CLK_TCK)
echo "idle CPU of gatewayd over ${window} s with $connections idle connections, % of one core:"
join -a 2 -e 0 -o 0,1.2,2.2 "$dir/before" "$dir/after" | awk -v hz="$hz" -v w="$window" '
  { d = ($3 - $2) * 100 / hz / w; if ($1 ~ /^cellgate-/) own += d; else jvm += d; if (d > 0) printf "  %-24s %6.2f%%\n", $1, d }
  END { printf "  gateway threads (cellgate-*): %.2f%%  JVM threads: %.2f%%  total: %.2f%%\n", own, jvm, own + jvm }'
