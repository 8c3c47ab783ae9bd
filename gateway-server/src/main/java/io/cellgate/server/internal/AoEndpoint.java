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

    /** Records a call's outcome; failures that say the endpoint is unwell count toward ejection. */
    void record(Status.Code code) {
        switch (code) {
            case OK -> {
                consecutiveFailures.set(0);
                // Healthy again long after its last ejection: forget how often it was ejected.
                if (everEjected && System.nanoTime() - ejectedUntilNanos > policy.maxEjection().toNanos()) {
                    ejections.set(0);
                    everEjected = false;
                }
            }
            case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED -> {
                if (consecutiveFailures.incrementAndGet() >= policy.consecutiveFailures()) {
                    consecutiveFailures.set(0);
                    int n = ejections.incrementAndGet();
                    long nanos = Math.min(policy.baseEjection().toNanos() * n, policy.maxEjection().toNanos());
                    ejectedUntilNanos = System.nanoTime() + nanos;
                    everEjected = true;
                    LOG.warning(() -> "AO endpoint " + address + " ejected for " + nanos / 1_000_000 + " ms after "
                            + policy.consecutiveFailures() + " failures in a row (" + code + "), ejection " + n);
                }
            }
            default -> {
                // Business errors and cancellations say nothing about the endpoint's health.
            }
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
