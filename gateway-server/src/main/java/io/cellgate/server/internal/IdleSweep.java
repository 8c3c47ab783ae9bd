package io.cellgate.server.internal;

import io.cellgate.protocol.v1.Code;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Closes connections that sent no complete frame for three heartbeat intervals (silent, or trickling
 * a frame byte by byte): one periodic task per event
 * loop checks that loop's connections, instead of a timer per connection (an idle-state handler and
 * its scheduled task cost about 240 bytes per connection, the sweep nothing).
 */
public final class IdleSweep implements Runnable {
    private final GatewayContext context;
    private final EventLoop loop;

    private IdleSweep(GatewayContext context, EventLoop loop) {
        this.context = context;
        this.loop = loop;
    }

    /** Starts a sweep on every one of {@code loops}, a few times per heartbeat interval. */
    public static void start(GatewayContext context, EventLoop[] loops) {
        long period = Math.max(10, Math.min(1000, context.config.heartbeatInterval().toMillis() / 4));
        for (EventLoop loop : loops) {
            loop.scheduleWithFixedDelay(new IdleSweep(context, loop), period, period, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void run() {
        long limit = 3 * context.config.heartbeatInterval().toNanos();
        long now = System.nanoTime();
        long nowSeconds = System.currentTimeMillis() / 1000;
        context.clients.forEachOn(loop, ch -> sweep(ch, limit, now, nowSeconds));
    }

    private void sweep(Channel ch, long limit, long now, long nowSeconds) {
        if (!ch.isActive()) {
            return;
        }
        ClientFrameSource decoder = ClientFrameSource.of(ch.pipeline());
        if (decoder == null) {
            return;
        }
        ClientSession session = decoder.session();
        if (session != null && !session.draining() && session.tokenExpirySeconds <= nowSeconds) {
            // The token expired: the session winds down (calls in flight answered) and must log in again.
            context.counters.sessionsExpired.increment();
            ch.pipeline().fireUserEventTriggered(Drain.tokenExpired(session.tokenExpirySeconds));
            return;
        }
        if (decoder.idleClosing() || now - decoder.lastFrameNanos() <= limit) {
            return;
        }
        decoder.markIdleClosing();
        LastWord.sayAndClose(ch, Frames.goAway(Code.OK, "idle: no complete frame for 3 heartbeat intervals", 0, List.of()));
    }
}
