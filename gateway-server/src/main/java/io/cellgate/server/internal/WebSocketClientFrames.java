package io.cellgate.server.internal;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The WebSocket frame step: one {@code ClientFrame} per binary message in, one {@code ServerFrame}
 * per binary message out (no length prefix: the message is the frame). Until the upgrade completes
 * nothing else is in the pipeline; then it adds the login step after itself, and from the login on it
 * hands frames to the {@link Dispatcher} (see {@link ClientFrameSource}). A text message is
 * closed with 1003. Every close the gateway makes is a WebSocket close frame that says why: after a
 * {@code go_away} or a refused {@code LoginAck} with code N, status {@code 4000 + N} with the reason
 * (e.g. 4013 for SHUTTING_DOWN, 4017 for SESSION_REPLACED); otherwise 1000.
 */
final class WebSocketClientFrames extends ChannelDuplexHandler implements ClientFrameSource {
    private final GatewayContext context;
    private final int maxFrameBytes;
    private int limitBytes;
    private boolean upgraded;
    private boolean discarding;
    private long lastFrameNanos = System.nanoTime();
    private boolean idleClosing;
    /** The close status and reason the gateway's last word gave; 1000 until then. */
    private int closeStatus = 1000;
    private String closeReason = "";
    private boolean closeSent;
    /** Set once, on the loop, at the login; volatile for the readers on other threads (listings, kicks, pushes). */
    private volatile ClientSession session;
    private int clientSlot = -1;

    WebSocketClientFrames(GatewayContext context) {
        this.context = context;
        this.maxFrameBytes = context.config.maxFrameBytes();
        this.limitBytes = Math.min(context.config.edge().preLoginFrameBytes(), maxFrameBytes);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Drain drain && upgraded) {
            context.dispatcher.drain(ctx.channel(), session, drain);
            return;
        }
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            upgraded = true;
            lastFrameNanos = System.nanoTime();
            ClientChannelInitializer.addSessionSteps(ctx.pipeline(), context);
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof WebSocketFrame frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (discarding) {
                return;
            }
            if (!(frame instanceof BinaryWebSocketFrame)) {
                context.counters.badFrames.increment();
                discarding = true;
                closeWith(ctx, 1003, "binary messages only: one ClientFrame per message");
                return;
            }
            ByteBuf content = frame.content();
            int length = content.readableBytes();
            if (length > limitBytes) {
                throw fail("frame length " + length + " exceeds the limit of " + limitBytes + " bytes"
                        + (limitBytes < maxFrameBytes ? " before login" : ""));
            }
            ClientFrame parsed;
            try {
                CodedInputStream input = CodedInputStream.newInstance(io.netty.buffer.ByteBufUtil.getBytes(content, content.readerIndex(),
                        length, false));
                parsed = ClientFrame.parser().parseFrom(input);
                input.checkLastTagWas(0);
            } catch (InvalidProtocolBufferException e) {
                throw fail("frame is not a valid ClientFrame: " + e.getMessage());
            }
            if (parsed.getKindCase() == ClientFrame.KindCase.KIND_NOT_SET) {
                throw fail("frame has no known kind (expected: login, request, ping or push_ack)");
            }
            context.counters.framesIn.increment();
            lastFrameNanos = System.nanoTime();
            ClientSession s = session;
            if (s != null) {
                context.dispatcher.read(s, parsed);
            } else {
                ctx.fireChannelRead(parsed);
            }
        } finally {
            ReferenceCountUtil.release(frame);
        }
    }

    private BadFrameException fail(String message) {
        discarding = true;
        return new BadFrameException(message);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws IOException {
        if (!(msg instanceof ServerFrame frame)) {
            ctx.write(msg, promise);
            return;
        }
        if (!upgraded) {
            // Nothing can be said before the upgrade: there is no message to say it in.
            promise.setFailure(new IllegalStateException("WebSocket upgrade not complete"));
            return;
        }
        if (frame.hasGoAway()) {
            closeStatus = 4000 + frame.getGoAway().getCodeValue();
            closeReason = frame.getGoAway().getReason();
        } else if (frame.hasLoginAck() && frame.getLoginAck().getCode() != Code.OK) {
            closeStatus = 4000 + frame.getLoginAck().getCodeValue();
            closeReason = frame.getLoginAck().getMessage();
        }
        int size = frame.getSerializedSize();
        ByteBuf buf = ctx.alloc().ioBuffer(size);
        try {
            CodedOutputStream out = CodedOutputStream.newInstance(new ByteBufOutputStream(buf), size);
            frame.writeTo(out);
            out.flush();
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e;
        }
        ctx.write(new BinaryWebSocketFrame(buf), promise);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (upgraded && !closeSent && ctx.channel().isActive()) {
            closeSent = true;
            // Netty's protocol step then closes once this frame is written (or after the close timeout).
            ctx.writeAndFlush(new CloseWebSocketFrame(closeStatus, fit(closeReason)));
        }
        ctx.close(promise);
    }

    private void closeWith(ChannelHandlerContext ctx, int status, String reason) {
        closeStatus = status;
        closeReason = reason;
        ctx.channel().close();
    }

    /** A close reason fits in 123 bytes of UTF-8. */
    private static String fit(String reason) {
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= 123) {
            return reason;
        }
        String s = reason;
        while (s.getBytes(StandardCharsets.UTF_8).length > 120) {
            s = s.substring(0, s.length() - 1);
        }
        return s + "...";
    }

    /** A WebSocket ping or pong arrived: the client is alive. */
    void heardFrom() {
        lastFrameNanos = System.nanoTime();
    }

    @Override
    public void loggedIn(ClientSession session) {
        limitBytes = maxFrameBytes;
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
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.fireChannelReadComplete();
        if (upgraded) {
            context.dispatcher.readComplete(ctx.channel(), session);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (upgraded) {
            context.dispatcher.writabilityChanged(ctx.channel());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ctx.fireChannelInactive();
        ClientSession s = session;
        if (s != null) {
            context.dispatcher.closed(s);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ErrorHandler.caught(ctx, cause);
    }

    @Override
    public void discardInput() {
        discarding = true;
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
}
