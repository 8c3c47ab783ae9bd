package io.cellgate.server.internal;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * On the listening socket: counts failed accepts (most often the process is out of file descriptors)
 * and logs them at most once per {@link #LOG_EVERY_NANOS}, then lets Netty's acceptor pause accepting
 * for a second, so the loop does not spin on a backlog it cannot take. Connections that arrive
 * meanwhile wait in the kernel's backlog and are accepted as soon as descriptors free up; existing
 * connections are not touched.
 */
@ChannelHandler.Sharable
public final class AcceptErrorHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(AcceptErrorHandler.class.getName());
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final GatewayCounters counters;
    private final AtomicLong lastLog = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);
    private final AtomicLong sinceLog = new AtomicLong();

    public AcceptErrorHandler(GatewayContext context) {
        this.counters = context.counters;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            counters.acceptErrors.increment();
            long n = sinceLog.incrementAndGet();
            long now = System.nanoTime();
            long last = lastLog.get();
            if (now - last >= LOG_EVERY_NANOS && lastLog.compareAndSet(last, now)) {
                sinceLog.set(0);
                LOG.warning(() -> "accept failed " + n + " times in the last " + TimeUnit.NANOSECONDS.toSeconds(now - last)
                        + " s (" + cause.getMessage() + "); pausing accepts for 1 s, open connections are served"
                        + " (cellgate_accept_errors_total)");
            }
        }
        // Netty's acceptor turns accepting off for a second on any exception.
        ctx.fireExceptionCaught(cause);
    }
}
