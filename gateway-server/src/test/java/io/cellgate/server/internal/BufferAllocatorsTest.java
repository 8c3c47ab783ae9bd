package io.cellgate.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BufferAllocatorsTest {
    private static RecvByteBufAllocator.ExtendedHandle on(Thread thread, AtomicReference<RecvByteBufAllocator.ExtendedHandle> out)
            throws InterruptedException {
        thread.start();
        thread.join();
        return out.get();
    }

    private static RecvByteBufAllocator.ExtendedHandle handle() {
        return (RecvByteBufAllocator.ExtendedHandle) BufferAllocators.receiveSizes().newHandle();
    }

    @Test
    void theConnectionsOfOneEventLoopShareOneReadHandleAndOtherThreadsGetTheirOwn() throws Exception {
        AtomicReference<RecvByteBufAllocator.ExtendedHandle> first = new AtomicReference<>();
        AtomicReference<RecvByteBufAllocator.ExtendedHandle> second = new AtomicReference<>();
        AtomicReference<RecvByteBufAllocator.ExtendedHandle> otherLoop = new AtomicReference<>();
        RecvByteBufAllocator.ExtendedHandle loopA = on(new FastThreadLocalThread(() -> {
            first.set(handle());
            second.set(handle());
        }), first);
        assertThat(second.get()).as("a second connection of the same loop").isSameAs(loopA);
        assertThat(on(new FastThreadLocalThread(() -> otherLoop.set(handle())), otherLoop)).isNotSameAs(loopA);
        assertThat(handle()).as("asked off an event loop").isNotSameAs(handle());
    }

    @Test
    void theSharedHandleStillFollowsWhatTheReadsFill() throws Exception {
        AtomicReference<int[]> guesses = new AtomicReference<>();
        Thread loop = new FastThreadLocalThread(() -> {
            RecvByteBufAllocator.ExtendedHandle h = handle();
            int before = h.guess();
            // One connection's reads fill every buffer: the next guess grows, for every connection of the loop.
            for (int read = 0; read < 3; read++) {
                h.reset(new io.netty.channel.DefaultChannelConfig(new io.netty.channel.embedded.EmbeddedChannel()));
                ByteBuf buf = h.allocate(UnpooledByteBufAllocator.DEFAULT);
                h.attemptedBytesRead(buf.writableBytes());
                h.lastBytesRead(buf.writableBytes());
                h.incMessagesRead(1);
                h.readComplete();
                buf.release();
            }
            guesses.set(new int[] {before, handle().guess()});
        });
        loop.start();
        loop.join();
        assertThat(guesses.get()[1]).isGreaterThan(guesses.get()[0]);
    }
}
