package io.cellgate.server.internal;

import io.cellgate.limit.NanoClock;
import io.cellgate.server.config.OutlierPolicy;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One AO endpoint ({@code host:port}) and its gRPC channels: one per event loop, or one shared.
 * {@link #outstanding} counts calls in flight, for load balancing; the outlier state says whether
 * it is ejected. Thread-safe: call outcomes arrive on the channels' event loops.
 */
final class AoEndpoint {
    final String address;
    private final ManagedChannel[] channels;
    /** The lean client's channels, one per event loop ({@code channel-mode: lean}; null otherwise): they carry the calls. */
    private final LeanChannel[] lean;
    final AtomicInteger outstanding = new AtomicInteger();
    /** Writes and center calls in flight: what a city switch waits for before it moves write points. */
    final AtomicInteger writesOutstanding = new AtomicInteger();
    private final OutlierPolicy policy;
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private final AtomicInteger ejections = new AtomicInteger();
    /** Ejections since the endpoint was opened (never reset, for metrics). */
    final java.util.concurrent.atomic.AtomicLong ejectionsTotal = new java.util.concurrent.atomic.AtomicLong();
    /** Until when it is ejected (by its clock); starts at its creation, so it starts in rotation. */
    private final java.util.concurrent.atomic.AtomicLong ejectedUntilNanos;
    private volatile boolean everEjected;
    /**
     * The endpoints of its set, itself among them (set by {@link Upstreams} with each routing snapshot;
     * for an address in several sets, the last one built): what the max-ejection share counts.
     */
    private volatile AoEndpoint[] set = {this};
    /** An ejection the share held back, not yet logged (one line per held-back streak, not one per call). */
    private volatile boolean heldBackLogged;

    /** Time for ejection periods; injected so tests reason about them without waiting. */
    private final NanoClock clock;

    AoEndpoint(String address, ManagedChannel[] channels, OutlierPolicy policy) {
        this(address, channels, null, policy, NanoClock.SYSTEM);
    }

    AoEndpoint(String address, ManagedChannel[] channels, LeanChannel[] lean, OutlierPolicy policy) {
        this(address, channels, lean, policy, NanoClock.SYSTEM);
    }

    AoEndpoint(String address, ManagedChannel[] channels, OutlierPolicy policy, NanoClock clock) {
        this(address, channels, null, policy, clock);
    }

    private AoEndpoint(String address, ManagedChannel[] channels, LeanChannel[] lean, OutlierPolicy policy, NanoClock clock) {
        this.address = address;
        this.channels = channels;
        this.lean = lean;
        this.policy = policy;
        this.clock = clock;
        this.ejectedUntilNanos = new java.util.concurrent.atomic.AtomicLong(clock.nanoTime());
    }

    /** Calls that succeeded / failed since the last success-rate judgement. */
    private final AtomicInteger windowOk = new AtomicInteger();
    private final AtomicInteger windowFailed = new AtomicInteger();

    /**
     * Records a call's outcome. A failure counts against the endpoint only when the endpoint caused
     * it: a configured failure code, and for {@code DEADLINE_EXCEEDED} only when {@code deadlineBlamesAo}
     * (the gateway chose the deadline, and its own event loops were not late: a deadline a client
     * shortened, or one missed while the gateway stalled, says nothing about the AO). Nothing counts
     * while the endpoint is ejected: one ejection per ejection period, however many calls were in flight.
     */
    void record(Status.Code code, boolean deadlineBlamesAo) {
        boolean failure = policy.failureCodes().contains(code.name())
                && (code != Status.Code.DEADLINE_EXCEEDED || deadlineBlamesAo);
        if (code == Status.Code.OK) {
            windowOk.incrementAndGet();
            consecutiveFailures.set(0);
            // Healthy again long after its last ejection: forget how often it was ejected.
            if (everEjected && clock.nanoTime() - ejectedUntilNanos.get() > policy.maxEjection().toNanos()) {
                ejections.set(0);
                everEjected = false;
            }
            return;
        }
        if (!failure || ejected(clock.nanoTime())) {
            // Business errors, cancellations and failures that are not the AO's say nothing about its
            // health; calls that fail while it is ejected were sent before, and are already judged.
            return;
        }
        windowFailed.incrementAndGet();
        if (consecutiveFailures.incrementAndGet() >= policy.consecutiveFailures()) {
            consecutiveFailures.set(0);
            eject(policy.consecutiveFailures() + " failures in a row (" + code + ")");
        }
    }

    /** The endpoints of its set (itself among them). */
    void set(AoEndpoint[] endpoints) {
        this.set = endpoints;
    }

    /**
     * Whether one more of the set's endpoints may be ejected: at most max-ejection-percent of them at once,
     * and always one.
     */
    private boolean ejectionAllowed(long now) {
        AoEndpoint[] all = set;
        int ejected = 0;
        for (AoEndpoint e : all) {
            if (e != this && e.ejected(now)) {
                ejected++;
            }
        }
        int allowed = Math.max(1, all.length * policy.maxEjectionPercent() / 100);
        return ejected + 1 <= allowed;
    }

    private void eject(String why) {
        long now = clock.nanoTime();
        if (!ejectionAllowed(now)) {
            if (!heldBackLogged) {
                heldBackLogged = true;
                LOG.warning(() -> "AO endpoint " + address + " not ejected after " + why + ": " + policy.maxEjectionPercent()
                        + "% of its set's endpoints (upstream.outlier.max-ejection-percent) are ejected already");
            }
            return;
        }
        heldBackLogged = false;
        long until = ejectedUntilNanos.get();
        int n = ejections.get() + 1;
        long nanos = Math.min(policy.baseEjection().toNanos() * n, policy.maxEjection().toNanos());
        // One ejection at a time: the first caller moves the deadline into the future; the others see it.
        if (now - until < 0 || !ejectedUntilNanos.compareAndSet(until, now + nanos)) {
            return;
        }
        ejections.incrementAndGet();
        ejectionsTotal.incrementAndGet();
        everEjected = true;
        LOG.warning(() -> "AO endpoint " + address + " ejected for " + nanos / 1_000_000 + " ms after " + why + ", ejection " + n);
    }

    /**
     * Ends a success-rate window (called by the health tracker every interval): with enough calls and
     * too few successes, the endpoint is ejected.
     */
    void judgeSuccessRate() {
        int ok = windowOk.getAndSet(0);
        int failed = windowFailed.getAndSet(0);
        int total = ok + failed;
        if (total >= policy.minRequests() && (double) ok / total < policy.minSuccessRate() && !ejected(clock.nanoTime())) {
            eject(String.format("a success rate of %.0f%% over %d calls", 100.0 * ok / total, total));
        }
    }

    /** Back in rotation at once (its set was judged healthy again). */
    void clearEjection() {
        consecutiveFailures.set(0);
        ejectedUntilNanos.set(clock.nanoTime());
    }

    /** Whether it is ejected now, by its own clock. */
    boolean ejected() {
        return ejected(clock.nanoTime());
    }

    boolean ejected(long nowNanos) {
        return nowNanos - ejectedUntilNanos.get() < 0;
    }

    OutlierPolicy policy() {
        return policy;
    }

    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(AoEndpoint.class.getName());

    /** The gRPC channel for a call started on event loop {@code loopIndex} (with a lean client: for health checks). */
    ManagedChannel channel(int loopIndex) {
        return channels.length == 1 ? channels[0] : channels[loopIndex];
    }

    /** The lean client's channel of event loop {@code loopIndex}, or null: calls go through {@link #channel}. */
    LeanChannel leanChannel(int loopIndex) {
        return lean == null ? null : lean[loopIndex];
    }

    /**
     * Tells each of its channels that waits out a reconnect backoff to connect now. A channel whose
     * connection attempts failed (its AO was down) fails every call at once until its backoff ends, and
     * the backoff grows towards two minutes while the AO stays down; each channel keeps its own. Called
     * on every health tick, so a restarted AO is reached within one interval on every channel, not when
     * each channel's backoff happens to end (the set came UP by the checks of one channel while another
     * still refused its calls).
     */
    void reconnectFailedChannels() {
        for (ManagedChannel c : channels) {
            if (c.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
                c.resetConnectBackoff();
            }
        }
        if (lean != null) {
            for (LeanChannel c : lean) {
                c.resetConnectBackoff();
            }
        }
    }

    /** Whether any of its channels refuses calls now: its last connection attempt failed. */
    boolean anyChannelFailed() {
        for (ManagedChannel c : channels) {
            if (c.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
                return true;
            }
        }
        if (lean != null) {
            for (LeanChannel c : lean) {
                if (c.failed()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Lets calls in flight finish; new calls are refused by gRPC. */
    void shutdown() {
        for (ManagedChannel c : channels) {
            c.shutdown();
        }
        if (lean != null) {
            for (LeanChannel c : lean) {
                c.shutdown(SHUTDOWN_GRACE_MILLIS);
            }
        }
    }

    /** How long a lean connection lets its calls finish at shutdown (the gateway waits less, then moves on). */
    private static final long SHUTDOWN_GRACE_MILLIS = 30_000;

    void awaitTermination(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (ManagedChannel c : channels) {
            if (!c.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                c.shutdownNow();
            }
        }
        if (lean != null) {
            for (LeanChannel c : lean) {
                if (!c.awaitTermination(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())))) {
                    c.shutdown(0);
                }
            }
        }
    }

    @Override
    public String toString() {
        return address;
    }
}
