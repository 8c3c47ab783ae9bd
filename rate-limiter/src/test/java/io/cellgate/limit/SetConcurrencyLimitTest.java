package io.cellgate.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.PriorityQueue;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The limit against a simulated set that does not protect itself: {@code servers} calls at once,
 * each taking {@code latency}, the rest waiting in a FIFO queue (as a saturated thread pool does).
 * Simulated time, so the figures are exact and the test is fast.
 */
class SetConcurrencyLimitTest {
    private static final long MS = 1_000_000L;
    /** The calls' deadline in the simulations (the queue the limit allows is far shorter). */
    private static final long DEADLINE_MS = 2_000;

    /** Outcome of a simulated run, over its last {@code measureMs}. */
    record Run(double goodputPerMs, double meanLatencyMs, double[] admittedByPriority, int limit) {
        @Override
        public String toString() {
            return String.format("goodput %.3f/ms, latency %.1f ms, admitted P0 %.4f P2 %.4f, limit %d", goodputPerMs, meanLatencyMs,
                    admittedByPriority[0], admittedByPriority[1], limit);
        }
    }

    /**
     * Offers {@code perMs} calls per millisecond for {@code ms}, a share {@code p0Share} of them P0 and the
     * rest P2, to a set of {@code servers} servers of {@code latencyMs} each.
     */
    static Run simulate(SetConcurrencyLimit limit, int servers, double latencyMs, double perMs, double p0Share, long ms, long measureMs) {
        return simulate(limit, servers, latencyMs, perMs, p0Share, 0, ms, measureMs);
    }

    /** As above, with simulated time starting at {@code fromMs} (a second run on the same limit). */
    static Run simulate(SetConcurrencyLimit limit, int servers, double latencyMs, double perMs, double p0Share, long fromMs, long ms,
                        long measureMs) {
        Random random = new Random(7);
        PriorityQueue<long[]> done = new PriorityQueue<>((a, b) -> Long.compare(a[0], b[0])); // {end, start, 1 for P0, stallAt}
        PriorityQueue<Long> free = new PriorityQueue<>();
        for (int i = 0; i < servers; i++) {
            free.add(fromMs * MS);
        }
        long ok = 0;
        double latencySum = 0;
        long[] offered = new long[2];
        long[] admitted = new long[2];
        double owed = 0;
        for (long t = fromMs; t < fromMs + ms; t++) {
            long now = t * MS;
            while (!done.isEmpty() && done.peek()[0] <= now) {
                long[] call = done.poll();
                limit.release(call[2] == 1 ? Priority.P0 : Priority.P2, call[0] - call[1], true, false, now, call[3]);
                if (t >= fromMs + ms - measureMs) {
                    ok++;
                    latencySum += (call[0] - call[1]) / (double) MS;
                }
            }
            owed += perMs;
            while (owed >= 1) {
                owed--;
                boolean p0 = random.nextDouble() < p0Share;
                int k = p0 ? 0 : 1;
                boolean measured = t >= fromMs + ms - measureMs;
                if (measured) {
                    offered[k]++;
                }
                if (limit.tryAcquire(p0 ? Priority.P0 : Priority.P2)) {
                    long stallAt = limit.started(now, now + DEADLINE_MS * MS);
                    if (measured) {
                        admitted[k]++;
                    }
                    long start = Math.max(now, free.poll());
                    long end = start + (long) (latencyMs * MS);
                    free.add(end);
                    done.add(new long[] {end, now, p0 ? 1 : 0, stallAt});
                }
            }
        }
        while (!done.isEmpty()) {
            long[] call = done.poll();
            limit.release(call[2] == 1 ? Priority.P0 : Priority.P2, call[0] - call[1], true, false, call[0], call[3]);
        }
        return new Run(ok / (double) measureMs, latencySum / Math.max(1, ok),
                new double[] {admitted[0] / (double) Math.max(1, offered[0]), admitted[1] / (double) Math.max(1, offered[1])},
                limit.limit());
    }

    /** The shipped defaults. */
    private static SetConcurrencyLimit limit() {
        return new SetConcurrencyLimit(new SetConcurrencyLimit.Settings(2000, 8, 2000, 2.0, 100 * MS), 0);
    }

