package io.cellgate.server.internal;

import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Pong;
import io.cellgate.protocol.v1.ServerFrame;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Answers pings with pongs (flushed with the read batch by {@link DispatchHandler}). Silence is
 * {@link IdleSweep}'s. A logged-in connection's pings count against its rate like requests; a ping over
 * it gets no pong. Before login the login step bounds them ({@code limits.pre-login-frames}).
 */
@ChannelHandler.Sharable
final class HeartbeatHandler extends ChannelInboundHandlerAdapter {
    static final HeartbeatHandler INSTANCE = new HeartbeatHandler();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ClientFrame frame && frame.getKindCase() == ClientFrame.KindCase.PING) {
            ClientSession session = ctx.channel().attr(GatewayContext.SESSION).get();
            if (session != null && session.requests != null && !session.requests.tryAcquire()) {
                return;
            }
            ctx.write(ServerFrame.newBuilder().setPong(Pong.newBuilder().setNonce(frame.getPing().getNonce())).build(),
                    ctx.voidPromise());
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
