package io.cellgate.limit;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A retry budget in the style of gRPC's retry throttling and Finagle's: every request earns
 * {@code ratio} of a token, every retry spends one. The balance is capped at {@code ratio} of the
 * requests of the last {@code window} (at the request rate of the last whole second), or at
 * {@code max} when that is more: so retries stay within about {@code ratio} of the traffic and a
 * failing backend cannot be hammered by retries, while the calls in flight to a backend that dies at
 * once (a burst that grows with the traffic) can all be retried. Thread-safe, lock-free, no allocation.
 */
public final class RetryBudget {
    private static final long SCALE = 1000;
    private static final long SECOND = 1_000_000_000L;
    private final long earnPerRequest;
    private final long max;
    private final long windowSeconds;
    private final AtomicLong balance;
    /** Requests counted since {@link #second} began. */
    private final LongAdder requests = new LongAdder();
    private final AtomicLong second = new AtomicLong(Long.MIN_VALUE);
    /** The balance's current cap, scaled. */
    private volatile long cap;

    /**
     * @param ratio retries allowed per request over time, e.g. 0.1
     * @param max   the most tokens saved up at any rate (and the starting balance)
     */
    public RetryBudget(double ratio, int max) {
        this(ratio, max, 10);
    }

    /**
     * @param ratio         retries allowed per request over time, e.g. 0.1
     * @param max           the most tokens saved up at any rate (and the starting balance)
     * @param windowSeconds the cap is {@code ratio} of this many seconds of requests when that is more than {@code max}
     */
    public RetryBudget(double ratio, int max, long windowSeconds) {
        if (!(ratio >= 0 && ratio <= 1) || max < 0 || windowSeconds < 0) {
            throw new IllegalArgumentException("retry budget: ratio " + ratio + ", max " + max + ", window " + windowSeconds
                    + " s (expected: ratio in 0..1, max >= 0, window >= 0)");
        }
        this.earnPerRequest = Math.round(ratio * SCALE);
        this.max = max * SCALE;
        this.windowSeconds = windowSeconds;
        this.cap = this.max;
        this.balance = new AtomicLong(this.max);
    }

    /** A request was sent at {@code nowNanos} ({@link System#nanoTime}): earn a fraction of a token. */
    public void onRequest(long nowNanos) {
        long s = nowNanos / SECOND;
        long current = second.get();
        if (s != current && second.compareAndSet(current, s)) {
            // The first request of a new second sets the cap from the rate since the last one.
            long elapsed = current == Long.MIN_VALUE ? 1 : Math.max(1, s - current);
            long perSecond = requests.sumThenReset() / elapsed;
            cap = Math.max(max, earnPerRequest * perSecond * windowSeconds);
        }
        requests.increment();
        long limit = cap;
        long b;
        do {
            b = balance.get();
            if (b >= limit) {
                return;
            }
        } while (!balance.compareAndSet(b, Math.min(limit, b + earnPerRequest)));
    }

    /** Spends one token for a retry; false when the budget is spent. */
    public boolean tryRetry() {
        long b;
        do {
            b = balance.get();
            if (b < SCALE) {
                return false;
            }
        } while (!balance.compareAndSet(b, b - SCALE));
        return true;
    }

    /** Whole retries the balance holds now. */
    public long available() {
        return balance.get() / SCALE;
    }
}
