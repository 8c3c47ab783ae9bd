package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2ConnectionDecoder;
import io.netty.handler.codec.http2.DefaultHttp2ConnectionEncoder;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2LocalFlowController;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.StreamBufferingEncoder;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
import io.netty.util.collection.IntObjectHashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * One HTTP/2 connection of a {@link LeanChannel} to an AO: Netty's HTTP/2 codec with a frame listener
 * that hands each stream's frames to its {@link LeanCall}. All of it runs on the connection's event
 * loop. Streams beyond the AO's {@code MAX_CONCURRENT_STREAMS} wait in the codec's buffering encoder.
 *
 * <p>Writes are flushed once per pass of the event loop, not once per call: the calls that the client
 * connections ready in one pass start go out together.
 */
final class LeanConnection extends Http2ConnectionHandler {
    private static final Logger LOG = Logger.getLogger(LeanConnection.class.getName());
    /** The stream and connection receive windows: a large response is not held to 64 KiB per round trip. */
    static final int WINDOW = 1024 * 1024;
    /** How long the AO has to answer a ping before the connection counts as dead. */
    static final long PING_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long PING_DATA = 0x63656c6c67617465L;
    /**
     * At most one ping a minute: an AO that answered one lately is there, and gRPC servers count pings
     * closer together than their permitted keepalive time (5 minutes by default) as abuse once the
     * connection carries no data (a hung AO), then end it with a GOAWAY.
     */
    static final long PING_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** Past this stream id a connection takes no new calls (ids are 31 bits; a client's are odd). */
    static final int LAST_STREAM_ID = Integer.MAX_VALUE - (1 << 20);

    private final LeanChannel owner;
    private final IntObjectHashMap<LeanCall> calls = new IntObjectHashMap<>();
    private ChannelHandlerContext ctx;
    private boolean settingsRead;
    /** A GOAWAY came, or the AO stopped answering pings: no new streams here. */
    private boolean closing;
    private boolean flushScheduled;
    private ScheduledFuture<?> pingTimeout;
    private boolean pingSent;
    private long lastPingNanos;
    private final Runnable flush = this::flushNow;

    private LeanConnection(DefaultHttp2ConnectionDecoder decoder, StreamBufferingEncoder encoder, Http2Settings settings, LeanChannel owner) {
        super(decoder, encoder, settings);
        this.owner = owner;
    }

    static LeanConnection create(LeanChannel owner) {
        Http2Connection connection = new DefaultHttp2Connection(false);
        connection.local().flowController(new DefaultHttp2LocalFlowController(connection, 0.5f, false));
        // Every stream alike: the calls carry no priorities, and the codec's default weighted tree costs
        // about 2% of the gateway's CPU at 2,000 calls/s (a state and tree updates per stream).
        connection.remote().flowController(new DefaultHttp2RemoteFlowController(connection, new UniformStreamByteDistributor(connection)));
        StreamBufferingEncoder encoder = new StreamBufferingEncoder(
                new DefaultHttp2ConnectionEncoder(connection, new DefaultHttp2FrameWriter(LeanConnection::perCall)));
        DefaultHttp2ConnectionDecoder decoder = new DefaultHttp2ConnectionDecoder(connection, encoder,
                new DefaultHttp2FrameReader(new DefaultHttp2HeadersDecoder(false)));
        Http2Settings settings = new Http2Settings().pushEnabled(false).initialWindowSize(WINDOW);
        LeanConnection handler = new LeanConnection(decoder, encoder, settings, owner);
        decoder.frameListener(handler.new Frames());
        connection.addListener(handler.new Streams());
        return handler;
    }

    /** Never indexed by HPACK: values new on every call (they would only evict the values that repeat). */
    private static boolean perCall(CharSequence name, CharSequence value) {
        return name == LeanChannel.GRPC_TIMEOUT || UpstreamHeader.perCall(name);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        super.channelActive(ctx);
        // The connection's own window, beside the streams' (SETTINGS), as gRPC does.
        Http2Stream connectionStream = connection().connectionStream();
        connection().local().flowController().incrementWindowSize(connectionStream, WINDOW - connection().local().flowController().windowSize(connectionStream));
        flush(ctx);
    }

    /** Whether a new call may start here: the AO's settings came, and no GOAWAY. */
    boolean acceptsCalls() {
        return settingsRead && !closing && ctx.channel().isActive();
    }

    /** Writes the call's headers and message on a new stream; flushed at the end of this pass of the loop. */
    void start(LeanCall call) {
        int id = connection().local().incrementAndGetNextStreamId();
        if (id < 0 || closing) {
            // Not here after all (the ids ran out): the channel starts it on another connection.
            retire();
            owner.startElsewhere(call);
            return;
        }
        if (id > LAST_STREAM_ID) {
            // A billion calls on this connection: the ids run out soon. It finishes its calls; new ones go to a new one.
            retire();
        }
        ByteString body = call.written(this, id);
        calls.put(id, call);
        encoder().writeHeaders(ctx, id, call.headers, 0, false, ctx.newPromise()).addListener(call);
        ByteBuf data = ctx.alloc().buffer(5 + body.size());
        data.writeByte(0).writeInt(body.size());
        body.copyTo(data.internalNioBuffer(data.writerIndex(), body.size()));
        data.writerIndex(data.writerIndex() + body.size());
        encoder().writeData(ctx, id, data, 0, true, ctx.newPromise());
        if (!flushScheduled) {
            flushScheduled = true;
            ctx.channel().eventLoop().execute(flush);
        }
    }

    /** Takes no new calls; closes once its calls ended. */
    private void retire() {
        if (!closing) {
            closing = true;
            owner.closing(this);
        }
        if (calls.isEmpty()) {
            ctx.channel().close();
        }
    }

    private void flushNow() {
        flushScheduled = false;
        flush(ctx);
    }

    /**
     * A call ended (by its trailers, a reset, its deadline, a cancel): forget its stream, and reset it
     * when the AO may still be working on it.
     */
    void forget(int streamId, boolean reset) {
        calls.remove(streamId);
        if (reset && ctx.channel().isActive()) {
            // Through the encoder: a stream still buffered (over the AO's concurrency) is dropped there.
            encoder().writeRstStream(ctx, streamId, Http2Error.CANCEL.code(), ctx.newPromise());
            if (!flushScheduled) {
                flushScheduled = true;
                ctx.channel().eventLoop().execute(flush);
            }
        }
        if (closing && calls.isEmpty()) {
            ctx.channel().close();
        }
    }

    /** A call timed out: if no ping is out, send one; no answer within {@link #PING_TIMEOUT_NANOS} ends the connection. */
    void pingAfterTimeout() {
        long now = System.nanoTime();
        if (pingTimeout != null || !ctx.channel().isActive() || (pingSent && now - lastPingNanos < PING_INTERVAL_NANOS)) {
            return;
        }
        pingSent = true;
        lastPingNanos = now;
        encoder().writePing(ctx, false, PING_DATA, ctx.newPromise());
        flush(ctx);
        pingTimeout = ctx.channel().eventLoop().schedule(() -> {
            LOG.warning(() -> "AO connection " + ctx.channel() + " answered no ping within " + PING_TIMEOUT_NANOS / 1_000_000_000
                    + " s after a call timed out: closing it");
            closing = true;
            owner.closing(this);
            // Past this handler's own close (which would wait for the streams): the peer is gone.
            ctx.close();
        }, PING_TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
    }

    /** Closes it once its calls ended, or after {@code graceMillis} (0: at once, its calls end UNAVAILABLE). */
    void shutdown(long graceMillis) {
        closing = true;
        if (graceMillis <= 0) {
            // Past this handler's own close, which would wait for the streams.
            ctx.close();
            return;
        }
        gracefulShutdownTimeoutMillis(graceMillis);
        ctx.channel().close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        closing = true;
        if (pingTimeout != null) {
            pingTimeout.cancel(false);
            pingTimeout = null;
        }
        owner.closed(this, settingsRead);
        // Closes every stream (each ends its call) and fails the buffered ones.
        super.channelInactive(ctx);
        failAll(Status.UNAVAILABLE.withDescription("the connection to the AO closed"));
    }

    @Override
    protected void onConnectionError(ChannelHandlerContext ctx, boolean outbound, Throwable cause,
                                     io.netty.handler.codec.http2.Http2Exception http2Ex) {
        LOG.fine(() -> "AO connection " + ctx.channel() + ": " + cause);
        super.onConnectionError(ctx, outbound, cause, http2Ex);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (io.netty.handler.codec.http2.Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
            // An I/O error (connection reset, TLS): the connection is done; its calls end UNAVAILABLE.
            LOG.fine(() -> "AO connection " + ctx.channel() + ": " + cause);
            ctx.close();
            return;
        }
        super.exceptionCaught(ctx, cause);
    }

    private void failAll(Status status) {
        if (calls.isEmpty()) {
            return;
        }
        List<LeanCall> left = new ArrayList<>(calls.values());
        calls.clear();
        for (LeanCall c : left) {
            c.fail(status);
        }
    }

    /** Frames read, by stream. */
    private final class Frames extends Http2FrameAdapter {
        @Override
        public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
            int processed = data.readableBytes() + padding;
            LeanCall call = calls.get(streamId);
            if (call != null) {
                call.onData(data, endOfStream);
            }
            // Every byte read is consumed at once: the window refills as the calls are served.
            return processed;
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding, boolean endOfStream) {
            LeanCall call = calls.get(streamId);
            if (call != null) {
                call.onHeaders(headers, endOfStream);
            }
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency, short weight,
                                  boolean exclusive, int padding, boolean endOfStream) {
            onHeadersRead(ctx, streamId, headers, padding, endOfStream);
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
            LeanCall call = calls.get(streamId);
            if (call != null) {
                call.onReset(errorCode);
            }
        }

        @Override
        public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {
            if (!settingsRead) {
                settingsRead = true;
                owner.ready(LeanConnection.this);
            }
        }

        @Override
        public void onPingAckRead(ChannelHandlerContext ctx, long data) {
            if (data == PING_DATA && pingTimeout != null) {
                pingTimeout.cancel(false);
                pingTimeout = null;
            }
        }

        @Override
        public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {
            // Streams after lastStreamId were never seen by the AO: the codec closes them (their calls end
            // UNAVAILABLE, safe to retry). The rest finish here; new calls go to a new connection.
            closing = true;
            owner.closing(LeanConnection.this);
            if (calls.isEmpty()) {
                ctx.channel().close();
            }
        }
    }

    /** A stream closed with its call still open: the connection ended it (GOAWAY, connection error). */
    private final class Streams extends Http2ConnectionAdapter {
        @Override
        public void onStreamClosed(Http2Stream stream) {
            LeanCall call = calls.get(stream.id());
            if (call != null) {
                call.fail(Status.UNAVAILABLE.withDescription("the AO's connection ended the stream"));
            }
        }
    }
}