    @Test
    void twiceItsCapacityOfferedTheSetServesAboutItsCapacityWithAShortQueueAndP0Served() {
        // 20 servers x 20 ms: 1 call per ms. Offered 2 per ms, 10% P0.
        Run run = simulate(limit(), 20, 20, 2.0, 0.1, 60_000, 30_000);
        System.out.println("set limit at 2x: " + run);
        assertThat(run.goodputPerMs()).isGreaterThan(0.9);
        // The queue it allows: what it takes to count as one (50 ms over the baseline), not the 2 s timeout.
        assertThat(run.meanLatencyMs()).isLessThan(20 + SetConcurrencyLimit.MIN_QUEUE_NANOS / MS + 30);
        assertThat(run.admittedByPriority()[0]).isGreaterThan(0.999);
        assertThat(run.limit()).isBetween(20, 120);
    }

    /**
     * Offers one P2 call per ms from {@code fromMs} for {@code ms} to a set that answers in 2 ms, except
     * from {@code stallFromMs} for {@code stallMs}, when it answers nothing (a hung process, or one that
     * just started and is not yet compiled); the calls' deadline is 1 s (a missed one is pushback).
     * Returns the calls admitted during the stall, those of them that missed their deadline, and the
     * share admitted in the last 500 ms.
     */
    private static double[] stall(SetConcurrencyLimit limit, long fromMs, long ms, long stallFromMs, long stallMs) {
        PriorityQueue<long[]> done = new PriorityQueue<>((a, b) -> Long.compare(a[0], b[0])); // {end, start, ok, stallAt}
        long admittedInStall = 0;
        long missed = 0;
        long offeredAtEnd = 0;
        long admittedAtEnd = 0;
        long stallEnd = stallFromMs + stallMs;
        for (long t = fromMs; t < fromMs + ms; t++) {
            long now = t * MS;
            while (!done.isEmpty() && done.peek()[0] <= now) {
                long[] call = done.poll();
                limit.release(Priority.P2, call[0] - call[1], call[2] == 1, call[2] == 0, call[0], call[3]);
            }
            boolean atEnd = t >= fromMs + ms - 500;
            offeredAtEnd += atEnd ? 1 : 0;
            if (limit.tryAcquire(Priority.P2)) {
                long stallAt = limit.started(now, now + 1000 * MS);
                admittedInStall += t >= stallFromMs && t < stallEnd ? 1 : 0;
                admittedAtEnd += atEnd ? 1 : 0;
                long end = (t >= stallEnd || t + 2 < stallFromMs ? t : stallEnd) + 2;
                boolean ok = end - t <= 1000;
                missed += ok ? 0 : 1;
                done.add(new long[] {(ok ? end : t + 1000) * MS, now, ok ? 1 : 0, stallAt});
            }
        }
        return new double[] {admittedInStall, missed, admittedAtEnd / (double) offeredAtEnd};
    }

    @Test
    void aSetThatAnswersNothingIsCutOnceItsCallsHaveWaitedHalfTheirTime() {
        // Learned from latency alone, the limit (2,000) would take every call of a stalled second: with a
        // 1 s deadline, about 1,000 of them would miss it. Once calls have waited half their time, the
        // limit is cut to what the set answers. Once the set answers again, it is offered everything again.
        SetConcurrencyLimit warm = limit();
        double[] run = stall(warm, 0, 6_000, 3_000, 1_000);
        System.out.printf("set limit, warm set stalled 1 s: admitted in the stall %.0f, missed their deadline %.0f, share admitted at the end %.2f%n",
                run[0], run[1], run[2]);
        assertThat(run[0]).isBetween(500.0, 700.0);
        assertThat(run[1]).isLessThan(200);
        assertThat(run[2]).isEqualTo(1.0);

        // A set that never answered a call (no latency known): its first calls are the stall.
        SetConcurrencyLimit cold = limit();
        run = stall(cold, 0, 4_000, 0, 1_000);
        System.out.printf("set limit, cold set stalled 1 s: admitted in the stall %.0f, missed their deadline %.0f, share admitted at the end %.2f%n",
                run[0], run[1], run[2]);
        assertThat(run[0]).isBetween(500.0, 700.0);
        assertThat(run[1]).isLessThan(200);
        assertThat(run[2]).isEqualTo(1.0);
    }

