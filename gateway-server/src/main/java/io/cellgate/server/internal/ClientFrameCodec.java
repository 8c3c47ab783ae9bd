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
 * the connection is being closed. Outbound: each {@link ServerFrame} written is encoded as
 * {@link ServerFrameEncoder} does; anything else passes.
 *
 * <p>One handler for both directions rather than a decoder and an encoder: every connection holds one
 * handler context (64 bytes) less, most of what it keeps while idle.
 *
 * <p>Buffers: {@link ByteToMessageDecoder} owns and releases the cumulation; frames are parsed
 * straight out of it into heap messages, so nothing reference-counted leaves this handler inbound.
 * Outbound, the encoded buffer belongs to the pipeline from {@code ctx.write} on (released by the
 * transport after the write).
 */
public final class ClientFrameCodec extends ByteToMessageDecoder implements ChannelOutboundHandler, ClientFrameSource {
    private final int maxFrameBytes;
    /** The limit now: {@code limits.pre-login-frame-bytes} until the login step says the client logged in. */
    private int limitBytes;
    private final int preLoginFrameBytes;
    private final java.util.concurrent.atomic.LongAdder frames;
    private boolean failed;
    /**
     * When the last complete frame arrived (or the connection opened): {@link IdleSweep} closes a
     * connection without one for three heartbeat intervals. Bytes alone do not count, so a client
     * that trickles a frame byte by byte (slowloris) is closed too.
     */
    private long lastFrameNanos = System.nanoTime();
    private boolean idleClosing;

    /** Public for the codec benchmark; the gateway builds its pipeline in {@link ClientChannelInitializer}. */
    public ClientFrameCodec(int maxFrameBytes, java.util.concurrent.atomic.LongAdder frames) {
        this(maxFrameBytes, maxFrameBytes, frames);
    }

    /** A decoder that takes frames up to {@code preLoginFrameBytes} until {@link #loggedIn()}, then up to {@code maxFrameBytes}. */
    ClientFrameCodec(int maxFrameBytes, int preLoginFrameBytes, java.util.concurrent.atomic.LongAdder frames) {
        this.maxFrameBytes = maxFrameBytes;
        this.preLoginFrameBytes = Math.min(preLoginFrameBytes, maxFrameBytes);
        this.limitBytes = this.preLoginFrameBytes;
        this.frames = frames;
    }

    @Override
    public void discardInput() {
        failed = true;
    }

    @Override
    public void loggedIn() {
        limitBytes = maxFrameBytes;
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
        if (length < 0 || length > limitBytes) {
            throw fail(length < 0 ? "malformed frame length" :
                    "frame length " + length + " exceeds the limit of " + limitBytes + " bytes"
                            + (limitBytes < maxFrameBytes ? " before login" : ""));
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
        frames.increment();
        lastFrameNanos = System.nanoTime();
        out.add(frame);
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
