package io.cellgate.server.internal;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;

/**
 * Assembles a client connection's pipeline in named steps:
 * {@code [tls ->] accept-limit -> frame-decoder -> login}
 * (a WebSocket connection has its own steps up to the frame decoder, {@link WebSocketChannelInitializer}).
 * The accept-limit step removes itself once the connection is admitted, the login step after a
 * successful login; the frame step then hands every frame to the gateway's {@link Dispatcher}
 * (see {@link ClientFrameSource}), so a logged-in connection's pipeline is {@code [tls ->] frame-decoder}.
 */
public final class ClientChannelInitializer extends ChannelInitializer<SocketChannel> {
    private final GatewayContext context;

    public ClientChannelInitializer(GatewayContext context) {
        this.context = context;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        context.counters.connectionsAccepted.increment();
        GatewayContext.attach(ch, context);
        ChannelPipeline p = ch.pipeline();
        io.netty.handler.ssl.SslContext tls = context.clientTls();
        if (tls != null) {
            p.addLast("tls", tls.newHandler(ch.alloc()));
        }
        addSteps(p, context);
        context.clients.add(ch, ClientFrameSource.of(p));
    }

    /** The steps after TLS; also what the fuzz tests drive on an embedded channel. */
    static void addSteps(ChannelPipeline p, GatewayContext context) {
        // The frame step encodes too: what any step writes to the channel (the accept limit's go_away
        // included, written from the pipeline's end) goes out as frames.
        p.addLast("accept-limit", new AcceptLimitHandler(context));
        p.addLast(ClientFrameSource.NAME, new ClientFrameCodec(context.codecShared()));
        addSessionSteps(p, context);
    }

    /**
     * The login step, last in the pipeline: the same for TCP and WebSocket connections. It answers what
     * reaches the end until the login, the frame step after it ({@link ErrorHandler}'s rules), so a
     * WebSocket's {@code errors} step, last until the upgrade, goes: one handler context less on every
     * connection.
     */
    static void addSessionSteps(ChannelPipeline p, GatewayContext context) {
        if (p.get(ErrorHandler.NAME) != null) {
            p.remove(ErrorHandler.NAME);
        }
        p.addLast("login", new LoginHandler(context));
    }
}
