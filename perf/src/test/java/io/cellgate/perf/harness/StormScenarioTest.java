package io.cellgate.perf.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.cellgate.testkit.StartsProcesses;

/**
 * The reconnect storm, short: 2,000 clients from two generator processes at once against accept and
 * login limits of 500/s, while 50 connected clients send 500 requests/s. The full run (to the
 * open-file limit) is {@code perf/run storm}.
 */
@StartsProcesses
class StormScenarioTest {
    @Test
    void theLimitsHoldConnectedClientsAreServedAndEveryStormClientGetsIn(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("storm-smoke.md");
        StormScenario.Outcome o = new StormScenario("2000", 2, 500, 500, report,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).run();
        assertThat(o.loggedIn()).as("every storm client gets in").isEqualTo(2000);
        assertThat(o.gatewayAcceptsRefused() + o.gatewayLoginsRefused()).as("the limits held").isPositive();
        assertThat(o.refusals()).isPositive();
        assertThat(o.during().unanswered()).as("connected clients' requests left unanswered during the storm").isZero();
        // Every request is answered. The generator processes start on the gateway's own 2 cores here, and while their
        // JVMs compile, the gateway's overload control may shed a few connected requests (a defined answer, counted).
        assertThat((double) o.during().ok()).as("connected clients answered OK during the storm")
                .isGreaterThanOrEqualTo(0.95 * o.during().sent());
        // Their median: 1-2 ms on a quiet machine (perf/results/storm-*.md), 121 ms measured with one of the two cores
        // held by another process while the generators' JVMs compiled on the other. A loop stalled by the storm's
        // accepts or logins holds its connected clients for the storm's seconds.
        assertThat(o.during().latencyMicros().getValueAtPercentile(50) / 1000.0).as("their median (ms)").isLessThan(250);
        assertThat(Files.readString(report)).contains("| 2,000 | 2,000 |");
    }
}
