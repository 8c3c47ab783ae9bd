package io.cellgate.limit;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A retry budget in the style of gRPC's retry throttling: every request earns {@code ratio} of a
 * token, every retry spends one, and the balance is capped at {@code max}. So retries stay within
 * about {@code ratio} of the traffic, and a failing backend cannot be hammered by retries.
 * Thread-safe, lock-free, no allocation.
 */
public final class RetryBudget {
    private static final long SCALE = 1000;
    private final long earnPerRequest;
    private final long max;
    private final AtomicLong balance;

    /**
     * @param ratio retries allowed per request over time, e.g. 0.1
     * @param max   the most tokens saved up (and the starting balance)
     */
    public RetryBudget(double ratio, int max) {
        if (!(ratio >= 0 && ratio <= 1) || max < 0) {
            throw new IllegalArgumentException("retry budget: ratio " + ratio + ", max " + max
                    + " (expected: ratio in 0..1, max >= 0)");
        }
        this.earnPerRequest = Math.round(ratio * SCALE);
        this.max = max * SCALE;
        this.balance = new AtomicLong(this.max);
    }

    /** A request was sent: earn a fraction of a token. */
    public void onRequest() {
        long b;
        do {
            b = balance.get();
            if (b >= max) {
                return;
            }
        } while (!balance.compareAndSet(b, Math.min(max, b + earnPerRequest)));
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
}
