#!/usr/bin/env bash
# Overload with shedding on and off (P5). Usage: perf/run-overload.sh [seconds=20] [multipliers=1.5,2]
set -euo pipefail
# shellcheck source=bin/common.sh
. "$(dirname "$0")/../bin/common.sh"
cellgate_build_if_needed perf
cp=$(cellgate_classpath perf)
cd "$CELLGATE_HOME"
exec "$(cellgate_java)" "${CELLGATE_JVM_OPTS[@]}" -Xmx1g -cp "$cp" io.cellgate.perf.OverloadScenario \
  "${1:-20}" "${2:-1.5,2}" "perf/results/overload-$(date +%F).md"
