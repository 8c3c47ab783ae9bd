package io.cellgate.server.internal;

import io.cellgate.protocol.v1.Code;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * On the listening socket, ahead of Netty's acceptor: when the gateway-wide accept bucket is empty (a
 * reconnect storm), a new connection is refused right here, on the acceptor's own event loop: it gets
 * {@code go_away{RATE_LIMITED}} with a jittered reconnect delay (through TLS when the port has it)
 * and is closed. It never reaches the worker loops, so a storm of refusals costs the clients they
 * already serve nothing but CPU. Connections within the rate go on to the acceptor.
 */
@ChannelHandler.Sharable
public final class AcceptRateHandler extends ChannelInboundHandlerAdapter {
    private static final long CLOSE_AFTER_SECONDS = 5;
    private final GatewayContext context;

    public AcceptRateHandler(GatewayContext context) {
        this.context = context;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Channel child) || context.admissions().acceptAllowed(remoteAddress(child))) {
            ctx.fireChannelRead(msg);
            return;
        }
        context.counters.acceptsRefused.increment();
        SslContext tls = context.clientTls();
        if (tls != null) {
            child.pipeline().addLast("tls", tls.newHandler(child.alloc()));
        }
        child.pipeline().addLast("frame-encoder", ServerFrameEncoder.INSTANCE);
        child.pipeline().addLast("refusal", new Refusal());
        ctx.channel().eventLoop().register(child).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                child.unsafe().closeForcibly();
            }
        });
    }

    private static java.net.InetAddress remoteAddress(Channel child) {
        return child.remoteAddress() instanceof java.net.InetSocketAddress remote ? remote.getAddress() : null;
    }

    /** Says why and when to come back, then closes. */
    private final class Refusal extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            // A client that never finishes the TLS handshake or never reads does not keep the descriptor.
            ScheduledFuture<?> deadline = ctx.executor().schedule(() -> ctx.close(), CLOSE_AFTER_SECONDS, TimeUnit.SECONDS);
            ctx.channel().closeFuture().addListener(f -> deadline.cancel(false));
            int delay = ThreadLocalRandom.current().nextInt(1_000, 5_000);
            ctx.writeAndFlush(Frames.goAway(Code.RATE_LIMITED, "too many new connections; reconnect later", delay,
                    context.alternates())).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            // Whatever the client sent before it read the go_away is not looked at.
            io.netty.util.ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
