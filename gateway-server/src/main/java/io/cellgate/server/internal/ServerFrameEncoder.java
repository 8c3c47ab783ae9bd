package io.cellgate.server.internal;

import com.google.protobuf.CodedOutputStream;
import io.cellgate.protocol.v1.ServerFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import java.io.IOException;

/**
 * Writes each {@link ServerFrame} as a varint32 length and the message, into one buffer of the exact
 * size. A client connection's pipeline encodes in its {@link ClientFrameCodec} with {@link #encode};
 * this handler serves pipelines without one (the refusal of a connection over the accept rate) and
 * the codec benchmark. Buffers: the buffer belongs to the outbound pipeline (released by the transport after the
 * write, or by {@link MessageToByteEncoder} on failure).
 */
@ChannelHandler.Sharable
public final class ServerFrameEncoder extends MessageToByteEncoder<ServerFrame> {
    /** The one instance (it is stateless); public for the codec benchmark. */
    public static final ServerFrameEncoder INSTANCE = new ServerFrameEncoder();

    private ServerFrameEncoder() {
        super(ServerFrame.class);
    }

    /** {@code frame} encoded into a new buffer of {@code alloc} of the exact size; the caller owns it. */
    static ByteBuf encode(ByteBufAllocator alloc, ServerFrame frame) throws IOException {
        int size = frame.getSerializedSize();
        ByteBuf out = alloc.ioBuffer(CodedOutputStream.computeUInt32SizeNoTag(size) + size);
        try {
            write(frame, size, out);
            return out;
        } catch (IOException | RuntimeException e) {
            out.release();
            throw e;
        }
    }

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, ServerFrame msg, boolean preferDirect) {
        int size = msg.getSerializedSize();
        int total = CodedOutputStream.computeUInt32SizeNoTag(size) + size;
        return preferDirect ? ctx.alloc().ioBuffer(total) : ctx.alloc().heapBuffer(total);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, ServerFrame msg, ByteBuf out) throws IOException {
        write(msg, msg.getSerializedSize(), out);
    }

    private static void write(ServerFrame msg, int size, ByteBuf out) throws IOException {
        int total = CodedOutputStream.computeUInt32SizeNoTag(size) + size;
        out.ensureWritable(total);
        if (out.nioBufferCount() != 1) {
            CodedOutputStream cos = CodedOutputStream.newInstance(new ByteBufOutputStream(out), total);
            cos.writeUInt32NoTag(size);
            msg.writeTo(cos);
            cos.flush();
            return;
        }
        // Straight into the buffer's memory: no staging array per frame.
        int index = out.writerIndex();
        CodedOutputStream cos = CodedOutputStream.newInstance(out.internalNioBuffer(index, total));
        cos.writeUInt32NoTag(size);
        msg.writeTo(cos);
        cos.checkNoSpaceLeft();
        out.writerIndex(index + total);
    }
}
