package io.cellgate.server.internal;

import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;

/**
 * Direct memory held by Netty's buffers in this process, for the {@code cellgate_netty_direct_memory_bytes}
 * metric and the overload signal. Netty counts every direct buffer it allocates without a cleaner (the
 * default when it may use {@code Unsafe}): that counter covers all allocators at once, the client
 * side's and the gRPC channels'. Without it, the client allocator's own figure is the best there is.
 */
public final class DirectMemory {
    private DirectMemory() {
    }

    /** Bytes of direct memory in use, or 0 when nothing counts them. */
    public static long used() {
        long counted = PlatformDependent.usedDirectMemory();
        if (counted >= 0) {
            return counted;
        }
        return BufferAllocators.clients() instanceof ByteBufAllocatorMetricProvider provider
                ? provider.metric().usedDirectMemory() : 0;
    }

    /** The limit Netty allocates direct memory within. */
    public static long max() {
        return PlatformDependent.maxDirectMemory();
    }
}
