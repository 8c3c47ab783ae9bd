#!/usr/bin/env bash
# The long fuzzing run of the client pipeline (ClientPipelineLongFuzz: frame decoder, accept, heartbeat,
# login and error steps on an EmbeddedChannel), 30 minutes as the test says; writes
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
inputs=$(grep -o 'client pipeline fuzzing: [0-9]* inputs run' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
done_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -1 || true)
leaks=$(grep -c 'LEAK:' "$log" || true)
{
  echo "# Fuzzing the client pipeline, $(date +%F)"
  echo
  echo "Command: \`perf/run-fuzz.sh\` (JAZZER_FUZZ=1, ClientPipelineLongFuzz, maxDuration 30m)."
  echo "Machine: $(nproc) cores, $(uname -sr), $(java -version 2>&1 | head -1)."
  echo
  echo "| inputs run | wall time | libFuzzer | crashes or failed checks | leaks reported | exit |"
  echo "|---|---|---|---|---|---|"
  echo "| ${inputs} | ${seconds} s | ${done_line:-(no summary line)} | $([ "$status" -eq 0 ] && echo none || echo 'see the log') | ${leaks} | ${status} |"
  echo
  echo "Target: the bytes a client sends before a login succeeds, in fuzzed chunks, through the frame decoder, the"
  echo "accept step, heartbeats, the login step (token parsing and verification, requests before login) and the"
  echo "error step of a real gateway's context, with paranoid leak detection. Each input must end without an"
  echo "unexpected error, every byte written back must parse as a ServerFrame, and nothing may leak."
} > "$report"
cat "$report"
exit "$status"
