package io.cellgate.server.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;

/**
 * What the gateway does with a client that does not read its answers. Above the connection's high
 * write watermark (256 KiB) the gateway stops reading that client's requests until the answers
 * drain below the low watermark, so it cannot queue more work; answers to calls already in flight
 * still arrive, and when more than {@code limits.max-outbound-bytes-per-connection} pile up unread,
 * the connection is closed. Every other connection is untouched.
 */
final class SlowReaders {
    private SlowReaders() {
    }

    /** On a writability change: read from the client only while its answers are not piling up. */
    static void pauseWhileUnwritable(Channel channel) {
        channel.config().setAutoRead(channel.isWritable());
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
