package io.cellgate.testkit;

import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real gRPC server standing in for the AOs of one set, for gateway tests. Service {@code test.Ao}:
 * {@code Echo} answers {@code "<set>|<request bytes>"}; {@code Fail} answers INTERNAL; {@code Slow}
 * answers like Echo after 2 s. The headers of every call are kept for assertions. It also answers
 * {@code grpc.health.v1.Health/Check} with SERVING, and runs the AO write fence (ao-fence) in front of
 * everything, as an AO behind cellgate should: calls the fence refuses never reach the service (nor
 * {@link #calls()} or the kept headers).
 */
public final class TestAo implements AutoCloseable {
    public static final String ECHO = "test.Ao/Echo";
    private final java.util.Queue<Long> writeEpochs = new java.util.concurrent.ConcurrentLinkedQueue<>();
    public static final String FAIL = "test.Ao/Fail";
    public static final String SLOW = "test.Ao/Slow";

    /** Messages as plain bytes, as the gateway passes them. */
    private static final MethodDescriptor.Marshaller<ByteString> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public java.io.InputStream stream(ByteString value) {
            return value.newInput();
        }

        @Override
        public ByteString parse(java.io.InputStream stream) {
            try {
                return ByteString.readFrom(stream);
            } catch (IOException e) {
                throw Status.INTERNAL.withDescription("cannot read the message").withCause(e).asRuntimeException();
            }
        }
    };

    /** HealthCheckResponse{status: SERVING}: field 1, varint 1. */
    private static final ByteString SERVING = ByteString.copyFrom(new byte[] {0x08, 0x01});

    private final String setName;
    private final Server server;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final BlockingQueue<Metadata> headers = new LinkedBlockingQueue<>();
    private final AtomicLong calls = new AtomicLong();
    private final io.cellgate.fence.WriteFence fence = new io.cellgate.fence.WriteFence();
    private volatile Status failEcho;
    private volatile long echoDelayMillis;

    private volatile boolean healthHangs;

    /** Makes health checks go unanswered (an AO that accepts calls and hangs), or answered again. */
    public void hangHealth(boolean hang) {
        this.healthHangs = hang;
    }

    /** Makes Echo answer after {@code millis} (0: at once). */
    public void delayEcho(long millis) {
        this.echoDelayMillis = millis;
    }

    /** Makes Echo fail with {@code status} (null: answer again). */
    public void failEcho(Status status) {
        this.failEcho = status;
    }

    public TestAo(String setName) throws IOException {
        this(setName, 0);
    }

    /** An AO on {@code port} (0: any free port), e.g. to restart one where it was. */
    public TestAo(String setName, int port) throws IOException {
        this(setName, port, null, null, null);
    }

    /** An AO serving TLS with {@code certFile} and {@code keyFile} (PEM), on any free port. */
    public TestAo(String setName, java.io.File certFile, java.io.File keyFile) throws IOException {
        this(setName, 0, certFile, keyFile, null);
    }

    /** A TLS AO that requires a client certificate signed by {@code clientCaFile} (mutual TLS). */
    public TestAo(String setName, java.io.File certFile, java.io.File keyFile, java.io.File clientCaFile) throws IOException {
        this(setName, 0, certFile, keyFile, clientCaFile);
    }

    private TestAo(String setName, int port, java.io.File certFile, java.io.File keyFile, java.io.File clientCaFile) throws IOException {
        this.setName = setName;
        ServerServiceDefinition service = ServerServiceDefinition.builder("test.Ao")
                .addMethod(method(ECHO), ServerCalls.asyncUnaryCall((request, observer) -> {
                    Status fail = failEcho;
                    if (fail != null) {
                        observer.onError(fail.asRuntimeException());
                        return;
                    }
                    long delay = echoDelayMillis;
                    if (delay > 0) {
                        timer.schedule(() -> {
                            observer.onNext(reply(request));
                            observer.onCompleted();
                        }, delay, TimeUnit.MILLISECONDS);
                        return;
                    }
                    observer.onNext(reply(request));
                    observer.onCompleted();
                }))
                .addMethod(method(FAIL), ServerCalls.asyncUnaryCall((request, observer) ->
                        observer.onError(Status.INTERNAL.withDescription("fails on purpose").asRuntimeException())))
                .addMethod(method(SLOW), ServerCalls.<ByteString, ByteString>asyncUnaryCall((request, observer) ->
                        timer.schedule(() -> {
                            observer.onNext(reply(request));
                            observer.onCompleted();
                        }, 2, TimeUnit.SECONDS)))
                .build();
        ServerInterceptor capture = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata md, ServerCallHandler<Q, R> next) {
                headers.add(md);
                calls.incrementAndGet();
                if ("write".equals(md.get(io.cellgate.fence.FenceHeaders.ROUTE_CLASS))) {
                    String epoch = md.get(io.cellgate.fence.FenceHeaders.ROUTE_EPOCH);
                    writeEpochs.add(epoch == null ? -1 : Long.parseLong(epoch));
                }
                return next.startCall(call, md);
            }
        };
        ServerServiceDefinition health = ServerServiceDefinition.builder("grpc.health.v1.Health")
                .addMethod(method("grpc.health.v1.Health/Check"), ServerCalls.asyncUnaryCall((request, observer) -> {
                    if (healthHangs) {
                        return; // never answered: the caller's deadline ends it
                    }
                    observer.onNext(SERVING);
                    observer.onCompleted();
                }))
                .build();
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                .intercept(fence)
                .addService(ServerInterceptors.intercept(service, capture))
                .addService(health);
        if (certFile != null) {
            io.netty.handler.ssl.SslContextBuilder tls = io.grpc.netty.GrpcSslContexts.forServer(certFile, keyFile);
            if (clientCaFile != null) {
                tls.trustManager(clientCaFile).clientAuth(io.netty.handler.ssl.ClientAuth.REQUIRE);
            }
            builder.sslContext(tls.build());
        }
        this.server = builder.build().start();
    }

    private ByteString reply(ByteString request) {
        return ByteString.copyFrom(setName + "|", StandardCharsets.UTF_8).concat(request);
    }

    /** A unary method of byte messages, {@code package.Service/Method}: what a test's own gRPC service serves. */
    public static MethodDescriptor<ByteString, ByteString> method(String name) {
        return MethodDescriptor.<ByteString, ByteString>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(name)
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
    }

    public String address() {
        return "127.0.0.1:" + server.getPort();
    }

    public String setName() {
        return setName;
    }

    /** The headers of the next call received, waiting up to 5 s. */
    public Metadata nextHeaders() throws InterruptedException {
        return headers.poll(5, TimeUnit.SECONDS);
    }

    /** Takes every header received so far. */
    public java.util.List<Metadata> drainHeaders() {
        java.util.List<Metadata> out = new java.util.ArrayList<>();
        headers.drainTo(out);
        return out;
    }

    public void clearHeaders() {
        headers.clear();
    }

    public long calls() {
        return calls.get();
    }

    /** The route epoch of every write this AO accepted (passed its fence), in arrival order. */
    public java.util.List<Long> writeEpochs() {
        return java.util.List.copyOf(writeEpochs);
    }

    /** The AO's write fence: its fence epoch and the writes it refused. */
    public io.cellgate.fence.WriteFence fence() {
        return fence;
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        timer.shutdownNow();
    }

    /**
     * A test AO in a process of its own ({@link AoProcess}): {@code TestAo SET}. Prints
     * {@code test AO SET on port N} once serving, and ends when its standard input closes.
     */
    public static void main(String[] args) throws Exception {
        try (TestAo ao = new TestAo(args[0])) {
            System.out.println("test AO " + args[0] + " on port " + ao.server.getPort());
            System.out.flush();
            while (System.in.read() >= 0) {
                // the parent holds the pipe open while it wants the AO
            }
        }
    }
}
