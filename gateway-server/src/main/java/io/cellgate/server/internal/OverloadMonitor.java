package io.cellgate.server.internal;

import io.cellgate.limit.OverloadSignals;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.util.internal.PlatformDependent;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures the overload signals and ends each admission window, on its own thread
 * ({@code cellgate-admission}): event-loop lag (how late a task submitted to each loop runs; the
 * worst over the window), requests in flight, bytes queued to clients, heap and direct memory use.
 * It never runs on an event loop and never blocks one.
 */
public final class OverloadMonitor implements AutoCloseable {
    private static final long PROBE_MILLIS = 20;

    private final GatewayContext context;
    private final OverloadSignals signals;
    private final EventLoop[] loops;
    private final ScheduledExecutorService timer;
    private final AtomicLong worstLagNanos = new AtomicLong();

    public OverloadMonitor(GatewayContext context, EventLoop[] loops) {
        this.context = context;
        this.signals = context.signals;
        this.loops = loops.clone();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cellgate-admission");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::probeLoops, PROBE_MILLIS, PROBE_MILLIS, TimeUnit.MILLISECONDS);
        long window = context.config.admission().window().toMillis();
        timer.scheduleAtFixedRate(this::endWindow, window, window, TimeUnit.MILLISECONDS);
    }

    private void probeLoops() {
        for (EventLoop loop : loops) {
            long submitted = System.nanoTime();
            try {
                loop.execute(() -> worstLagNanos.accumulateAndGet(System.nanoTime() - submitted, Math::max));
            } catch (RejectedExecutionException e) {
                return; // shutting down
            }
        }
    }

    private void endWindow() {
        try {
            signals.eventLoopLagNanos(worstLagNanos.getAndSet(0));
            signals.inFlight(context.counters.inFlight());
            long pending = 0;
            for (Channel ch : context.clients) {
                ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
                if (out != null) {
                    pending += out.totalPendingWriteBytes();
                }
            }
            signals.pendingOutboundBytes(pending);
            signals.heapUsedFraction(heapLiveFraction());
            long maxDirect = PlatformDependent.maxDirectMemory();
            signals.directUsedFraction(maxDirect > 0 ? (double) PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() / maxDirect : 0);
            context.admissions().control.endWindow();
        } catch (RuntimeException e) {
            // Never let the window stop: a failed sample keeps the last values.
            java.util.logging.Logger.getLogger(OverloadMonitor.class.getName()).log(java.util.logging.Level.WARNING,
                    "overload sampling failed", e);
        }
    }

    /**
     * Heap in use after the last collection, over the maximum heap: live data, not garbage that the
     * next collection frees (which would make every allocation burst look like overload).
     */
    private static double heapLiveFraction() {
        long live = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.isCollectionUsageThresholdSupported()) {
                MemoryUsage afterGc = pool.getCollectionUsage();
                if (afterGc != null) {
                    live += afterGc.getUsed();
                }
            }
        }
        return (double) live / Runtime.getRuntime().maxMemory();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