    /**
     * A burst to a set that never answered: 4 calls per ms for 250 ms (1,000 calls, as many clients
     * pipelining) to 20 servers of 9 ms (2.2 per ms) that take 90 ms a call in their first 100 ms (code
     * not yet compiled), so few calls finish at first and the last waits about 350 ms; the calls'
     * deadline is {@code deadlineMs}. Returns the calls refused.
     */
    private static long burst(long deadlineMs) {
        SetConcurrencyLimit limit = limit();
        PriorityQueue<long[]> done = new PriorityQueue<>((a, b) -> Long.compare(a[0], b[0])); // {end, start, stallAt}
        PriorityQueue<Long> free = new PriorityQueue<>();
        for (int i = 0; i < 20; i++) {
            free.add(0L);
        }
        for (long t = 0; t < 1000; t++) {
            long now = t * MS;
            while (!done.isEmpty() && done.peek()[0] <= now) {
                long[] call = done.poll();
                limit.release(Priority.P2, call[0] - call[1], true, false, call[0], call[2]);
            }
            for (int i = 0; i < 4 && t < 250; i++) {
                if (limit.tryAcquire(Priority.P2, 50)) {
                    long stallAt = limit.started(now, now + deadlineMs * MS);
                    long start = Math.max(now, free.poll());
                    long end = start + (start < 100 * MS ? 90 : 9) * MS;
                    free.add(end);
                    done.add(new long[] {end, now, stallAt});
                }
            }
        }
        return limit.refused();
    }

    @Test
    void aBurstThatAFreshSetWorksThroughWithinHalfItsCallsTimeIsNotAStall() {
        // Few of the calls that started finish at first: with a 1 s deadline no call waits half its time, and
        // the burst passes whole.
        assertThat(burst(1000)).isZero();
        // The same burst with calls of 300 ms: they wait past half their time while the set finishes fewer
        // than half of those that start, and the rest of the burst is refused rather than queued to miss it.
        long refused = burst(300);
        System.out.println("set limit, a cold burst with 300 ms deadlines: refused " + refused + " of 1000");
        assertThat(refused).isPositive();
    }

    @Test
    void aFreshSlowSetIsNotMistakenForAStalledOne() {
        // 200 ms a call, a call per ms offered, 400 servers: nothing queues; its first 200 ms answer nothing
        // because nothing has taken 200 ms yet, not because it stalls.
        SetConcurrencyLimit limit = limit();
        Run run = simulate(limit, 400, 200, 1.0, 0.1, 10_000, 10_000);
        assertThat(run.admittedByPriority()).containsExactly(1.0, 1.0);
        assertThat(limit.refused()).isZero();
    }

    @Test
    void belowItsCapacityNothingIsRefusedAndTheLimitStaysPut() {
        SetConcurrencyLimit limit = limit();
        Run run = simulate(limit, 20, 20, 0.5, 0.1, 20_000, 10_000);
        assertThat(run.admittedByPriority()).containsExactly(1.0, 1.0);
        assertThat(limit.refused()).isZero();
        assertThat(run.limit()).isEqualTo(2000);
        assertThat(limit.baselineNanos()).isEqualTo(20 * MS, org.assertj.core.data.Offset.offset(1.0 * MS));
    }

    @Test
    void aSetThatBecameSlowerForGoodGetsItsNewLatencyAsBaselineAndServesAgain() {
        SetConcurrencyLimit limit = limit();
        simulate(limit, 20, 2, 5.0, 0.1, 20_000, 10_000);
        // Ten times slower: capacity 1 per ms. After the old baseline ages out it serves about that.
        Run run = simulate(limit, 20, 20, 2.0, 0.1, 30_000, 60_000, 20_000);
        System.out.println("set limit after a 10x slowdown: " + run);
        assertThat(run.goodputPerMs()).isGreaterThan(0.85);
        assertThat(run.admittedByPriority()[0]).isGreaterThan(0.99);
    }

    @Test
    void afterTheStormACalmSetsLimitReturnsToTheCeilingSoTheNextBurstPasses() {
        SetConcurrencyLimit limit = limit();
        Run storm = simulate(limit, 20, 20, 2.0, 0.1, 0, 20_000, 10_000);
        assertThat(storm.limit()).isLessThan(200);
        Run calm = simulate(limit, 20, 20, 0.3, 0.1, 20_000, 10_000, 5_000);
        assertThat(calm.admittedByPriority()).containsExactly(1.0, 1.0);
        assertThat(limit.limit()).isEqualTo(2000);
    }

