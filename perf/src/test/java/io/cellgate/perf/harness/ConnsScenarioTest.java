package io.cellgate.perf.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.cellgate.testkit.StartsProcesses;

/**
 * The connections scenario, short (100 and 300 connections): a gatewayd process and a plain Netty
 * server filled by generator processes from two source addresses, measured with jcmd and /proc, and
 * reported. The full run (to the open-file limit) is {@code perf/run conns}.
 */
@StartsProcesses
class ConnsScenarioTest {
    @Test
    void bothServersAreFilledMeasuredAndReported(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("conns-smoke.md");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<ConnsScenario.Level> levels = new ConnsScenario(List.of("100", "300"), 1, report,
                new PrintStream(log, true, StandardCharsets.UTF_8)).run();

        assertThat(levels).extracting(ConnsScenario.Level::connections).containsExactly(0, 100, 300, 0, 100, 300);
        for (ConnsScenario.Level l : levels) {
            assertThat(l.heapUsed()).as(l.server()).isPositive();
            assertThat(l.rss()).as(l.server()).isPositive();
            assertThat(l.idleCpu()).as(l.server() + " idle CPU, cores").isBetween(0.0, 2.0);
        }
        ConnsScenario.Level gateway300 = levels.get(2);
        ConnsScenario.Level gateway0 = levels.get(0);
        assertThat(gateway300.heapUsed()).as("logged-in connections take heap").isGreaterThan(gateway0.heapUsed());
        String md = Files.readString(report);
        assertThat(md).contains("| P3 |", "Projection to 1M connections", "### cellgate", "### plain Netty");
        assertThat(dir.resolve("conns-smoke").resolve("heap-by-connections.svg")).content().startsWith("<svg");
    }
}
