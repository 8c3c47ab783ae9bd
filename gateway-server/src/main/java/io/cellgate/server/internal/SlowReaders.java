package io.cellgate.server.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.util.AttributeKey;
import java.util.concurrent.TimeUnit;

/**
 * What the gateway does with a client that does not read its answers. Above the connection's high
 * write watermark (256 KiB) the gateway stops reading that client's requests until the answers
 * drain below the low watermark, so it cannot queue more work; answers to calls already in flight
 * still arrive, and when more than {@code limits.max-outbound-bytes-per-connection} pile up unread,
 * the connection is closed. A client that stays paused for a whole heartbeat interval is closed too:
 * it has read nothing for longer than a live client may stay silent, and without this its close
 * would depend on how many answers happened to be in flight when it was paused. Every other
 * connection is untouched.
 */
final class SlowReaders {
    private SlowReaders() {
    }

    /** A token of the connection's current pause (a new object per pause); absent while it is writable. */
    private static final AttributeKey<Object> PAUSE = AttributeKey.valueOf("cellgate.pause");

    /**
     * On a writability change: read from the client only while its answers are not piling up; a pause
     * that lasts a whole heartbeat interval closes the connection. On the channel's event loop.
     */
    static void pauseWhileUnwritable(GatewayContext context, Channel channel) {
        boolean writable = channel.isWritable();
        channel.config().setAutoRead(writable);
        if (writable) {
            channel.attr(PAUSE).set(null);
            return;
        }
        Object pause = new Object();
        channel.attr(PAUSE).set(pause);
        long heartbeatNanos = context.config.heartbeatInterval().toNanos();
        channel.eventLoop().schedule(() -> {
            // Still the same pause (a later pause sets a new token), and still unwritable.
            if (channel.attr(PAUSE).get() == pause && !channel.isWritable() && channel.isActive()) {
                context.counters.slowReadersClosed.increment();
                channel.close();
            }
        }, heartbeatNanos, TimeUnit.NANOSECONDS);
    }

    /** After a flush: closes {@code channel} when its unread answers exceed the limit. */
    static void closeIfOverLimit(GatewayContext context, Channel channel) {
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        if (buffer != null && buffer.totalPendingWriteBytes() > context.config.maxOutboundBytes() && channel.isActive()) {
            context.counters.slowReadersClosed.increment();
            channel.close();
        }
    }
}
