#!/usr/bin/env bash
# A fleet simulated on one machine: one real etcd and many gateways in one JVM (each with its own etcd client,
# route store and engine, settings store and registration; no client listener). Route and settings changes
# through random gateways, timed until every other gateway has them; etcd's CPU and bytes; a gateway restart
# and an etcd restart. Runs the suite's FleetSimulationTest with larger figures and writes
# perf/results/fleet-sim-DATE.md (plots in perf/results/fleet-sim-DATE/). Needs etcd (Debian: etcd-server).
# Usage: perf/run-fleet-sim.sh [gateways=10,50,100] [route-changes=1000] [settings-changes=100]
set -euo pipefail
cd "$(dirname "$0")/.."
gateways=${1:-10,50,100}
routes=${2:-1000}
settings=${3:-100}
report="$PWD/perf/results/fleet-sim-$(date +%F).md"
mvn -B -ntp -q -Dstyle.color=never install -DskipTests
mvn -B -ntp -Dstyle.color=never -pl perf test -Dtest=FleetSimulationTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dsim.gateways="$gateways" -Dsim.routeChanges="$routes" -Dsim.settingsChanges="$settings" -Dsim.restSeconds=10 -Dsim.missedChanges=50 -Dsim.etcdTimeoutMillis=5000 -Dsim.probeMillis=500 \
  -Dsim.report="$report" | grep -E 'fleet simulation|Tests run:|FAIL' || true
test -s "$report" && cat "$report"
