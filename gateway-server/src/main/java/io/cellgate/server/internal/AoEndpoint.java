package io.cellgate.server.internal;

import io.cellgate.server.config.OutlierPolicy;
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
    final AtomicInteger outstanding = new AtomicInteger();
    private final OutlierPolicy policy;
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private final AtomicInteger ejections = new AtomicInteger();
    private volatile long ejectedUntilNanos;
    private volatile boolean everEjected;

    AoEndpoint(String address, ManagedChannel[] channels, OutlierPolicy policy) {
        this.address = address;
        this.channels = channels;
        this.policy = policy;
    }

    /** Calls that succeeded / failed since the last success-rate judgement. */
    private final AtomicInteger windowOk = new AtomicInteger();
    private final AtomicInteger windowFailed = new AtomicInteger();

    /** Records a call's outcome; failures that say the endpoint is unwell count toward ejection. */
    void record(Status.Code code) {
        boolean failure = policy.failureCodes().contains(code.name());
        if (failure) {
            windowFailed.incrementAndGet();
        } else if (code == Status.Code.OK) {
            windowOk.incrementAndGet();
        }
        switch (failure ? Status.Code.UNAVAILABLE : code == Status.Code.OK ? Status.Code.OK : Status.Code.UNKNOWN) {
            case OK -> {
                consecutiveFailures.set(0);
                // Healthy again long after its last ejection: forget how often it was ejected.
                if (everEjected && System.nanoTime() - ejectedUntilNanos > policy.maxEjection().toNanos()) {
                    ejections.set(0);
                    everEjected = false;
                }
            }
            case UNAVAILABLE -> {
                if (consecutiveFailures.incrementAndGet() >= policy.consecutiveFailures()) {
                    consecutiveFailures.set(0);
                    eject(policy.consecutiveFailures() + " failures in a row (" + code + ")");
                }
            }
            default -> {
                // Business errors and cancellations say nothing about the endpoint's health.
            }
        }
    }

    private void eject(String why) {
        int n = ejections.incrementAndGet();
        long nanos = Math.min(policy.baseEjection().toNanos() * n, policy.maxEjection().toNanos());
        ejectedUntilNanos = System.nanoTime() + nanos;
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
        if (total >= policy.minRequests() && (double) ok / total < policy.minSuccessRate() && !ejected(System.nanoTime())) {
            eject(String.format("a success rate of %.0f%% over %d calls", 100.0 * ok / total, total));
        }
    }

    /** Back in rotation at once (its set was judged healthy again). */
    void clearEjection() {
        consecutiveFailures.set(0);
        ejectedUntilNanos = System.nanoTime();
    }

    boolean ejected(long nowNanos) {
        return everEjected && nowNanos - ejectedUntilNanos < 0;
    }

    OutlierPolicy policy() {
        return policy;
    }

    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(AoEndpoint.class.getName());

    /** The channel for a call started on event loop {@code loopIndex}. */
    ManagedChannel channel(int loopIndex) {
        return channels.length == 1 ? channels[0] : channels[loopIndex];
    }

    /** Lets calls in flight finish; new calls are refused by gRPC. */
    void shutdown() {
        for (ManagedChannel c : channels) {
            c.shutdown();
        }
    }

    void awaitTermination(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (ManagedChannel c : channels) {
            if (!c.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                c.shutdownNow();
            }
        }
    }

    @Override
    public String toString() {
        return address;
    }
}
