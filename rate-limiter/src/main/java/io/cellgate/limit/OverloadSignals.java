package io.cellgate.limit;

/**
 * The overload signals measured by the gateway and their limits, combined into one load level: the
 * largest ratio of a signal to its limit (1.0 = at the overload watermark). Signals are written by
 * the gateway's samplers and read by the admission control thread.
 *
 * @see PriorityAdmission#adapt(double)
 */
public final class OverloadSignals {
    /** The limits each signal is measured against; a limit of 0 disables that signal. */
    public record Limits(long eventLoopLagNanos, long inFlight, long pendingOutboundBytes, double heapUsedFraction,
                         double directUsedFraction) {
    }

    private volatile Limits limits;
    private volatile long eventLoopLagNanos;
    /** The largest single lag probe of the window under way, and of the window before it. */
    private final java.util.concurrent.atomic.AtomicLong peakLagNanos = new java.util.concurrent.atomic.AtomicLong();
    private volatile long previousPeakLagNanos;
    private volatile long inFlight;
    private volatile long pendingOutboundBytes;
    private volatile double heapUsedFraction;
    private volatile double directUsedFraction;

    public OverloadSignals(Limits limits) {
        this.limits = limits;
    }

    public void limits(Limits next) {
        this.limits = next;
    }

    public Limits limits() {
        return limits;
    }

    public void eventLoopLagNanos(long nanos) {
        this.eventLoopLagNanos = nanos;
    }

    /** One probe's lag, as measured (any thread; lock-free). */
    public void lagProbe(long nanos) {
        peakLagNanos.accumulateAndGet(nanos, Math::max);
    }

    /** Ends a lag window: its peak becomes the previous window's. */
    public void endLagWindow() {
        previousPeakLagNanos = peakLagNanos.getAndSet(0);
    }

    /**
     * The largest single lag seen in this window and the one before: unlike the window's average, it
     * shows a stall at once, and for a while after it.
     */
    public long recentPeakLagNanos() {
        return Math.max(peakLagNanos.get(), previousPeakLagNanos);
    }

    /**
     * True while the event loops are (or just were) late by more than the lag limit: timeouts now may
     * be the gateway's own doing, not its AOs'. False when the lag signal is off.
     */
    public boolean eventLoopsLagging() {
        long limit = limits.eventLoopLagNanos();
        // The peak covers the windows' averages too: no average exceeds the largest probe it averages.
        return limit > 0 && recentPeakLagNanos() >= limit;
    }

    public void inFlight(long requests) {
        this.inFlight = requests;
    }

    public void pendingOutboundBytes(long bytes) {
        this.pendingOutboundBytes = bytes;
    }

    public void heapUsedFraction(double fraction) {
        this.heapUsedFraction = fraction;
    }

    public void directUsedFraction(double fraction) {
        this.directUsedFraction = fraction;
    }

    public long eventLoopLagNanos() {
        return eventLoopLagNanos;
    }

    public long inFlight() {
        return inFlight;
    }

    public long pendingOutboundBytes() {
        return pendingOutboundBytes;
    }

    public double heapUsedFraction() {
        return heapUsedFraction;
    }

    public double directUsedFraction() {
        return directUsedFraction;
    }

    /** max(signal / limit) over the enabled signals; 0 when none is enabled. */
    public double loadLevel() {
        Limits l = limits;
        double level = 0;
        level = Math.max(level, ratio(eventLoopLagNanos, l.eventLoopLagNanos()));
        level = Math.max(level, ratio(inFlight, l.inFlight()));
        level = Math.max(level, ratio(pendingOutboundBytes, l.pendingOutboundBytes()));
        level = Math.max(level, l.heapUsedFraction() > 0 ? heapUsedFraction / l.heapUsedFraction() : 0);
        level = Math.max(level, l.directUsedFraction() > 0 ? directUsedFraction / l.directUsedFraction() : 0);
        return level;
    }

    private static double ratio(long value, long limit) {
        return limit > 0 ? (double) value / limit : 0;
    }
}
