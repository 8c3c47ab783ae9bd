package io.cellgate.server.internal;

import io.cellgate.limit.OverloadSignals;
import io.cellgate.limit.PriorityAdmission;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Measures the overload signals and ends each admission window: event-loop lag (how late a timer
 * each loop sets on itself every 20 ms, every 250 ms while the gateway idles, runs, averaged over
 * the window, so one pause is not an overload), requests in flight, bytes queued to clients, heap and
 * direct memory use. The windows end on the monitor's own thread ({@code cellgate-admission}), which
 * never runs on an event loop, never blocks one and gives them no tasks.
 */
public final class OverloadMonitor implements AutoCloseable {
    private static final long PROBE_MILLIS = 20;
    /**
     * The probe interval while nothing happens (no request in flight, no connection accepted since the
     * loop's last probe; heartbeats do not count): lag delays no request then, and each probe wakes its
     * event loop. Requests in flight bring the 20 ms interval back within this long.
     */
    private static final long IDLE_PROBE_MILLIS = 250;
    /**
     * While no request is in flight and no push was sent since the last sum, the bytes queued to clients
     * are summed every this many windows instead of every window: the sum visits every connection
     * (about half of what this thread spent idle with 10,000 connections, and more with more), nothing
     * could have been queued meanwhile but pongs, and with no request at the AOs admission has nothing
     * to shed. A request in flight or a push brings the sum back at the next window.
     */
    private static final int IDLE_SUM_WINDOWS = 10;
    private static final Logger LOG = Logger.getLogger(OverloadMonitor.class.getName());

    private final GatewayContext context;
    private final OverloadSignals signals;
    private final ScheduledExecutorService timer;
    private final AtomicLong lagSumNanos = new AtomicLong();
    private final AtomicLong lagProbes = new AtomicLong();
    private boolean overloaded;
    /** Windows ended since the bytes queued to clients were last summed; pushes sent as of that sum. Monitor thread only. */
    private int windowsSinceSum;
    private long pushesAtSum = -1;
    private volatile boolean closed;
    /** The task ending each admission window; replaced when a reload changes admission.window. */
    private java.util.concurrent.ScheduledFuture<?> windows;

    public OverloadMonitor(GatewayContext context, EventLoop[] loops) {
        this.context = context;
        this.signals = context.signals;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cellgate-admission");
            t.setDaemon(true);
            return t;
        });
        for (EventLoop loop : loops) {
            new LoopProbe(loop).scheduleIn(PROBE_MILLIS);
        }
        window(context.config.admission().window());
    }

    /** Ends an admission window every {@code window} from now on (admission.window, at start and on a reload). */
    public synchronized void window(java.time.Duration window) {
        if (windows != null) {
            windows.cancel(false);
        }
        long millis = Math.max(1, window.toMillis());
        try {
            windows = timer.scheduleAtFixedRate(this::endWindow, millis, millis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // Closed: no more windows.
            windows = null;
        }
    }

    /**
     * One event loop's lag probe: a timer on the loop itself, so measuring the lag hands no task to the
     * loop from another thread and wakes it no more often than the timer. Each run records how late
     * it ran (after the loop's I/O batch and earlier tasks, as a request's task would) and sets the
     * next run: soon while the gateway works, later while it idles. Only its loop's thread runs it.
     */
    private final class LoopProbe implements Runnable {
        private final EventLoop loop;
        /** When this run was due (System.nanoTime). */
        private long due;
        /** Connections accepted at this loop's last probe. */
        private long lastAccepted = -1;

        LoopProbe(EventLoop loop) {
            this.loop = loop;
        }

        void scheduleIn(long millis) {
            due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            try {
                loop.schedule(this, millis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // The loop is shutting down: no more probes.
            }
        }

        @Override
        public void run() {
            if (closed) {
                return;
            }
            long lag = Math.max(0, System.nanoTime() - due);
            lagSumNanos.addAndGet(lag);
            lagProbes.incrementAndGet();
            signals.lagProbe(lag);
            // Pings and idle connections' heartbeats do not count: only requests at the AOs and new connections.
            long accepted = context.counters.connectionsAccepted.sum();
            boolean idle = accepted == lastAccepted && context.counters.inFlight() == 0;
            lastAccepted = accepted;
            scheduleIn(idle ? IDLE_PROBE_MILLIS : PROBE_MILLIS);
        }
    }

    private void endWindow() {
        try {
            long probes = lagProbes.getAndSet(0);
            long lagSum = lagSumNanos.getAndSet(0);
            signals.eventLoopLagNanos(probes == 0 ? lagSum : lagSum / probes);
            signals.endLagWindow();
            long inFlight = context.counters.inFlight();
            signals.inFlight(inFlight);
            long pushes = context.counters.pushesSent.sum();
            if (inFlight > 0 || pushes != pushesAtSum || ++windowsSinceSum >= IDLE_SUM_WINDOWS) {
                windowsSinceSum = 0;
                pushesAtSum = pushes;
                signals.pendingOutboundBytes(pendingOutboundBytes());
            }
            signals.heapUsedFraction(heapLiveFraction());
            long maxDirect = DirectMemory.max();
            signals.directUsedFraction(maxDirect > 0 ? (double) DirectMemory.used() / maxDirect : 0);
            context.admissions().control.endWindow();
            double level = context.admissions().control.loadLevel();
            boolean nowOverloaded = level >= 1.0;
            if (nowOverloaded != overloaded) {
                overloaded = nowOverloaded;
                LOG.log(nowOverloaded ? Level.WARNING : Level.INFO, () -> String.format(
                        "%s: load level %.2f (event-loop lag %d ms, in flight %d, pending outbound %d bytes, heap %.2f, direct %.2f);"
                                + " priority threshold %d of %d",
                        nowOverloaded ? "overloaded" : "no longer overloaded", level, signals.eventLoopLagNanos() / 1_000_000,
                        signals.inFlight(), signals.pendingOutboundBytes(), signals.heapUsedFraction(), signals.directUsedFraction(),
                        context.admissions().control.priority().effectiveThreshold(), PriorityAdmission.LEVELS));
            }
        } catch (RuntimeException e) {
            // Never let the window stop: a failed sample keeps the last values.
            LOG.log(Level.WARNING, "overload sampling failed", e);
        }
    }

    private long pendingOutboundBytes() {
        long pending = 0;
        for (Channel ch : context.clients) {
            ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
            if (out != null) {
                pending += out.totalPendingWriteBytes();
            }
        }
        return pending;
    }

    /**
     * The heap's pools that report their use after a collection; found once (the JVM's pools do not
     * change while it runs, and asking for them builds a new list every time).
     */
    private static final List<MemoryPoolMXBean> HEAP_POOLS = ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(pool -> pool.getType() == MemoryType.HEAP && pool.isCollectionUsageThresholdSupported()).toList();

    /**
     * Heap in use after the last collection, over the maximum heap: live data, not garbage that the
     * next collection frees (which would make every allocation burst look like overload).
     */
    private static double heapLiveFraction() {
        long live = 0;
        for (MemoryPoolMXBean pool : HEAP_POOLS) {
            MemoryUsage afterGc = pool.getCollectionUsage();
            if (afterGc != null) {
                live += afterGc.getUsed();
            }
        }
        return (double) live / Runtime.getRuntime().maxMemory();
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
    }
}
