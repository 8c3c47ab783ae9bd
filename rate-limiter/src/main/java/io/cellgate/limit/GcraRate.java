package io.cellgate.limit;

/**
 * A rate and burst in GCRA's terms, immutable and shared: each holder of a bucket of this rate keeps
 * only its theoretical arrival time, one {@code long}, and calls {@link #next}. The same algorithm as
 * {@link TokenBucket}, for state confined to one thread: a connection's request rate costs its session
 * eight bytes instead of a bucket object each.
 */
public final class GcraRate {
    /** What {@link #next} answers when no token is available. */
    public static final long REFUSED = Long.MIN_VALUE;

    private final long intervalNanos;
    private final long toleranceNanos;

    public GcraRate(double ratePerSecond, int burst) {
        TokenBucket.validate(ratePerSecond, burst);
        this.intervalNanos = Math.max(1L, Math.round(1e9 / ratePerSecond));
        this.toleranceNanos = (burst - 1) * intervalNanos;
    }

    /**
     * Takes one token at {@code now} from a bucket whose theoretical arrival time is {@code tat} (a new,
     * full bucket's is the time it was made).
     *
     * @return the bucket's theoretical arrival time after the take, or {@link #REFUSED} (the bucket
     *         unchanged): never {@code REFUSED} otherwise, as long as the clock is not within one
     *         interval of {@code Long.MIN_VALUE}
     */
    public long next(long tat, long now) {
        if (now - (tat - toleranceNanos) < 0) {
            return REFUSED;
        }
        return (now - tat > 0 ? now : tat) + intervalNanos;
    }
}
