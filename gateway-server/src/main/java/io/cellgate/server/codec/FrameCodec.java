package io.cellgate.server.codec;

import io.cellgate.server.internal.ClientFrameCodec;
import io.cellgate.server.internal.ServerFrameEncoder;
import io.netty.channel.ChannelHandler;
import java.util.concurrent.atomic.LongAdder;

/**
 * The client protocol's frame codec as the gateway runs it (docs/PROTOCOL.md: varint32 length, then
 * a protobuf frame), for tools outside the gateway such as the codec benchmark. The handlers are the
 * gateway's own; this is their public home, so nothing outside the server reaches into its internals.
 */
public final class FrameCodec {
    private FrameCodec() {
    }

    /**
     * A decoder of {@code ClientFrame}s that refuses a frame over {@code maxFrameBytes} (a connection
     * error) and counts each decoded frame in {@code frames}; it encodes the {@code ServerFrame}s written
     * through it too, as a client connection's pipeline has it. One per channel.
     */
    public static ChannelHandler clientFrameDecoder(int maxFrameBytes, LongAdder frames) {
        return new ClientFrameCodec(maxFrameBytes, frames);
    }

    /** The encoder of {@code ServerFrame}s; stateless, shareable. */
    public static ChannelHandler serverFrameEncoder() {
        return ServerFrameEncoder.INSTANCE;
    }
}
