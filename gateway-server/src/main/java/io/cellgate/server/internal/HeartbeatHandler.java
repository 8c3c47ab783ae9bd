package io.cellgate.server.internal;

import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Pong;
import io.cellgate.protocol.v1.ServerFrame;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.List;

/** Answers pings with pongs (flushed with the read batch by {@link DispatchHandler}); closes a connection that was silent for three heartbeat intervals. */
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

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            ctx.writeAndFlush(Frames.goAway(Code.OK, "idle: no frame for 3 heartbeat intervals", 0, List.of()))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
