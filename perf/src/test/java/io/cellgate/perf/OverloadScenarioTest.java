package io.cellgate.perf;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The overload scenario, short: the sample AO made slow (bounded capacity), driven at 2x capacity
 * with P0..P3 in equal shares, shedding on. The full runs (1.5x and 2x, shedding on and off) are
 * {@code perf/run-overload.sh}; their report is in perf/results/.
 */
class OverloadScenarioTest {
    /**
     * Two seconds at 2x before the 6 s that count: on a cold JVM with one free core (another process
     * holding the other), the first seconds are the JIT's and the limit's convergence from its ceiling,
     * and measured they decided the outcome (goodput 0.45 in one such run, against 0.94-0.98 once settled).
     */
    private static final Duration SETTLE = Duration.ofSeconds(2);
    @Test
    void atTwiceCapacityP0IsServedAndGoodputStaysNearCapacity() throws Exception {
        OverloadScenario.Outcome o = OverloadScenario.run(OverloadScenario.Protection.TUNED_IN_FLIGHT,
                OverloadScenario.Mix.PRIORITIES, 2.0, SETTLE, Duration.ofSeconds(6), 50);
        System.out.println(OverloadScenario.row(o));
        assertThat(o.unanswered()).isZero();
        assertThat(o.successByPriority()[0]).as("P0 success").isGreaterThanOrEqualTo(0.999);
        assertThat(o.successByPriority()[3]).as("P3 is shed before P1").isLessThan(o.successByPriority()[1]);
        // The full-length runs measure 0.97 (perf/results/overload-*.md). A 6 s run spends a larger share
        // of its time converging, and this JVM (AO, gateway and 100 client connections offering 2,000
        // req/s, under paranoid leak detection) may have one core only when another process keeps the
        // other busy (0.45-0.73 measured so): the bound is the machine's, not the goal. Without shedding
        // goodput collapses to 0.13-0.2, so this still fails when shedding does not work.
        assertThat(o.goodputRatio()).as("goodput / capacity").isGreaterThanOrEqualTo(0.4);
        // Admitted requests do not wait for the 2 s timeout: the queue at the AO stays short.
        assertThat(o.admittedLatencyMicros().getValueAtPercentile(99)).as("admitted p99 (us)").isLessThan(1_000_000);
    }

    @Test
    void theSetsAdaptiveLimitKeepsGoodputAndP0WithoutTakingTheSetDown() throws Exception {
        OverloadScenario.Outcome o = OverloadScenario.run(OverloadScenario.Protection.SET_LIMIT,
                OverloadScenario.Mix.WRITES_AND_READS, 2.0, SETTLE, Duration.ofSeconds(6), 50);
        System.out.println(OverloadScenario.row(o));
        assertThat(o.unanswered()).isZero();
        assertThat(o.successByPriority()[0]).as("P0 write success").isGreaterThanOrEqualTo(0.999);
        // Full-length runs measure 0.98 (perf/results/overload-*.md); a 6 s run on a shared machine gets
        // the same slack as above (busy-core runs measured 0.49 and 0.73), and without protection goodput
        // collapses to 0.13.
        assertThat(o.goodputRatio()).as("goodput / capacity").isGreaterThanOrEqualTo(0.4);
        assertThat(o.healthChanges()).as("set health changes").isZero();
        assertThat(o.codes()[io.cellgate.protocol.v1.Code.NO_ROUTE_VALUE]).as("NO_ROUTE").isZero();
    }
}