    @Test
    void aFreshLimitLetsABurstToAFastSetThrough() {
        SetConcurrencyLimit limit = limit();
        for (int i = 0; i < 1000; i++) {
            assertThat(limit.tryAcquire(Priority.P1)).isTrue();
        }
    }

    @Test
    void pushbackCutsTheLimitByATenth() {
        SetConcurrencyLimit limit = new SetConcurrencyLimit(new SetConcurrencyLimit.Settings(100, 8, 1000, 2.0, 100 * MS), 0);
        for (int i = 0; i < 100; i++) {
            assertThat(limit.tryAcquire(Priority.P0)).isTrue();
        }
        for (int i = 0; i < 99; i++) {
            limit.release(Priority.P0, MS, false, true, 50 * MS, SetConcurrencyLimit.NOT_STARTED);
        }
        limit.release(Priority.P0, MS, false, true, 100 * MS, SetConcurrencyLimit.NOT_STARTED);
        assertThat(limit.limit()).isEqualTo(90);
    }

    @Test
    void atTheLimitTheLowerPrioritiesAreRefusedFirst() {
        SetConcurrencyLimit limit = new SetConcurrencyLimit(new SetConcurrencyLimit.Settings(100, 8, 1000, 2.0, 100 * MS), 0);
        int p3 = 0;
        while (limit.tryAcquire(Priority.P3)) {
            p3++;
        }
        int p2 = 0;
        while (limit.tryAcquire(Priority.P2)) {
            p2++;
        }
        int p0 = 0;
        while (limit.tryAcquire(Priority.P0)) {
            p0++;
        }
        // P3 fills its 55%, P2 the rest of its 70%; P0 then has twice the limit of its own.
        assertThat(new int[] {p3, p2, p0}).containsExactly(55, 15, 200);
        assertThat(limit.inFlight()).isEqualTo(270);
    }

    @Test
    void aHeavyConnectionIsRefusedAtItsPrioritysShareAndLightOnesHaveRoomPastIt() {
        SetConcurrencyLimit limit = new SetConcurrencyLimit(new SetConcurrencyLimit.Settings(100, 8, 1000, 2.0, 100 * MS), 0);
        assertThat(limit.perConnection()).isEqualTo(25);
        // One connection pipelining: light for its first 25 calls, then heavy; it may fill P1's 85%.
        int held = 0;
        while (limit.tryAcquire(Priority.P1, held)) {
            held++;
        }
        assertThat(held).as("one connection's calls").isEqualTo(85);
        // Light connections still get in, up to the room past the share.
        int light = 0;
        while (limit.tryAcquire(Priority.P1, 0)) {
            light++;
        }
        assertThat(light).isEqualTo(25);
        assertThat(limit.tryAcquire(Priority.P1, 3)).as("light, but the room is full").isFalse();
        assertThat(limit.refused()).isEqualTo(3);

        // Pushback cuts the limit by a tenth: the share follows it.
        for (int i = 0; i < 109; i++) {
            limit.release(Priority.P1, MS, false, true, 50 * MS, SetConcurrencyLimit.NOT_STARTED);
        }
        limit.release(Priority.P1, MS, false, true, 100 * MS, SetConcurrencyLimit.NOT_STARTED);
        assertThat(limit.limit()).isEqualTo(90);
        assertThat(limit.perConnection()).isEqualTo(22);
    }

    @Test
    void aSmallLimitStillCountsAFewCallsAsLight() {
        SetConcurrencyLimit limit = new SetConcurrencyLimit(new SetConcurrencyLimit.Settings(8, 8, 1000, 2.0, 100 * MS), 0);
        assertThat(limit.perConnection()).isEqualTo(4);
        SetConcurrencyLimit tiny = new SetConcurrencyLimit(new SetConcurrencyLimit.Settings(2, 2, 1000, 2.0, 100 * MS), 0);
        assertThat(tiny.perConnection()).as("never more than the limit's minimum").isEqualTo(2);
        SetConcurrencyLimit none = new SetConcurrencyLimit(new SetConcurrencyLimit.Settings(100, 8, 1000, 2.0, 100 * MS, 0), 0);
        assertThat(none.perConnection()).isZero();
        int admitted = 0;
        while (none.tryAcquire(Priority.P1, 0)) {
            admitted++;
        }
        assertThat(admitted).as("no connection is light: P1's share and no more").isEqualTo(85);
    }
}
