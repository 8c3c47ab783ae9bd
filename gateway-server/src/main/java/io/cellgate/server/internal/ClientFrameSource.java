package io.cellgate.server.internal;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;

/**
 * The step that turns what a client sends into {@code ClientFrame}s: length-prefixed frames on TCP
 * ({@link ClientFrameCodec}, which encodes the answers too), one binary message each on WebSocket
 * ({@link WebSocketClientFrames}). Before the login it passes frames to the login step after it; from
 * the login on it holds the connection's {@link ClientSession} and hands each frame to the gateway's
 * {@link Dispatcher} itself, and it is the connection's last step: it answers the errors raised on the
 * connection ({@link ErrorHandler#caught}), flushes once per read batch, passes drains and
 * writability to the dispatcher. Others find it under {@link #NAME} to log the client in, to stop
 * parsing once the last word is said, and to see when the client was last heard from.
 */
interface ClientFrameSource {
    String NAME = "frame-decoder";

    /** The client logged in as {@code session}: frames up to the full size limit, and to the dispatcher, from now on. On the loop. */
    void loggedIn(ClientSession session);

    /** The connection's session once logged in, else null. From any thread. */
    ClientSession session();

    /** The connection's slot in the gateway's {@link ClientChannels}; -1 until it has one. */
    int clientSlot();

    void clientSlot(int slot);

    /** The connection is ending: whatever else arrives is dropped unparsed. */
    void discardInput();

    /** When the last complete frame (or, on WebSocket, a ping or pong) arrived, or the connection opened. */
    long lastFrameNanos();

    /** The idle sweep has sent go_away; the close is under way. */
    boolean idleClosing();

    void markIdleClosing();

    /** The connection's frame source; null when it has none (yet). */
    static ClientFrameSource of(ChannelPipeline pipeline) {
        ChannelHandler h = pipeline.get(NAME);
        return h instanceof ClientFrameSource source ? source : null;
    }
}
