package io.cellgate.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition with a deadline and says what was awaited when it does not come: the one way
 * tests wait, instead of fixed sleeps or loops of their own. Deadlines are generous (a loaded 2-core
 * machine can stall for seconds); a condition that holds returns at once.
 */
public final class Await {
    /** The default deadline: far above what any awaited condition takes on a quiet machine. */
    public static final Duration DEFAULT = Duration.ofSeconds(30);
    private static final long POLL_MILLIS = 5;

    private Await() {
    }

    /** Waits up to {@link #DEFAULT} for {@code condition}; fails with {@code what} when it never holds. */
    public static void until(String what, BooleanSupplier condition) {
        until(what, DEFAULT, condition);
    }

    /** Waits up to {@code timeout} for {@code condition}; fails with {@code what} when it never holds. */
    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        until(what, timeout, condition, () -> "");
    }

    /**
     * Waits up to {@code timeout} for {@code condition}; when it never holds, fails with {@code what}
     * and the {@code state} at the deadline (what was seen instead).
     */
    public static void until(String what, Duration timeout, BooleanSupplier condition, Supplier<?> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                Object seen = state.get();
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: " + what
                        + (seen == null || seen.toString().isEmpty() ? "" : " (seen: " + seen + ")"));
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for: " + what, e);
            }
        }
    }

    /**
     * Checks {@code condition} throughout {@code period} (for what must not happen: it fails at the
     * first moment the condition does not hold, with {@code what}).
     */
    public static void holdsFor(String what, Duration period, BooleanSupplier condition) {
        long end = System.nanoTime() + period.toNanos();
        do {
            if (!condition.getAsBoolean()) {
                throw new AssertionError("no longer holds: " + what);
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while checking: " + what, e);
            }
        } while (System.nanoTime() - end < 0);
    }
}
