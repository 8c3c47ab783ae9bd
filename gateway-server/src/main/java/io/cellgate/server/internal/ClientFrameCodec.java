package io.cellgate.server.internal;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.ServerFrame;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.io.IOException;
import java.net.SocketAddress;
import java.util.List;

/**
 * A TCP connection's frames both ways. Inbound: splits the stream into varint32-length-prefixed frames
 * and parses each into a {@link ClientFrame}. A length over {@code maxFrameBytes} fails as soon as the
 * length is read, before its body is buffered. After the first error every further byte is discarded:
 * the connection is being closed. Before the login frames go to the next step (the login step); from
 * the login on, to the {@link Dispatcher} directly (see {@link ClientFrameSource}). Outbound: each
 * {@link ServerFrame} written is encoded as {@link ServerFrameEncoder} does; anything else passes.
 *
 * <p>One handler for decoding, encoding and handing frames to the dispatch rather than three steps:
 * every connection holds two handler contexts (64 bytes each) and a handler less, most of what it keeps while idle.
 *
 * <p>Buffers: {@link ByteToMessageDecoder} owns and releases the cumulation; frames are parsed
 * straight out of it into heap messages, so nothing reference-counted leaves this handler inbound.
 * Outbound, the encoded buffer belongs to the pipeline from {@code ctx.write} on (released by the
 * transport after the write).
 */
public final class ClientFrameCodec extends ByteToMessageDecoder implements ChannelOutboundHandler, ClientFrameSource {
    /** Shared by the connections of one configuration: a field each costs every idle connection. */
    private final Shared shared;
    /** The gateway's dispatch ({@link Shared#dispatcher}); null when frames only pass on (benchmarks, tools). */
    private final Dispatcher dispatcher;
    /** Set once, on the loop, at the login; volatile for the readers on other threads (listings, kicks, pushes). */
    private volatile ClientSession session;
    private int clientSlot = -1;
    private boolean failed;
    /**
     * When the last complete frame arrived (or the connection opened): {@link IdleSweep} closes a
     * connection without one for three heartbeat intervals. Bytes alone do not count, so a client
     * that trickles a frame byte by byte (slowloris) is closed too.
     */
    private long lastFrameNanos = System.nanoTime();
    private boolean idleClosing;

    /**
     * What the codecs of one configuration share: frames up to {@code preLoginFrameBytes} until
     * {@link #loggedIn}, then up to {@code maxFrameBytes}, counted in {@code frames}; from the login on
     * handed to {@code dispatcher} (null: every frame passes on).
     */
    record Shared(int maxFrameBytes, int preLoginFrameBytes, java.util.concurrent.atomic.LongAdder frames, Dispatcher dispatcher) {
        Shared {
            preLoginFrameBytes = Math.min(preLoginFrameBytes, maxFrameBytes);
        }
    }

    /** A codec whose frames all pass on; public for the codec benchmark. The gateway's are built by {@link ClientChannelInitializer}. */
    public ClientFrameCodec(int maxFrameBytes, java.util.concurrent.atomic.LongAdder frames) {
        this(new Shared(maxFrameBytes, maxFrameBytes, frames, null));
    }

    ClientFrameCodec(Shared shared) {
        this.shared = shared;
        this.dispatcher = shared.dispatcher();
    }

    @Override
    public void discardInput() {
        failed = true;
    }

    @Override
    public void loggedIn(ClientSession session) {
        // Frames up to the full size limit from now on (decode), and to the dispatcher.
        this.session = session;
    }

    @Override
    public ClientSession session() {
        return session;
    }

    @Override
    public int clientSlot() {
        return clientSlot;
    }

    @Override
    public void clientSlot(int slot) {
        clientSlot = slot;
    }

    @Override
    public long lastFrameNanos() {
        return lastFrameNanos;
    }

    @Override
    public boolean idleClosing() {
        return idleClosing;
    }

