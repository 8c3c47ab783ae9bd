package io.cellgate.server.internal;

import io.cellgate.server.config.WebSocketConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.CharsetUtil;

/**
 * A WebSocket client connection's pipeline:
 * {@code [tls ->] http -> http-aggregator -> ws-gate -> ws-protocol -> ws-aggregator -> frame-decoder},
 * and once the upgrade is done the same steps as TCP after it ({@code login -> dispatch}, see {@link ClientChannelInitializer}): the same limits, admission, metrics and
 * sessions. The gate answers the upgrade request itself when its path is not the configured one (404)
 * or its {@code Origin} is not allowed (403); after the upgrade it counts WebSocket pings and pongs as
 * the client's heartbeat. Netty's protocol step answers pings, closes on a close frame, refuses a
 * message over the size limit (1009) and bounds the upgrade by the login timeout. A connection over
 * the per-address limit is closed before the upgrade (there is no frame to say why in yet).
 */
public final class WebSocketChannelInitializer extends ChannelInitializer<SocketChannel> {
    private final GatewayContext context;
    private final io.netty.handler.ssl.SslContext tls;

    public WebSocketChannelInitializer(GatewayContext context, io.netty.handler.ssl.SslContext tls) {
        this.context = context;
        this.tls = tls;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        context.counters.connectionsAccepted.increment();
        GatewayContext.attach(ch, context);
        WebSocketConfig ws = context.config.webSocket();
        ChannelPipeline p = ch.pipeline();
        if (tls != null) {
            p.addLast("tls", tls.newHandler(ch.alloc()));
        }
        p.addLast("accept-limit", new AcceptLimitHandler(context, false));
        p.addLast("http", new HttpServerCodec(4096, 8192, 8192));
        p.addLast("http-aggregator", new HttpObjectAggregator(8192));
        p.addLast("ws-gate", new Gate(ws));
        p.addLast("ws-protocol", new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(ws.path())
                .checkStartsWith(false)
                .maxFramePayloadLength(context.config.maxFrameBytes())
                .handshakeTimeoutMillis(context.config.loginTimeout().toMillis())
                .forceCloseTimeoutMillis(context.config.edge().closeTimeout().toMillis())
                .dropPongFrames(true)
                .build()));
        p.addLast("ws-aggregator", new WebSocketFrameAggregator(context.config.maxFrameBytes()));
        WebSocketClientFrames frames = new WebSocketClientFrames(context);
        p.addLast(ClientFrameSource.NAME, frames);
        p.addLast(ErrorHandler.NAME, ErrorHandler.INSTANCE);
        context.clients.add(ch, frames);
    }

    /**
     * Before the upgrade: only the configured path, only allowed origins. After it: pings and pongs are
     * signs of life, like any frame.
     */
    private static final class Gate extends ChannelInboundHandlerAdapter {
        private final WebSocketConfig ws;

        Gate(WebSocketConfig ws) {
            this.ws = ws;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FullHttpRequest request) {
                String path = new QueryStringDecoder(request.uri()).path();
                String origin = request.headers().get(HttpHeaderNames.ORIGIN);
                if (!path.equals(ws.path())) {
                    refuse(ctx, request, HttpResponseStatus.NOT_FOUND, "no WebSocket at " + path + " (expected: " + ws.path() + ")");
                    return;
                }
                if (origin != null && !ws.allows(origin)) {
                    refuse(ctx, request, HttpResponseStatus.FORBIDDEN, "origin " + origin + " is not allowed (listen.websocket-origins)");
                    return;
                }
            } else if (msg instanceof PingWebSocketFrame || msg instanceof PongWebSocketFrame) {
                WebSocketClientFrames frames = ctx.pipeline().get(WebSocketClientFrames.class);
                if (frames != null) {
                    frames.heardFrom();
                }
            }
            ctx.fireChannelRead(msg);
        }

        private static void refuse(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status, String why) {
            request.release();
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    ctx.alloc().buffer().writeBytes((why + "\n").getBytes(CharsetUtil.UTF_8)));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            response.headers().set(HttpHeaderNames.CONNECTION, "close");
            ctx.writeAndFlush(response).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
        }
    }
}
