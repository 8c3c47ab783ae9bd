#!/usr/bin/env bash
# Fleet route propagation: 3 gatewayd processes + 1 etcd on loopback, N route moves made on one node,
# each timed until the other two report its epoch. Runs the suite's FleetProcessTest with a larger N
# and writes perf/results/fleet-propagation-DATE.md. Needs etcd (Debian: etcd-server).
# Usage: perf/run-fleet.sh [moves=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
moves=${1:-1000}
report="$PWD/perf/results/fleet-propagation-$(date +%F).md"
mvn -B -ntp -q -Dstyle.color=never install -DskipTests
mvn -B -ntp -Dstyle.color=never -pl admin-cli test -Dtest=FleetProcessTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dfleet.moves="$moves" -Dfleet.report="$report" | grep -E 'fleet (propagation|scale-out)|Tests run:|FAIL' || true
test -s "$report" && cat "$report"
