package io.cellgate.server.internal;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;

/**
 * Assembles a client connection's pipeline in named steps:
 * {@code [tls ->] accept-limit -> frame-decoder -> login -> dispatch}
 * (a WebSocket connection has its own steps up to the frame decoder, {@link WebSocketChannelInitializer}).
 * The accept-limit step removes itself once the connection is admitted, the login step after a
 * successful login.
 */
public final class ClientChannelInitializer extends ChannelInitializer<SocketChannel> {
    private final GatewayContext context;

    public ClientChannelInitializer(GatewayContext context) {
        this.context = context;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        context.clients.add(ch);
        context.counters.connectionsAccepted.increment();
        GatewayContext.attach(ch, context);
        ChannelPipeline p = ch.pipeline();
        io.netty.handler.ssl.SslContext tls = context.clientTls();
        if (tls != null) {
            p.addLast("tls", tls.newHandler(ch.alloc()));
        }
        addSteps(p, context);
    }

    /** The steps after TLS; also what the fuzz tests drive on an embedded channel. */
    static void addSteps(ChannelPipeline p, GatewayContext context) {
        // The frame step encodes too: what any step writes to the channel (the accept limit's go_away
        // included, written from the pipeline's end) goes out as frames.
        p.addLast("accept-limit", new AcceptLimitHandler(context));
        p.addLast(ClientFrameSource.NAME, new ClientFrameCodec(context.config.maxFrameBytes(), context.config.edge().preLoginFrameBytes(),
                context.counters.framesIn));
        addSessionSteps(p, context);
    }

    /**
     * The steps from the login on, last in the pipeline: the same for TCP and WebSocket connections.
     * The dispatch step answers what reaches the end from then on ({@link ErrorHandler}'s rules), so a
     * WebSocket's {@code errors} step, last until the upgrade, goes: one handler context less on every
     * connection.
     */
    static void addSessionSteps(ChannelPipeline p, GatewayContext context) {
        if (p.get(ErrorHandler.NAME) != null) {
            p.remove(ErrorHandler.NAME);
        }
        // Login before dispatch: pings sent before a login count against limits.pre-login-frames; dispatch answers them.
        p.addLast("login", new LoginHandler(context));
        p.addLast(DispatchHandler.NAME, new DispatchHandler(context));
    }
}
