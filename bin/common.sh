# Shared by the bin/ scripts: finds the class path of a module, in a source tree after
# `mvn package` (MODULE/target/*.jar + MODULE/target/lib/*) or in an installed distribution (lib/*).
# shellcheck shell=bash

CELLGATE_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CELLGATE_HOME

# Agrona's concurrent classes need jdk.internal.misc; tests and benchmarks run with the same flag.
# shellcheck disable=SC2034 # used by the scripts that source this file
CELLGATE_JVM_OPTS=(--add-exports java.base/jdk.internal.misc=ALL-UNNAMED)

# gatewayd's own, for a daemon that idles cheaply: no sampling of the VM's performance counters every
# 50 ms (the hsperfdata file: jstat and jps do not see the process, jcmd PID does), and G1's
# remembered-set sampling every 2 s instead of 0.3 s. Together they took an idle gatewayd's JVM threads
# from 0.37% to 0.07-0.10% of a core (perf/results/idle-cpu-2026-12-01.md). CELLGATE_OPTS comes later on
# the command line and may undo either (-XX:+UsePerfData).
# shellcheck disable=SC2034 # used by the scripts that source this file
GATEWAYD_JVM_OPTS=("${CELLGATE_JVM_OPTS[@]}" -XX:-UsePerfData -XX:G1ConcRefinementServiceIntervalMillis=2000)

cellgate_java() {
  if [ -n "${JAVA_HOME:-}" ]; then
    echo "$JAVA_HOME/bin/java"
  else
    echo java
  fi
}

# cellgate_classpath MODULE: prints the class path for MODULE.
cellgate_classpath() {
  local module=$1
  if [ -d "$CELLGATE_HOME/lib" ]; then
    echo "$CELLGATE_HOME/lib/*"
    return 0
  fi
  local jar
  jar=$(find "$CELLGATE_HOME/$module/target" -maxdepth 1 -name "$module-*.jar" ! -name '*-tests.jar' 2>/dev/null | head -n 1)
  if [ -z "$jar" ] || [ ! -d "$CELLGATE_HOME/$module/target/lib" ]; then
    return 1
  fi
  echo "$jar:$CELLGATE_HOME/$module/target/lib/*"
}

# cellgate_build_if_needed MODULE: builds the project (without tests) when MODULE is not built yet.
cellgate_build_if_needed() {
  if ! cellgate_classpath "$1" >/dev/null; then
    echo "building cellgate (mvn -DskipTests install)..." >&2
    (cd "$CELLGATE_HOME" && mvn -B -ntp -q -Dstyle.color=never -DskipTests install) >&2
  fi
}
