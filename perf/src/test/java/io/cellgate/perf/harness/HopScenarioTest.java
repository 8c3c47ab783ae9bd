package io.cellgate.perf.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.cellgate.testkit.StartsProcesses;

/**
 * The hop scenario, short (two low rates, one second each, and one closed-loop run): the real AO,
 * gatewayd and nginx processes, both load generator front ends, the CPU readings, the JFR profile
 * and the report with its plots, so the harness keeps working. The full run is {@code perf/run hop}.
 */
@StartsProcesses
class HopScenarioTest {
    @Test
    void everyPathIsMeasuredAndReported(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("hop-smoke.md");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        HopScenario hop = new HopScenario(List.of(300, 600), Duration.ofSeconds(1), 4, 64, 2, report,
                new PrintStream(log, true, StandardCharsets.UTF_8)).closedLoop(8, 1);
        List<HopScenario.Step> steps = hop.run();

        // Every path at the first rate; at the second, each path whose first step was sustained (the
        // harness stops a path at its first unsustained step, which a loaded test machine can cause).
        assertThat(steps.subList(0, 3)).extracting(HopScenario.Step::path).containsExactly("direct", "nginx", "cellgate");
        List<String> sustained = steps.subList(0, 3).stream().filter(HopScenario.Step::sustained).map(HopScenario.Step::path).toList();
        assertThat(steps.subList(3, steps.size())).extracting(HopScenario.Step::path).containsExactlyElementsOf(sustained);
        for (HopScenario.Step s : steps) {
            assertThat(s.ok()).as(s.path() + " at " + s.offered()).isGreaterThanOrEqualTo((long) (s.offered() * 0.9));
            assertThat(s.failed()).as(s.path()).isZero();
            assertThat(s.aoCpuUs()).as("AO CPU per request, " + s.path()).isPositive();
            if (!s.path().equals("direct")) {
                assertThat(s.proxyCpuUs()).as("proxy CPU per request, " + s.path()).isPositive();
            }
        }
        // One closed-loop run: every path in turn with 8 requests in flight (2 on each of its 4 connections).
        assertThat(hop.closedSteps()).extracting(HopScenario.Step::path).containsExactly("direct", "nginx", "cellgate");
        for (HopScenario.Step s : hop.closedSteps()) {
            assertThat(s.ok()).as("closed loop, " + s.path()).isPositive();
            assertThat(s.failed()).as("closed loop, " + s.path()).isZero();
        }
        String md = Files.readString(report);
        assertThat(md).contains("| P1 |", "| P2 |", "nginx", "![latency percentiles]", "| P2 | closed loop, 8 requests in flight",
                "(JIT ", "## Warm-up (not judged)",
                "## Closed loop: 8 requests in flight on each path");
        // The gateway is profiled at 75% of the highest rate it sustained: when a loaded machine let it
        // sustain none (a cold JVM's first second), the report says so instead.
        boolean cellgateSustained = steps.stream().anyMatch(s -> s.path().equals("cellgate") && s.sustained());
        assertThat(md).contains(cellgateSustained ? "execution samples" : "(no profile was taken)");
        Path data = dir.resolve("hop-smoke");
        assertThat(data.resolve("latency-percentiles.svg")).content().startsWith("<svg").contains("cellgate", "nginx", "direct");
        assertThat(data.resolve("p99-by-rate.svg")).exists();
        assertThat(data.resolve("summary.json")).content().contains("\"path\": \"cellgate\"");
        long lastCellgateRate = steps.stream().filter(s -> s.path().equals("cellgate")).mapToLong(s -> (long) s.offered()).max().orElseThrow();
        assertThat(data.resolve("cellgate-" + lastCellgateRate + ".hgrm")).content().contains("Value     Percentile");
    }
}
