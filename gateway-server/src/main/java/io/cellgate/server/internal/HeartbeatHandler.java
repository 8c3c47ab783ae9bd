package io.cellgate.server.internal;

import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Pong;
import io.cellgate.protocol.v1.ServerFrame;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/** Answers pings with pongs (flushed with the read batch by {@link DispatchHandler}). Silence is {@link IdleSweep}'s. */
@ChannelHandler.Sharable
final class HeartbeatHandler extends ChannelInboundHandlerAdapter {
    static final HeartbeatHandler INSTANCE = new HeartbeatHandler();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ClientFrame frame && frame.getKindCase() == ClientFrame.KindCase.PING) {
            ctx.write(ServerFrame.newBuilder().setPong(Pong.newBuilder().setNonce(frame.getPing().getNonce())).build(),
                    ctx.voidPromise());
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
