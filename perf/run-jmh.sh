#!/usr/bin/env bash
# Runs cellgate's JMH benchmarks. Usage: perf/run-jmh.sh [JMH arguments], e.g.
#   perf/run-jmh.sh RouteLookupBenchmark -prof gc
#   perf/run-jmh.sh -l                      # list the benchmarks
set -euo pipefail
# shellcheck source=bin/common.sh
. "$(dirname "$0")/../bin/common.sh"
cellgate_build_if_needed perf
cp=$(cellgate_classpath perf)
exec "$(cellgate_java)" "${CELLGATE_JVM_OPTS[@]}" -cp "$cp" org.openjdk.jmh.Main "$@"
