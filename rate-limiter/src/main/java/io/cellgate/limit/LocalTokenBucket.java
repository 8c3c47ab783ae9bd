package io.cellgate.limit;

/**
 * A token bucket for one thread: the same GCRA as {@link TokenBucket}, without atomics. Used where
 * the state is confined, e.g. a connection's inbound message limit on its event loop.
 */
public final class LocalTokenBucket {
    private final NanoClock clock;
    private final long intervalNanos;
    private final long toleranceNanos;
    private long theoreticalArrival;

    public LocalTokenBucket(double ratePerSecond, int burst, NanoClock clock) {
        TokenBucket.validate(ratePerSecond, burst);
        this.clock = clock;
        this.intervalNanos = Math.max(1L, Math.round(1e9 / ratePerSecond));
        this.toleranceNanos = (burst - 1) * intervalNanos;
        this.theoreticalArrival = clock.nanoTime();
    }

    /** Takes one token if one is available now. */
    public boolean tryAcquire() {
        return tryAcquire(clock.nanoTime());
    }

    /** Takes one token if one is available at {@code now}, a reading of this bucket's clock. */
    public boolean tryAcquire(long now) {
        long tat = theoreticalArrival;
        if (now - (tat - toleranceNanos) < 0) {
            return false;
        }
        theoreticalArrival = (now - tat > 0 ? now : tat) + intervalNanos;
        return true;
    }
}
