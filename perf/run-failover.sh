#!/usr/bin/env bash
# Set failover with real AO processes: kill a set's AO under load, then restart it.
# Usage: perf/run-failover.sh [rate=2000] [seconds=20] [channel-mode=lean]
set -euo pipefail
# shellcheck source=bin/common.sh
. "$(dirname "$0")/../bin/common.sh"
cellgate_build_if_needed perf
cp=$(cellgate_classpath perf)
cd "$CELLGATE_HOME"
exec "$(cellgate_java)" "${CELLGATE_JVM_OPTS[@]}" -Xmx1g -cp "$cp" io.cellgate.perf.FailoverScenario \
  "${1:-2000}" "${2:-20}" "perf/results/set-failover-$(date +%F).md" "${3:-lean}"
