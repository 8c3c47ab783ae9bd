package io.cellgate.server.internal;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.Locale;

/**
 * The buffer allocator of the client listener and its connections (and of the lean client's AO
 * connections, {@link LeanChannel}): Netty's pooled allocator. Each
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
     * 2 KiB first, following what the reads fill), one instance for every connection (Netty's default
     * creates one per connection, 32 bytes each), and one handle per event loop ({@link OneHandlePerLoop}).
     */
    private static final io.netty.channel.RecvByteBufAllocator RECEIVE_SIZES =
            new OneHandlePerLoop(new io.netty.channel.AdaptiveRecvByteBufAllocator());

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

    /**
     * Gives the connections of one event loop one read handle between them, instead of one each (the
     * adaptive handle and its size calculator: about 110 bytes that every idle connection kept after its
     * first read). A handle's state lives from the start of one read of one channel ({@code reset}) to
     * its end ({@code readComplete}), and an event loop reads its channels one at a time, so sharing it
     * on the loop changes only what the size guess learns from: the loop's recent reads rather than the
     * connection's. The transport keeps its own per-channel state (epoll's hang-up flag) in its own
     * wrapper around this handle. Netty asks for a channel's handle on the channel's event loop; asked on
     * any other thread, this answers a handle of the caller's own.
     */
    static final class OneHandlePerLoop implements io.netty.channel.MaxMessagesRecvByteBufAllocator {
        private final io.netty.channel.AdaptiveRecvByteBufAllocator sizes;
        private final io.netty.util.concurrent.FastThreadLocal<ExtendedHandle> handles = new io.netty.util.concurrent.FastThreadLocal<>() {
            @Override
            protected ExtendedHandle initialValue() {
                return newOwnHandle();
            }
        };

        OneHandlePerLoop(io.netty.channel.AdaptiveRecvByteBufAllocator sizes) {
            this.sizes = sizes;
        }

        @Override
        public ExtendedHandle newHandle() {
            return Thread.currentThread() instanceof io.netty.util.concurrent.FastThreadLocalThread ? handles.get() : newOwnHandle();
        }

        @SuppressWarnings("deprecation") // Netty's allocators declare the older Handle type; theirs are all ExtendedHandles
        private ExtendedHandle newOwnHandle() {
            return (ExtendedHandle) sizes.newHandle();
        }

        @Override
        public int maxMessagesPerRead() {
            return sizes.maxMessagesPerRead();
        }

        @Override
        public io.netty.channel.MaxMessagesRecvByteBufAllocator maxMessagesPerRead(int maxMessagesPerRead) {
            sizes.maxMessagesPerRead(maxMessagesPerRead);
            return this;
        }
    }

    /** The allocator of the client listener and every client connection. */
    public static ByteBufAllocator clients() {
        return CLIENTS;
    }
}
