package io.cellgate.perf.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import io.cellgate.testkit.StartsProcesses;

/**
 * The soak, short: 50 seconds with 500 idle connections, 600 requests/s in 5-second windows, churn,
 * a route change every 3 seconds and sz-a's AO killed for 6 seconds in the middle, the gateway under
 * paranoid leak detection. The full run (30 minutes, 10k connections, half the capacity) is
 * {@code perf/run soak}; its report is in {@code perf/results/}.
 */
@StartsProcesses
class SoakScenarioTest {
    @Test
    @Timeout(300)
    void nothingIsLostAndTheGatewaysFootprintIsWhereItStarted(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("soak-smoke.md");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SoakScenario.Plan plan = new SoakScenario.Plan(Duration.ofSeconds(50), 500, 600, 20, Duration.ofSeconds(5),
                Duration.ofSeconds(3), Duration.ofSeconds(6), 10, true, report);
        SoakScenario.Outcome o = new SoakScenario(plan, new PrintStream(log, true, StandardCharsets.UTF_8)).run();
        String progress = log.toString(StandardCharsets.UTF_8);

        assertThat(o.samples()).as(progress).hasSizeGreaterThanOrEqualTo(6);
        assertThat(o.unanswered()).as("requests never answered").isZero();
        assertThat(o.idleHeld()).as("idle connections held to the end").isEqualTo(500);
        assertThat(o.idleLost()).as("idle connections the gateway closed").isZero();
        assertThat(o.pongs()).as("idle connections pinged and were answered").isPositive();
        // Reads of the killed set are retried once on its peer; writes caught in flight by the kill fail (at most once).
        // Judged on what the gateway admitted: on a small machine where every JVM of the run starts cold, the
        // gateway may shed for a moment (a defined, immediate answer), and that share is reported.
        assertThat((double) o.readsOk()).as(progress).isGreaterThanOrEqualTo(0.99 * (o.readsSent() - o.readsShed()));
        assertThat((double) o.writesOk()).as(progress).isGreaterThanOrEqualTo(0.95 * (o.writesSent() - o.writesShed()));
        // How much is shed depends on the CPU the machine has left (with one of two cores held by another
        // process, 53% in one run): no bound on it here; but at least a quarter of all requests must be answered
        // OK, or "nothing lost" says little.
        assertThat((double) (o.readsOk() + o.writesOk())).as("answered OK, of all requests: " + progress)
                .isGreaterThanOrEqualTo(0.25 * (o.readsSent() + o.writesSent()));
        assertThat(o.events()).as("sz-a went DOWN and came back UP").anyMatch(e -> e.contains("sz-a DOWN after"))
                .anyMatch(e -> e.contains("sz-a UP again after"));
        assertThat(o.routeChanges()).isGreaterThanOrEqualTo(10);
        assertThat(o.routeChangesFailed()).as("route changes failed: %s", o.events()).isZero();
        assertThat(o.churned()).isPositive();
        assertThat(o.churnFailed()).as("churn connections failed (login or an answer missing): %s %s", o.events(), progress).isZero();
        assertThat(o.leaks()).isZero();
        assertThat(o.leakInLog()).isFalse();
        // Flat: with no load, what the gateway holds at the end is what it held at the start, within a margin
        // (the restarted AO's new connection, pool growth to the run's peak concurrency).
        assertThat(o.end().fds()).as("open files").isLessThanOrEqualTo(o.start().fds() + 10);
        assertThat(o.end().liveHeap()).as("live heap").isLessThanOrEqualTo(o.start().liveHeap() + (32L << 20));
        assertThat(o.end().direct()).as("Netty direct memory").isLessThanOrEqualTo(Math.max(2 * o.start().direct(),
                o.start().direct() + (16L << 20)));
        assertThat(o.end().threads()).as("threads").isLessThanOrEqualTo(o.start().threads() + 4);
        assertThat(Files.readString(report)).contains("## Every window").contains("sz-a's AO killed")
                .contains("- set limits cut for a stall (calls waiting half their time): " + o.stallCuts());
    }
}
