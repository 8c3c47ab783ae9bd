package io.cellgate.limit;

/**
 * A token bucket for one thread: the same GCRA as {@link TokenBucket}, without atomics. Used where
 * the state is confined, e.g. a connection's pushes on its event loop.
 */
public final class LocalTokenBucket {
    private final NanoClock clock;
    private final GcraRate rate;
    private long theoreticalArrival;

    public LocalTokenBucket(double ratePerSecond, int burst, NanoClock clock) {
        this.rate = new GcraRate(ratePerSecond, burst);
        this.clock = clock;
        this.theoreticalArrival = clock.nanoTime();
    }

    /** Takes one token if one is available now. */
    public boolean tryAcquire() {
        return tryAcquire(clock.nanoTime());
    }

    /** Takes one token if one is available at {@code now}, a reading of this bucket's clock. */
    public boolean tryAcquire(long now) {
        long next = rate.next(theoreticalArrival, now);
        if (next == GcraRate.REFUSED) {
            return false;
        }
        theoreticalArrival = next;
        return true;
    }
}
