#!/usr/bin/env bash
# Fleet routes at scale: 3 gatewayd processes + 1 etcd on loopback; N per-user overrides loaded in batches,
# batches of moves timed until the other two gateways apply them, one gateway restarted to read them all.
# Runs the suite's FleetRoutesProcessTest with larger figures and writes perf/results/fleet-routes-DATE.md.
# Needs etcd (Debian: etcd-server).
# Usage: perf/run-fleet-routes.sh [overrides=1000000] [batch=10000] [move-batches=20]
set -euo pipefail
cd "$(dirname "$0")/.."
overrides=${1:-1000000}
batch=${2:-10000}
moves=${3:-20}
report="$PWD/perf/results/fleet-routes-$(date +%F).md"
mvn -B -ntp -q -Dstyle.color=never install -DskipTests
mvn -B -ntp -Dstyle.color=never -pl admin-cli test -Dtest=FleetRoutesProcessTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dfleet.overrides="$overrides" -Dfleet.batch="$batch" -Dfleet.moveBatches="$moves" -Dfleet.heap=-Xmx1g \
  -Dfleet.routesReport="$report" | grep -E 'fleet routes|Tests run:|FAIL' || true
test -s "$report" && cat "$report"
