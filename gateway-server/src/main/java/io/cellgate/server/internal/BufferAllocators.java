package io.cellgate.server.internal;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.Locale;

/**
 * The buffer allocator of the client listener and its connections: Netty's pooled allocator. Each
 * event loop allocates from its own thread-local cache, so the request path takes no lock on the
 * owning loop; a cache miss or a buffer freed on another thread goes to a shared arena, whose short
 * lock Netty itself declares safe on an event loop. Netty 4.2's default, the adaptive allocator, takes
 * a {@code StampedLock} when a magazine grows on a read, which can park an event loop under load
 * (docs/ARCHITECTURE.md, "Buffers", has the measurements behind the choice).
 * {@code -Dcellgate.allocator=adaptive} selects the adaptive one, for comparisons.
 */
public final class BufferAllocators {
    private static final ByteBufAllocator CLIENTS = choose(System.getProperty("cellgate.allocator", "pooled"));
    /**
     * How large each client connection's next read buffer is: Netty's adaptive default (64 B to 64 KiB,
     * 2 KiB first, following what the reads fill). Only its per-connection handle has state, so one
     * instance serves every connection; Netty's default creates one per connection (32 bytes each).
     */
    private static final io.netty.channel.RecvByteBufAllocator RECEIVE_SIZES = new io.netty.channel.AdaptiveRecvByteBufAllocator();

    private BufferAllocators() {
    }

    static ByteBufAllocator choose(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "pooled" -> PooledByteBufAllocator.DEFAULT;
            case "adaptive" -> new AdaptiveByteBufAllocator();
            default -> throw new IllegalArgumentException("cellgate.allocator: " + name + " (expected: pooled or adaptive)");
        };
    }

    /** The read-buffer sizing shared by every client connection. */
    public static io.netty.channel.RecvByteBufAllocator receiveSizes() {
        return RECEIVE_SIZES;
    }

    /** The allocator of the client listener and every client connection. */
    public static ByteBufAllocator clients() {
        return CLIENTS;
    }
}
