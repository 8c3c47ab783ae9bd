#!/usr/bin/env bash
# One set slowed to 10x its latency under load, the per-set adaptive limit on: the other set's p99
# before and during, the slowed set's success by priority. Usage: perf/run-slow-set.sh [seconds=15]
set -euo pipefail
# shellcheck source=bin/common.sh
. "$(dirname "$0")/../bin/common.sh"
cellgate_build_if_needed perf
cp=$(cellgate_classpath perf)
cd "$CELLGATE_HOME"
exec "$(cellgate_java)" "${CELLGATE_JVM_OPTS[@]}" -Xmx1g -cp "$cp" io.cellgate.perf.SlowSetScenario \
  "${1:-15}" "perf/results/slow-set-$(date +%F).md"
