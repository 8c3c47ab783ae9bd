package io.cellgate.server;

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
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The admin gRPC server: its transport shares the gateway's event loops; the calls run on a small
 * executor of their own ({@code cellgate-admin}), since they write the route store and may wait.
 * Every call must carry {@code authorization: Bearer <token>}: the admin token may do everything, the
 * read-only token (when configured) only the {@link #READ_METHODS}. Every change is audited, one line
 * on the {@code io.cellgate.audit} logger. With {@code admin.tls} the API speaks TLS only, and with a
 * client CA it requires a client certificate signed by it.
 */
final class AdminServer implements AutoCloseable {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final Server server;
    private final ExecutorService executor;

    private AdminServer(Server server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** The admin API's methods that change nothing: the read-only token may call these, and only these. */
    static final java.util.Set<String> READ_METHODS = java.util.Set.of("Status", "GetRoutes", "Locate", "ListCommands", "GetLimits",
            "ListConnections", "CityStatus", "GetDyeRules");

    /** What a presented token may do. */
    enum Scope {
        ADMIN, READ
    }

    private static final java.util.logging.Logger AUDIT = java.util.logging.Logger.getLogger("io.cellgate.audit");

    static AdminServer start(GatewayServer gateway, String host, int port, byte[] token, io.cellgate.server.config.AdminAccess access,
                             EventLoopGroup boss, EventLoopGroup workers, Class<? extends ServerSocketChannel> channelType) throws IOException {
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "cellgate-admin");
            t.setDaemon(true);
            return t;
        });
        byte[] admin = bearer(token);
        byte[] read = access.readToken() == null ? null : bearer(access.readToken());
        ServerInterceptor auth = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                String presented = headers.get(AUTHORIZATION);
                byte[] bytes = presented == null ? new byte[0] : presented.getBytes(StandardCharsets.UTF_8);
                // Both comparisons always run, in constant time: how long a refusal takes says nothing of the tokens.
                boolean isAdmin = MessageDigest.isEqual(admin, bytes);
                boolean isRead = read != null && MessageDigest.isEqual(read, bytes);
                String method = call.getMethodDescriptor().getBareMethodName();
                String remote = String.valueOf(call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
                boolean change = !READ_METHODS.contains(method);
                if (!isAdmin && !isRead) {
                    if (change) {
                        AUDIT.warning(() -> "audit: " + method + " from " + remote + " refused: admin token missing or wrong");
                    }
                    call.close(Status.UNAUTHENTICATED.withDescription(
                            "admin token missing or wrong (expected: the gateway's admin token, e.g. --admin-token-file)"), new Metadata());
                    return new ServerCall.Listener<>() {
                    };
                }
                Scope scope = isAdmin ? Scope.ADMIN : Scope.READ;
                if (change && scope == Scope.READ) {
                    AUDIT.warning(() -> "audit: " + method + " by token read from " + remote
                            + " refused: the read-only token may not change anything");
                    call.close(Status.PERMISSION_DENIED.withDescription(method + ": this token may only read (scope read); "
                            + "changes need the admin token"), new Metadata());
                    return new ServerCall.Listener<>() {
                    };
                }
                return change ? Audited.start(call, headers, next, method, remote, gateway) : next.startCall(call, headers);
            }
        };
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .bossEventLoopGroup(boss)
                .workerEventLoopGroup(workers)
                .channelType(channelType)
                .executor(executor)
                .addService(ServerInterceptors.intercept(new AdminService(gateway), auth));
        if (access.tls()) {
            io.netty.handler.ssl.SslContextBuilder tls = io.grpc.netty.GrpcSslContexts.forServer(access.certFile().toFile(),
                    access.keyFile().toFile());
            if (access.clientCaFile() != null) {
                tls.trustManager(access.clientCaFile().toFile()).clientAuth(io.netty.handler.ssl.ClientAuth.REQUIRE);
            }
            builder.sslContext(tls.build());
        }
        Server server;
        try {
            server = builder.build().start();
        } catch (IOException | RuntimeException e) {
            executor.shutdownNow();
            throw e;
        }
        return new AdminServer(server, executor);
    }

    private static byte[] bearer(byte[] token) {
        return ("Bearer " + new String(token, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * One audit line per change, when it is answered: what (the method and its request, shortened),
     * who (the token's name and the client's address), the outcome, and the route epoch before and
     * after. The tokens themselves are never written.
     */
    private static final class Audited<Q, R> extends io.grpc.ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private final String method;
        private final String remote;
        private final GatewayServer gateway;
        private final long epochBefore;
        private volatile String request = "";

        private Audited(ServerCall<Q, R> call, String method, String remote, GatewayServer gateway) {
            super(call);
            this.method = method;
            this.remote = remote;
            this.gateway = gateway;
            this.epochBefore = gateway.routes().current().epoch();
        }

        static <Q, R> ServerCall.Listener<Q> start(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next, String method,
                                                   String remote, GatewayServer gateway) {
            Audited<Q, R> audited = new Audited<>(call, method, remote, gateway);
            return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(audited, headers)) {
                @Override
                public void onMessage(Q message) {
                    audited.request = message instanceof com.google.protobuf.MessageOrBuilder m
                            ? shorten(com.google.protobuf.TextFormat.printer().emittingSingleLine(true).printToString(m)) : "";
                    super.onMessage(message);
                }
            };
        }

        @Override
        public void close(Status status, Metadata trailers) {
            String outcome = status.isOk() ? "OK" : status.getCode() + (status.getDescription() == null ? "" : ": "
                    + shorten(status.getDescription()));
            long epochAfter = gateway.routes().current().epoch();
            AUDIT.info(() -> "audit: " + method + " {" + request + "} by token admin from " + remote + ": " + outcome
                    + " (route epoch " + epochBefore + " -> " + epochAfter + ")");
            super.close(status, trailers);
        }

        /** At most 300 characters, on one line. */
        private static String shorten(String s) {
            String line = s.replace('\n', ' ').replace('\r', ' ');
            return line.length() <= 300 ? line : line.substring(0, 300) + "...(" + line.length() + " chars)";
        }
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        stop(server, executor);
    }

    /** Stops a gRPC server of the gateway's own (calls in flight get 2 s) and the executor its calls ran on. */
    static void stop(Server server, ExecutorService executor) {
        server.shutdown();
        try {
            if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
    }
}
