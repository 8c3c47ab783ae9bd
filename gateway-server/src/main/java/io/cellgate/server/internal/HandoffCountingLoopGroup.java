package io.cellgate.server.internal;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SingleThreadIoEventLoop;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.LongAdder;

/**
 * The gateway's event loops, counting hand-offs: tasks given to a loop by any other thread. A
 * request served on one loop end to end (its client connection and the HTTP/2 stream of its call on
 * the same loop) adds none; a response written from another loop's thread, a call started on another
 * loop's channel, a timer set or cancelled from another thread each add one, and each may wake the
 * loop's thread. {@code cellgate_event_loop_handoffs} shows the count; the cost is one striped add
 * per hand-off, next to a queue insert and usually a wake-up.
 */
public final class HandoffCountingLoopGroup extends MultiThreadIoEventLoopGroup {
    private final LongAdder handoffs;

    public HandoffCountingLoopGroup(int threads, ThreadFactory threadFactory, IoHandlerFactory io) {
        this(threads, threadFactory, io, new LongAdder());
    }

    private HandoffCountingLoopGroup(int threads, ThreadFactory threadFactory, IoHandlerFactory io, LongAdder handoffs) {
        super(threads, threadFactory, io, handoffs);
        this.handoffs = handoffs;
    }

    /** Tasks given to these loops by other threads since they started. */
    public long handoffs() {
        return handoffs.sum();
    }

    @Override
    protected IoEventLoop newChild(Executor executor, IoHandlerFactory io, Object... args) {
        // Called from the super constructor, before this.handoffs is set: the adder comes in args.
        return new CountingLoop(this, executor, io, (LongAdder) args[0]);
    }

    private static final class CountingLoop extends SingleThreadIoEventLoop {
        private final LongAdder handoffs;

        CountingLoop(HandoffCountingLoopGroup parent, Executor executor, IoHandlerFactory io, LongAdder handoffs) {
            super(parent, executor, io);
            this.handoffs = handoffs;
        }

        @Override
        public void execute(Runnable task) {
            if (!inEventLoop()) {
                handoffs.increment();
            }
            super.execute(task);
        }

        @Override
        public void lazyExecute(Runnable task) {
            if (!inEventLoop()) {
                handoffs.increment();
            }
            super.lazyExecute(task);
        }
    }
}
