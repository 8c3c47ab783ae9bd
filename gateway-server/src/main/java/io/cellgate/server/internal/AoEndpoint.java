package io.cellgate.server.internal;

import io.grpc.ManagedChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One AO endpoint ({@code host:port}) and its gRPC channels: one per event loop, or one shared.
 * {@link #outstanding} counts calls in flight, for load balancing.
 */
final class AoEndpoint {
    final String address;
    private final ManagedChannel[] channels;
    final AtomicInteger outstanding = new AtomicInteger();

    AoEndpoint(String address, ManagedChannel[] channels) {
        this.address = address;
        this.channels = channels;
    }

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
