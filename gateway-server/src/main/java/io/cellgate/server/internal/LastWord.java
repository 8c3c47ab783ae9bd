package io.cellgate.server.internal;

import io.cellgate.protocol.v1.ServerFrame;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Ends a client connection with a last frame (a go_away, or a refused login's ack) and a close that
 * does not depend on the peer: the close follows the frame's write, or {@code limits.close-timeout}
 * after it at the latest, whether or not the peer ever reads. Whatever the peer sends after the last
 * word is read and dropped unparsed (reading on, rather than stopping, lets the close be a FIN that
 * delivers the last frame: a socket closed with unread input is reset, and a reset can discard it).
 * Closing fails and releases whatever was still queued for it.
 */
final class LastWord {
    private LastWord() {
    }

    /** Sends {@code frame}, then closes {@code ch} once it is written, or after the close timeout. On {@code ch}'s loop. */
    static void sayAndClose(Channel ch, ServerFrame frame) {
        GatewayContext context = GatewayContext.of(ch);
        ClientFrameSource decoder = ClientFrameSource.of(ch.pipeline());
        if (decoder != null) {
            decoder.discardInput();
        }
        if (!ch.isActive()) {
            ch.close();
            return;
        }
        long timeoutMillis = context == null ? 2_000 : context.config.edge().closeTimeout().toMillis();
        ScheduledFuture<?> deadline = ch.eventLoop().schedule(() -> {
            if (ch.isOpen()) {
                if (context != null) {
                    context.counters.closesForced.increment();
                }
                ch.close();
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
        ch.closeFuture().addListener(f -> deadline.cancel(false));
        ch.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE);
    }
}
