package io.cellgate.server.internal;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;

/**
 * The step that turns what a client sends into {@code ClientFrame}s: length-prefixed frames on TCP
 * ({@link ClientFrameCodec}, which encodes the answers too), one binary message each on WebSocket ({@link WebSocketClientFrames}). The
 * steps after it find it under {@link #NAME} to lift the pre-login size limit, to stop parsing once
 * the last word is said, and to see when the client was last heard from.
 */
interface ClientFrameSource {
    String NAME = "frame-decoder";

    /** The client logged in: frames up to the full size limit from now on. */
    void loggedIn();

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
