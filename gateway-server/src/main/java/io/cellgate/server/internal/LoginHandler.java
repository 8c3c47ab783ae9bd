package io.cellgate.server.internal;

import io.cellgate.protocol.LoginToken;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Login;
import io.cellgate.protocol.v1.LoginAck;
import io.cellgate.protocol.v1.ServerFrame;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The login step, after the frame step. Until a valid {@code Login} arrives: requests are answered
 * {@code UNAUTHENTICATED}, pings with a pong, and both count against {@code limits.pre-login-frames}: one
 * frame more and the connection gets a go_away and a close. A refused login (wrong token, a malformed
 * dye or login field, a login storm) gets a {@code LoginAck} saying why and a close; a connection
 * without a login after the configured timeout gets a go_away and a close. Every such close happens
 * within {@code limits.close-timeout} even if the peer never reads ({@link LastWord}). On success it
 * registers the session with its user ({@link UserSessions}: a login from the same device replaces
 * the older connection, and past {@code sessions.max-per-user} the oldest goes or the login is refused
 * {@code TOO_MANY_SESSIONS}), answers {@code LoginAck OK}, hands the new {@link ClientSession} to the frame
 * step (which lifts the frame size limit to the full one and gives every later frame to the
 * {@link Dispatcher}) and removes itself. Until then it is the connection's last step, and answers
 * the errors raised on it ({@link ErrorHandler#caught}).
 */
final class LoginHandler extends ChannelInboundHandlerAdapter {
    private final GatewayContext context;
    private ScheduledFuture<?> loginDeadline;
    /** Frames other than a login received so far. */
    private int framesBeforeLogin;
    /** The last word was said: whatever is still in the read batch is dropped. */
    private boolean closing;

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
            if (ctx.channel().isActive() && !closing) {
                closing = true;
                LastWord.sayAndClose(ctx.channel(), Frames.goAway(Code.UNAUTHENTICATED, "no login within " + timeoutMillis + " ms", 0,
                        List.of()));
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
        if (closing) {
            return;
        }
        ClientFrame frame = (ClientFrame) msg;
        if (frame.getKindCase() == ClientFrame.KindCase.LOGIN) {
            login(ctx, frame.getLogin());
            return;
        }
        int limit = context.config.edge().preLoginFrames();
        if (++framesBeforeLogin > limit) {
            // A client that floods before logging in costs the gateway a little per frame; a few
            // frames are enough for any real client (a ping, a request sent too early).
            closing = true;
            context.counters.preLoginClosed.increment();
            LastWord.sayAndClose(ctx.channel(), Frames.goAway(Code.UNAUTHENTICATED, "more than " + limit + " frames before login", 0,
                    List.of()));
            return;
        }
        if (frame.getKindCase() == ClientFrame.KindCase.REQUEST) {
            context.counters.requestsBeforeLogin.increment();
            ctx.write(Frames.response(frame.getRequest().getSeq(), Code.UNAUTHENTICATED, "log in first"), ctx.voidPromise());
        } else if (frame.getKindCase() == ClientFrame.KindCase.PING) {
            // Flushed with the read batch, by the frame step.
            ctx.write(Frames.pong(frame.getPing().getNonce()), ctx.voidPromise());
        }
        // A push ack before a login acknowledges nothing: counted above, else ignored.
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ErrorHandler.caught(ctx, cause);
    }

    private io.cellgate.server.config.DyeRule dyeRule(Login login) {
        for (io.cellgate.server.config.DyeRule rule : context.dyeRules()) {
            if (rule.matches(login.getUid(), login.getDevice(), login.getAppVersion())) {
                return rule;
            }
        }
        return null;
    }

    private void refuse(ChannelHandlerContext ctx, Code code, String message) {
        closing = true;
        LastWord.sayAndClose(ctx.channel(), ServerFrame.newBuilder().setLoginAck(LoginAck.newBuilder().setCode(code).setMessage(message))
                .build());
    }

    /**
     * One access-log line for this login's outcome. The client's fields go in only once they were
     * checked ({@code fieldsChecked}); a refusal for bad fields logs its uid, code and address alone.
     */
    private void logLogin(ChannelHandlerContext ctx, Login login, Code code, boolean fieldsChecked, ClientSession session) {
        AccessLog log = context.accessLog;
        if (log == null) {
            return;
        }
        log.login(login.getUid(), code.name(), session == null ? null : session.sessionId(), ctx.channel().remoteAddress(),
                fieldsChecked ? login.getDevice() : null, fieldsChecked ? login.getDeviceId() : null,
                fieldsChecked ? login.getAppVersion() : null, session == null ? null : session.dye);
    }

    private void login(ChannelHandlerContext ctx, Login login) {
        java.net.InetAddress source = ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress remote
                ? remote.getAddress() : null;
        if (!context.admissions().loginAllowed(source)) {
            // A login storm: refuse before spending an HMAC on it; the client retries later.
            context.counters.loginsRefused.increment();
            refuse(ctx, Code.RATE_LIMITED, "too many logins; retry after a random delay of 1-5 s");
            return;
        }
        String dye = login.hasDye() ? login.getDye().getTag() : "";
        String dyeProblem = ClientFields.dyeProblem(dye);
        if (dyeProblem != null) {
            context.counters.dyesRefused.increment();
            logLogin(ctx, login, Code.INVALID_REQUEST, false, null);
            refuse(ctx, Code.INVALID_REQUEST, dyeProblem);
            return;
        }
        String fieldProblem = ClientFields.loginProblem(login.getDevice(), login.getDeviceId(), login.getAppVersion());
        if (fieldProblem != null) {
            context.counters.loginFieldsRefused.increment();
            logLogin(ctx, login, Code.INVALID_REQUEST, false, null);
            refuse(ctx, Code.INVALID_REQUEST, fieldProblem);
            return;
        }
        LoginToken tokens = context.tokens();
        LoginToken.Verdict verdict = tokens.verify(login.getUid(), login.getToken(), System.currentTimeMillis() / 1000);
        if (verdict != LoginToken.Verdict.OK) {
            context.counters.loginsFailed.increment();
            logLogin(ctx, login, Code.UNAUTHENTICATED, true, null);
            refuse(ctx, Code.UNAUTHENTICATED, "token refused: " + verdict);
            return;
        }
        long now = System.currentTimeMillis() / 1000;
        long revokedUntil = context.upstreams.current().table.revokedUntil(login.getUid());
        if (revokedUntil > now) {
            context.counters.loginsRevoked.increment();
            logLogin(ctx, login, Code.UNAUTHENTICATED, true, null);
            refuse(ctx, Code.UNAUTHENTICATED, "revoked until " + revokedUntil);
            return;
        }
        context.counters.loginsOk.increment();
        long sessionKey = ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE;
        int loop = context.loopIndex(ctx.channel().eventLoop());
        // The gateway decides who is dyed: the first dye rule that matches the login; the client's own
        // dye counts only where that rule lets it choose.
        io.cellgate.server.config.DyeRule rule = dyeRule(login);
        String sessionDye = rule == null ? "" : rule.tag() == null ? "" : rule.tag();
        if (!dye.isEmpty()) {
            if (rule != null && rule.clientDye()) {
                sessionDye = dye;
            } else {
                context.counters.dyesIgnored.increment();
            }
        }
        ClientSession session = new ClientSession(ctx.channel(), login.getUid(), sessionKey, sessionDye, rule, login,
                tokens.lastExpiry(), loop);
        io.cellgate.server.config.SessionPolicy policy = context.config.sessions();
        UserSessions.Outcome outcome = context.userSessions.register(session, policy);
        if (!outcome.admitted()) {
            context.counters.loginsOverSessionLimit.increment();
            logLogin(ctx, login, Code.TOO_MANY_SESSIONS, true, null);
            refuse(ctx, Code.TOO_MANY_SESSIONS, "this user already holds " + policy.maxPerUser()
                    + " connections here (sessions.max-per-user; when-full: reject-new keeps them); close one first");
            return;
        }
        for (ClientSession old : outcome.replaced()) {
            context.counters.sessionsReplaced.increment();
            String why = !session.deviceId.isEmpty() && old.deviceId.equals(session.deviceId)
                    ? "replaced by a newer login from the same device"
                    : "replaced by a newer login of this user (at most " + policy.maxPerUser() + " connections per user)";
            old.channel.eventLoop().execute(() -> old.channel.pipeline().fireUserEventTriggered(Drain.replaced(why)));
        }
        logLogin(ctx, login, Code.OK, true, session);
        ctx.write(ServerFrame.newBuilder().setLoginAck(LoginAck.newBuilder().setCode(Code.OK)
                .setHeartbeatIntervalMs((int) context.config.heartbeatInterval().toMillis())
                .setSessionId(session.sessionId())).build(), ctx.voidPromise());
        ClientFrameSource.of(ctx.pipeline()).loggedIn(session);
        ctx.pipeline().remove(this);
    }
}
