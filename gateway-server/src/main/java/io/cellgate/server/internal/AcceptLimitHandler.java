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
 * it costs a login. Otherwise it removes itself.
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
        ctx.pipeline().remove(this);
        ctx.fireChannelActive();
    }
}
