package io.cellgate.server.internal;

import io.cellgate.protocol.v1.Code;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The per-address step: a connection from an address that already holds
 * {@code admission.max-connections-per-address} gets {@code go_away{RATE_LIMITED}} with a jittered
 * reconnect delay and is closed, before it costs a login. Otherwise it removes itself. (The
 * gateway-wide accept rate is enforced before a connection gets here, by {@link AcceptRateHandler}
 * on the listening socket.)
 */
final class AcceptLimitHandler extends ChannelInboundHandlerAdapter {
    private final GatewayContext context;
    /** Say go_away before closing (TCP); a WebSocket connection has no frame to say it in before its upgrade. */
    private final boolean sayGoAway;

    AcceptLimitHandler(GatewayContext context) {
        this(context, true);
    }

    AcceptLimitHandler(GatewayContext context, boolean sayGoAway) {
        this.context = context;
        this.sayGoAway = sayGoAway;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        int perAddress = context.admission().maxConnectionsPerAddress();
        if (perAddress > 0 && ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress remote) {
            java.net.InetAddress address = remote.getAddress();
            // An IPv6 client is counted by its source prefix (a /64 by default): one host commonly holds all of it.
            int v6Bits = context.admission().fairness().prefixV6();
            long key = SourcePrefix.key(address, 32, v6Bits);
            if (!context.acquireAddress(key, perAddress)) {
                context.counters.addressLimited.increment();
                if (!sayGoAway) {
                    ctx.close();
                    return;
                }
                LastWord.sayAndClose(ctx.channel(), Frames.goAway(Code.RATE_LIMITED, "too many connections from "
                        + SourcePrefix.text(address, v6Bits) + " (limit " + perAddress + ")",
                        ThreadLocalRandom.current().nextInt(5_000, 15_000), context.alternates()));
                return;
            }
            ctx.channel().closeFuture().addListener(f -> context.releaseAddress(key));
        }
        ctx.pipeline().remove(this);
        ctx.fireChannelActive();
    }
}
