package io.cellgate.server;

import io.cellgate.server.config.PushConfig;
import io.cellgate.server.internal.GatewayContext;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.ExecutorService;

/**
 * The push API's gRPC server ({@code push.listen}), for services: its transport shares the gateway's
 * event loops; the calls run on an executor of their own ({@code cellgate-push}), since a push to many
 * users looks each of them up before any loop is asked to write. Every call must carry
 * {@code authorization: Bearer <push token>}; with {@code push.tls} it speaks TLS only, and with a
 * client CA it requires a client certificate signed by it.
 */
final class PushServer implements AutoCloseable {
    /** Set by a gateway that forwards a push to this one: the push id to use; the receiver pushes locally only. */
    static final Metadata.Key<String> FORWARDED = Metadata.Key.of("x-cellgate-push-forwarded", Metadata.ASCII_STRING_MARSHALLER);
    /** The forwarded push's id within the call, or null when the call came from a service. */
    static final io.grpc.Context.Key<Long> FORWARDED_ID = io.grpc.Context.key("cellgate-push-forwarded");

    private final Server server;
    private final ExecutorService executor;

    private PushServer(Server server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    static PushServer start(GatewayContext context, PushConfig config, PushForwarder forwarder, EventLoopGroup boss, EventLoopGroup workers,
                            Class<? extends ServerSocketChannel> channelType) throws IOException {
        // Event loops hand it work too (a push's reply is built here once its last connection is written),
        // so its queue takes a task without a lock: a LinkedBlockingQueue's offer takes the consumers'
        // lock to wake one, and can park an event loop behind a worker.
        ExecutorService executor = new java.util.concurrent.ThreadPoolExecutor(2, 2, 0, java.util.concurrent.TimeUnit.MILLISECONDS,
                new java.util.concurrent.LinkedTransferQueue<>(), r -> {
                    Thread t = new Thread(r, "cellgate-push");
                    t.setDaemon(true);
                    return t;
                });
        byte[] expected = ("Bearer " + new String(config.token(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        ServerInterceptor auth = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                String presented = headers.get(AdminServer.AUTHORIZATION);
                byte[] bytes = presented == null ? new byte[0] : presented.getBytes(StandardCharsets.UTF_8);
                if (!MessageDigest.isEqual(expected, bytes)) {
                    call.close(Status.UNAUTHENTICATED.withDescription("push token missing or wrong (expected: authorization: Bearer "
                            + "<the gateway's push token>)"), new Metadata());
                    return new ServerCall.Listener<>() {
                    };
                }
                String forwarded = headers.get(FORWARDED);
                if (forwarded != null) {
                    long id;
                    try {
                        id = Long.parseUnsignedLong(forwarded);
                    } catch (NumberFormatException e) {
                        call.close(Status.INVALID_ARGUMENT.withDescription("x-cellgate-push-forwarded: " + forwarded
                                + " (expected: a push id)"), new Metadata());
                        return new ServerCall.Listener<>() {
                        };
                    }
                    return io.grpc.Contexts.interceptCall(io.grpc.Context.current().withValue(FORWARDED_ID, id), call, headers, next);
                }
                return next.startCall(call, headers);
            }
        };
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.port()))
                .bossEventLoopGroup(boss)
                .workerEventLoopGroup(workers)
                .channelType(channelType)
                .executor(executor)
                .maxInboundMessageSize(8 << 20)
                .addService(ServerInterceptors.intercept(new PushService(context, executor, forwarder), auth));
        if (config.tls()) {
            io.netty.handler.ssl.SslContextBuilder tls = io.grpc.netty.GrpcSslContexts.forServer(config.certFile().toFile(),
                    config.keyFile().toFile());
            if (config.clientCaFile() != null) {
                tls.trustManager(config.clientCaFile().toFile()).clientAuth(io.netty.handler.ssl.ClientAuth.REQUIRE);
            }
            builder.sslContext(tls.build());
        }
        try {
            return new PushServer(builder.build().start(), executor);
        } catch (IOException | RuntimeException e) {
            executor.shutdownNow();
            throw e;
        }
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        AdminServer.stop(server, executor);
    }
}
