package io.cellgate.server.internal;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * Assembles a client connection's pipeline in named steps:
 * {@code frame-decoder -> frame-encoder -> idle -> heartbeat -> login -> dispatch -> errors}.
 * The login step removes itself after a successful login.
 */
public final class ClientChannelInitializer extends ChannelInitializer<SocketChannel> {
    private final GatewayContext context;

    public ClientChannelInitializer(GatewayContext context) {
        this.context = context;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        long heartbeatMillis = context.config.heartbeatInterval().toMillis();
        ChannelPipeline p = ch.pipeline();
        p.addLast("frame-decoder", new ClientFrameDecoder(context.config.maxFrameBytes()));
        p.addLast("frame-encoder", ServerFrameEncoder.INSTANCE);
        p.addLast("idle", new IdleStateHandler(3 * heartbeatMillis, 0, 0, TimeUnit.MILLISECONDS));
        p.addLast("heartbeat", HeartbeatHandler.INSTANCE);
        p.addLast("login", new LoginHandler(context));
        p.addLast("dispatch", new DispatchHandler(context));
        p.addLast("errors", ErrorHandler.INSTANCE);
    }
}
