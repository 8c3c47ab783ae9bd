package io.cellgate.server.internal;

import io.cellgate.protocol.LoginToken;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Login;
import io.cellgate.protocol.v1.LoginAck;
import io.cellgate.protocol.v1.ServerFrame;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The login step. Until a valid {@code Login} arrives: requests are answered {@code UNAUTHENTICATED},
 * a wrong token gets a {@code LoginAck} with {@code UNAUTHENTICATED} and a close, and a connection
 * without a login after the configured timeout gets a go_away and a close. On success it answers
 * {@code LoginAck OK}, hands the new {@link ClientSession} to the next steps as a user event and
 * removes itself.
 */
final class LoginHandler extends ChannelInboundHandlerAdapter {
    private final GatewayContext context;
    private ScheduledFuture<?> loginDeadline;

    LoginHandler(GatewayContext context) {
        this.context = context;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            armDeadline(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        armDeadline(ctx);
        ctx.fireChannelActive();
    }

    private void armDeadline(ChannelHandlerContext ctx) {
        if (loginDeadline != null) {
            return;
        }
        long timeoutMillis = context.config.loginTimeout().toMillis();
        loginDeadline = ctx.executor().schedule(() -> {
            if (ctx.channel().isActive()) {
                ctx.writeAndFlush(Frames.goAway(Code.UNAUTHENTICATED, "no login within " + timeoutMillis + " ms", 0, List.of()))
                        .addListener(ChannelFutureListener.CLOSE);
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (loginDeadline != null) {
            loginDeadline.cancel(false);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ClientFrame frame = (ClientFrame) msg;
        switch (frame.getKindCase()) {
            case LOGIN:
                login(ctx, frame.getLogin());
                break;
            case REQUEST:
                context.counters.requestsBeforeLogin.increment();
                ctx.write(Frames.response(frame.getRequest().getSeq(), Code.UNAUTHENTICATED, "log in first"), ctx.voidPromise());
                break;
            default:
                ctx.fireChannelRead(msg);
        }
    }

    private void login(ChannelHandlerContext ctx, Login login) {
        if (!context.admissions().loginAllowed()) {
            // A login storm: refuse before spending an HMAC on it; the client retries later.
            context.counters.loginsRefused.increment();
            ServerFrame ack = ServerFrame.newBuilder().setLoginAck(LoginAck.newBuilder()
                    .setCode(Code.RATE_LIMITED).setMessage("too many logins; retry after a random delay of 1-5 s")).build();
            ctx.writeAndFlush(ack).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        LoginToken.Verdict verdict = context.tokens().verify(login.getUid(), login.getToken(), System.currentTimeMillis() / 1000);
        if (verdict != LoginToken.Verdict.OK) {
            context.counters.loginsFailed.increment();
            ServerFrame ack = ServerFrame.newBuilder().setLoginAck(LoginAck.newBuilder()
                    .setCode(Code.UNAUTHENTICATED).setMessage("token refused: " + verdict)).build();
            ctx.writeAndFlush(ack).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        context.counters.loginsOk.increment();
        String sessionId = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
        int loop = context.loopIndex(ctx.channel().eventLoop());
        ClientSession session = new ClientSession(ctx.channel(), login.getUid(), sessionId,
                login.hasDye() ? login.getDye().getTag() : "", loop, context.admissions().connectionBucket(),
                context.responseWriter(loop));
        ctx.write(ServerFrame.newBuilder().setLoginAck(LoginAck.newBuilder().setCode(Code.OK)
                .setHeartbeatIntervalMs((int) context.config.heartbeatInterval().toMillis())
                .setSessionId(sessionId)).build(), ctx.voidPromise());
        ctx.channel().attr(GatewayContext.SESSION).set(session);
        ctx.pipeline().remove(this);
        ctx.fireUserEventTriggered(session);
    }
}
