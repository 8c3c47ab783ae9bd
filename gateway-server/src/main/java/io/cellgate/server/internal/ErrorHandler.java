package io.cellgate.server.internal;

import io.cellgate.protocol.v1.Code;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What reaches the end of a client pipeline: a protocol violation gets a go_away with
 * {@code BAD_FRAME} and a close; a broken socket is closed quietly; anything else is logged and closed
 * with {@code INTERNAL}. Messages that reach this point unhandled are released. The last step of a
 * WebSocket connection until its upgrade; the frame and login steps apply these rules ({@link #caught})
 * to what is raised in or before them.
 */
@ChannelHandler.Sharable
final class ErrorHandler extends ChannelInboundHandlerAdapter {
    static final String NAME = "errors";
    static final ErrorHandler INSTANCE = new ErrorHandler();
    private static final Logger LOG = Logger.getLogger(ErrorHandler.class.getName());

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        caught(ctx, cause);
    }

    /** Answers {@code cause}, raised in or before {@code ctx}'s step, and closes the connection. */
    static void caught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (!ctx.channel().isActive()) {
            return;
        }
        if (root instanceof BadFrameException) {
            GatewayContext.of(ctx).counters.badFrames.increment();
            LastWord.sayAndClose(ctx.channel(), Frames.goAway(Code.BAD_FRAME, root.getMessage(), 0, List.of()));
        } else if (root instanceof IOException) {
            ctx.close();
        } else {
            LOG.log(Level.WARNING, "closing " + ctx.channel() + " after an unexpected error", cause);
            LastWord.sayAndClose(ctx.channel(), Frames.goAway(Code.INTERNAL, "internal error", 0, List.of()));
        }
    }
}
