package io.cellgate.perf.bench;

import io.cellgate.limit.KeyedTokenBuckets;
import io.cellgate.limit.NanoClock;
import io.cellgate.limit.TokenBucket;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One admission decision of a shared rate limiter, in the same run: cellgate's {@link TokenBucket}
 * (GCRA, one CAS) and {@link KeyedTokenBuckets} (per user), Guava's {@code RateLimiter}, Resilience4j's
 * {@code RateLimiter} and Bucket4j. Every limiter allows 10^8 requests per second with a large burst,
 * so the decision path, not waiting, is measured. {@code cellgateTokenBucketBatchClock} shares one
 * clock reading among 16 decisions, as the gateway's event loops do per read batch;
 * {@code nanoTimeAlone} is the clock reading itself. Run with {@code -t 1} and {@code -t 2}.
 *
 * <p>{@code perf/run-jmh.sh RateLimiterBenchmark -prof gc -t 2}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class RateLimiterBenchmark {
    private static final double RATE = 1e8;
    private static final int BURST = 1_000_000;

    private TokenBucket cellgate;
    private KeyedTokenBuckets cellgatePerUser;
    private com.google.common.util.concurrent.RateLimiter guava;
    private RateLimiter resilience4j;
    private Bucket bucket4j;

    @State(Scope.Thread)
    public static class User {
        long uid = Thread.currentThread().getId() * 1_000_003L;
    }

    /** A clock reading shared by a batch of 16 decisions, as an event loop shares one per read batch. */
    @State(Scope.Thread)
    public static class BatchClock {
        int n;
        long now;

        long now() {
            if ((n++ & 15) == 0) {
                now = System.nanoTime();
            }
            return now;
        }
    }

    @Setup
    public void setUp() {
        cellgate = new TokenBucket(RATE, BURST, NanoClock.SYSTEM);
        cellgatePerUser = new KeyedTokenBuckets(1e6, BURST, 1 << 20, NanoClock.SYSTEM);
        guava = com.google.common.util.concurrent.RateLimiter.create(RATE);
        resilience4j = RateLimiter.of("bench", RateLimiterConfig.custom()
                .limitForPeriod((int) (RATE / 1000)).limitRefreshPeriod(Duration.ofMillis(1))
                .timeoutDuration(Duration.ZERO).build());
        bucket4j = Bucket.builder()
                .addLimit(Bandwidth.builder().capacity(BURST).refillGreedy((long) RATE, Duration.ofSeconds(1)).build())
                .build();
    }

    @Benchmark
    public boolean cellgateTokenBucket() {
        return cellgate.tryAcquire();
    }

    @Benchmark
    public boolean cellgateTokenBucketBatchClock(BatchClock clock) {
        return cellgate.tryAcquire(clock.now());
    }

    /** The cost of reading the clock alone, which every limiter here pays per decision. */
    @Benchmark
    public long nanoTimeAlone() {
        return System.nanoTime();
    }

    @Benchmark
    public boolean cellgatePerUserBucket(User user) {
        return cellgatePerUser.tryAcquire(user.uid++);
    }

    @Benchmark
    public boolean guava() {
        return guava.tryAcquire();
    }

    @Benchmark
    public boolean resilience4j() {
        return resilience4j.acquirePermission();
    }

    @Benchmark
    public boolean bucket4j() {
        return bucket4j.tryConsume(1);
    }
}
