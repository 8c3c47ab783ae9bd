#!/usr/bin/env bash
# The long fuzzing run of the client pipeline (ClientPipelineLongFuzz: frame decoder, accept, heartbeat,
# login, dispatch and error steps on an EmbeddedChannel), 30 minutes as the test says; writes
# perf/results/fuzz-DATE.md with the number of inputs run. Findings (crash-* files) stop the run and
# fail it. Needs the README's build (mvn -B -ntp -DskipTests install).
# Usage: perf/run-fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
report="perf/results/fuzz-$(date +%F).md"
start=$(date +%s)
set +e
JAZZER_FUZZ=1 mvn -B -ntp -Dstyle.color=never -pl gateway-server test -Dtest=ClientPipelineLongFuzz \
  -Dsurefire.failIfNoSpecifiedTests=false -Dsurefire.timeout=0 -Djunit.jupiter.execution.timeout.default=0 > "$log" 2>&1
status=$?
set -e
seconds=$(( $(date +%s) - start ))
summary=$(grep -o 'client pipeline fuzzing: [0-9]* inputs run ([0-9]* logged in)' "$log" | tail -1 || true)
inputs=$(echo "$summary" | grep -o '[0-9]*' | head -1 || echo 0)
logged_in=$(echo "$summary" | grep -o '[0-9]*' | tail -1 || echo 0)
done_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -1 || true)
leaks=$(grep -c 'LEAK:' "$log" || true)
{
  echo "# Fuzzing the client pipeline, $(date +%F)"
  echo
  echo "Command: \`perf/run-fuzz.sh\` (JAZZER_FUZZ=1, ClientPipelineLongFuzz, maxDuration 30m)."
  echo "Machine: $(nproc) cores, $(uname -sr), $(java -version 2>&1 | head -1)."
  echo
  echo "| inputs run | of them logged in | wall time | libFuzzer | crashes or failed checks | leaks reported | exit |"
  echo "|---|---|---|---|---|---|---|"
  echo "| ${inputs:-0} | ${logged_in:-0} | ${seconds} s | ${done_line:-(no summary line)} | $([ "$status" -eq 0 ] && echo none || echo 'see the log') | ${leaks} | ${status} |"
  echo
  echo "Target: the bytes a client sends, in fuzzed chunks, through the gateway's pipeline on an EmbeddedChannel with"
  echo "a real gateway's context: the frame decoder, the accept step, heartbeats, the login step (token parsing and"
  echo "verification, requests before login), and, on a connection the input chooses to start logged in, the dispatch"
  echo "step (command lookup, connection, command and user limits, priority admission, routing: every set is DOWN, so"
  echo "each request is answered on the loop), then the error step. Each input must end without an unexpected error,"
  echo "every byte written back must parse as a ServerFrame, no call may stay in flight, and every buffer the"
  echo "pipeline allocated must be released when the input ends (checked exactly per input; anything else is under"
  echo "paranoid leak detection)."
} > "$report"
cat "$report"
exit "$status"
