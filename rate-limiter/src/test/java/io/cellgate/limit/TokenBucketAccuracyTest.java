package io.cellgate.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Over T = 10 s of simulated time, a bucket of R/s admits R x T + burst within 2%, whether requests
 * arrive steadily or in bursts (whose size per period fits the bucket), from one thread or two. The simulated clock advances in 1 ms steps;
 * with two threads, both offer their share of each step before the clock moves on.
 */
class TokenBucketAccuracyTest {
    private static final long STEP_NANOS = 1_000_000;
    private static final int STEPS = 10_000;

    @ParameterizedTest(name = "rate {0}/s burst {1}, {2} threads, {3} arrivals")
    @CsvSource({
        "1000, 50, 1, steady", "1000, 50, 2, steady", "1000, 50, 1, bursty", "1000, 50, 2, bursty",
        "25000, 500, 1, steady", "25000, 500, 2, bursty", "7, 2, 1, steady", "7, 2, 2, bursty"})
    void admitsRateTimesDurationPlusBurst(double rate, int burst, int threads, String arrivals) throws Exception {
        AtomicLong now = new AtomicLong(5_000_000_000L);
        TokenBucket bucket = new TokenBucket(rate, burst, now::get);
        AtomicLong admitted = new AtomicLong();
        CyclicBarrier stepDone = new CyclicBarrier(threads, () -> now.addAndGet(STEP_NANOS));
        // Offered: 10x the rate in total. Steady: every step. Bursty: every 10th step, 10 steps' worth
        // at once (a burst of the offered load that fits the bucket's capacity).
        double offeredPerStepPerThread = 10 * rate / 1000.0 / threads;
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            workers[t] = new Thread(() -> {
                double owed = 0;
                try {
                    for (int step = 0; step < STEPS; step++) {
                        owed += offeredPerStepPerThread;
                        boolean send = arrivals.equals("steady") || step % 10 == 9;
                        if (send) {
                            for (; owed >= 1; owed--) {
                                if (bucket.tryAcquire()) {
                                    admitted.incrementAndGet();
                                }
                            }
                        }
                        stepDone.await();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            workers[t].start();
        }
        for (Thread w : workers) {
            w.join(60_000);
        }
        double expected = rate * STEPS * STEP_NANOS / 1e9 + burst;
        assertThat((double) admitted.get()).isBetween(expected * 0.98, expected * 1.02);
    }
}