    @Override
    public void markIdleClosing() {
        idleClosing = true;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int start = in.readerIndex();
        int length = readVarint32(in);
        if (length == INCOMPLETE) {
            in.readerIndex(start);
            return;
        }
        int limitBytes = session != null ? shared.maxFrameBytes() : shared.preLoginFrameBytes();
        if (length < 0 || length > limitBytes) {
            throw fail(length < 0 ? "malformed frame length" :
                    "frame length " + length + " exceeds the limit of " + limitBytes + " bytes"
                            + (limitBytes < shared.maxFrameBytes() ? " before login" : ""));
        }
        if (in.readableBytes() < length) {
            in.readerIndex(start);
            return;
        }
        ClientFrame frame;
        try {
            frame = parse(in, length);
        } catch (InvalidProtocolBufferException e) {
            throw fail("frame is not a valid ClientFrame: " + e.getMessage());
        }
        in.skipBytes(length);
        if (frame.getKindCase() == ClientFrame.KindCase.KIND_NOT_SET) {
            throw fail("frame has no known kind (expected: login, request or ping)");
        }
        shared.frames().increment();
        lastFrameNanos = System.nanoTime();
        ClientSession s = session;
        if (s != null && dispatcher != null) {
            // Straight to the dispatch, in the order of the stream; what it throws reaches exceptionCaught below.
            dispatcher.read(s, frame);
        } else {
            out.add(frame);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (dispatcher == null) {
            super.channelReadComplete(ctx);
            return;
        }
        // Not the decoder's own: with autoRead off it asks for another read when the batch fired no
        // frame, and frames given to the dispatch are not fired. Reading is off only for a slow reader,
        // and then nothing more is to be read.
        discardSomeReadBytes();
        ctx.fireChannelReadComplete();
        dispatcher.readComplete(ctx.channel(), session);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (dispatcher != null) {
            dispatcher.writabilityChanged(ctx.channel());
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        super.channelInactive(ctx);
        ClientSession s = session;
        if (s != null && dispatcher != null) {
            dispatcher.closed(s);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof Drain drain && dispatcher != null) {
            dispatcher.drain(ctx.channel(), session, drain);
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (dispatcher != null) {
            ErrorHandler.caught(ctx, cause);
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws IOException {
        // A frame that fails to encode fails its promise (or, with the void promise, reaches exceptionCaught).
        ctx.write(msg instanceof ServerFrame frame ? ServerFrameEncoder.encode(ctx.alloc(), frame) : msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        ctx.read();
    }

    @Override
    public void bind(ChannelHandlerContext ctx, SocketAddress localAddress, ChannelPromise promise) {
        ctx.bind(localAddress, promise);
    }

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
        ctx.connect(remoteAddress, localAddress, promise);
    }

    @Override
    public void disconnect(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.disconnect(promise);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.close(promise);
    }

    @Override
    public void deregister(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.deregister(promise);
    }

    private static ClientFrame parse(ByteBuf in, int length) throws InvalidProtocolBufferException {
        // A direct buffer is copied out first: protobuf's decoder over a direct ByteBuffer costs more
        // (time and garbage) than the copy, for frames of every size measured (FrameCodecBenchmark).
        CodedInputStream input = in.hasArray()
                ? CodedInputStream.newInstance(in.array(), in.arrayOffset() + in.readerIndex(), length)
                : CodedInputStream.newInstance(io.netty.buffer.ByteBufUtil.getBytes(in, in.readerIndex(), length, false));
        ClientFrame frame = ClientFrame.parser().parseFrom(input);
        input.checkLastTagWas(0);
        return frame;
    }

    private BadFrameException fail(String message) {
        failed = true;
        return new BadFrameException(message);
    }

    private static final int INCOMPLETE = Integer.MIN_VALUE;

    /** Reads a varint32; {@link #INCOMPLETE} when more bytes are needed, -1 when malformed. */
    private static int readVarint32(ByteBuf in) {
        int result = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            if (!in.isReadable()) {
                return INCOMPLETE;
            }
            byte b = in.readByte();
            if (shift == 28 && (b & 0xF0) != 0) {
                return -1; // more than 32 bits, or a negative length
            }
            result |= (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        return -1;
    }
}
