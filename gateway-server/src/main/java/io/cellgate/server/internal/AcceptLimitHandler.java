package io.cellgate.server.internal;

import io.cellgate.protocol.v1.Code;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The accept-rate step: when the gateway-wide accept bucket is empty (a reconnect storm), a new
 * connection gets {@code go_away{RATE_LIMITED}} with a jittered reconnect delay and is closed, before
 * it costs a login. A connection from an address that already holds
 * {@code admission.max-connections-per-address} gets {@code go_away{RATE_LIMITED}} too. Otherwise it
 * removes itself.
 */
final class AcceptLimitHandler extends ChannelInboundHandlerAdapter {
    private final GatewayContext context;

    AcceptLimitHandler(GatewayContext context) {
        this.context = context;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!context.admissions().acceptAllowed()) {
            context.counters.acceptsRefused.increment();
            int delay = ThreadLocalRandom.current().nextInt(1_000, 5_000);
            ctx.writeAndFlush(Frames.goAway(Code.RATE_LIMITED, "too many new connections; reconnect later", delay,
                    context.alternates())).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        int perAddress = context.admission().maxConnectionsPerAddress();
        if (perAddress > 0 && ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress remote) {
            java.net.InetAddress address = remote.getAddress();
            if (!context.acquireAddress(address, perAddress)) {
                context.counters.addressLimited.increment();
                ctx.writeAndFlush(Frames.goAway(Code.RATE_LIMITED, "too many connections from " + address.getHostAddress()
                                + " (limit " + perAddress + ")", ThreadLocalRandom.current().nextInt(5_000, 15_000), context.alternates()))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            ctx.channel().closeFuture().addListener(f -> context.releaseAddress(address));
        }
        ctx.pipeline().remove(this);
        ctx.fireChannelActive();
    }
}
