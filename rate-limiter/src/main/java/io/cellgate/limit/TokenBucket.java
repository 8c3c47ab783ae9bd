package io.cellgate.limit;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A token bucket of {@code ratePerSecond} tokens per second holding at most {@code burst} tokens,
 * implemented as the generic cell rate algorithm (GCRA): one {@code long} holds the theoretical
 * arrival time (TAT) of the next request. A request is admitted when {@code now >= TAT - tolerance},
 * where {@code tolerance = (burst - 1) x interval}; it then advances TAT by one interval.
 *
 * <p>Thread-safe and lock-free: one CAS per admitted request, no allocation. Any number of threads may
 * call {@link #tryAcquire()}.
 */
public final class TokenBucket {
    private final NanoClock clock;
    private final long intervalNanos;
    private final long toleranceNanos;
    private final AtomicLong theoreticalArrival;

    /**
     * @param ratePerSecond tokens added per second, &gt; 0 and &lt;= 1e9
     * @param burst         the bucket's capacity, &gt;= 1: this many requests pass at once from full
     * @param clock         monotonic time source
     */
    public TokenBucket(double ratePerSecond, int burst, NanoClock clock) {
        validate(ratePerSecond, burst);
        this.clock = clock;
        this.intervalNanos = Math.max(1L, Math.round(1e9 / ratePerSecond));
        this.toleranceNanos = (burst - 1) * intervalNanos;
        // TAT = now: the bucket starts full, the first `burst` requests pass at once.
        this.theoreticalArrival = new AtomicLong(clock.nanoTime());
    }

    /** Takes one token if one is available now. */
    public boolean tryAcquire() {
        return tryAcquire(clock.nanoTime());
    }

    /**
     * Takes one token if one is available at {@code nowNanos}, a reading of this bucket's clock taken
     * by the caller: an event loop reads the clock once for a whole batch of requests.
     */
    public boolean tryAcquire(long nowNanos) {
        long now = nowNanos;
        while (true) {
            long tat = theoreticalArrival.get();
            if (now - (tat - toleranceNanos) < 0) {
                return false;
            }
            // max(tat, now): an idle bucket does not fill past `burst`.
            long next = (now - tat > 0 ? now : tat) + intervalNanos;
            if (theoreticalArrival.compareAndSet(tat, next)) {
                return true;
            }
        }
    }

    static void validate(double ratePerSecond, int burst) {
        if (!(ratePerSecond > 0 && ratePerSecond <= 1e9)) {
            throw new IllegalArgumentException("rate: " + ratePerSecond + " (expected: > 0 and <= 1e9 per second)");
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst: " + burst + " (expected: >= 1)");
        }
    }

    public long intervalNanos() {
        return intervalNanos;
    }
}
