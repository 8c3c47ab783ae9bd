#!/usr/bin/env bash
# Compares the upstream channel modes under the same open-loop load; writes perf/results/channel-mode.md.
# Usage: perf/run-channel-mode.sh [seconds=20] [rate=5000] [connections=100] [rounds=2]
set -euo pipefail
# shellcheck source=bin/common.sh
. "$(dirname "$0")/../bin/common.sh"
cellgate_build_if_needed perf
cp=$(cellgate_classpath perf)
cd "$CELLGATE_HOME"
exec "$(cellgate_java)" "${CELLGATE_JVM_OPTS[@]}" -Xmx1g -cp "$cp" io.cellgate.perf.ChannelModeComparison \
  "${1:-20}" "${2:-5000}" "${3:-100}" "${4:-2}" perf/results/channel-mode.md
