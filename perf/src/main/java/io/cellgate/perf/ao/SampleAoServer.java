package io.cellgate.perf.ao;

import io.cellgate.sample.v1.EchoReply;
import io.cellgate.sample.v1.EchoRequest;
import io.cellgate.sample.v1.GetReply;
import io.cellgate.sample.v1.GetRequest;
import io.cellgate.sample.v1.PutReply;
import io.cellgate.sample.v1.PutRequest;
import io.cellgate.sample.v1.SampleAoGrpc;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real gRPC server playing the AOs of one set: {@code cellgate.sample.v1.SampleAo} (echo, a
 * key-value get/put) whose replies name the set, plus {@code grpc.health.v1}. Latency and an error
 * rate can be injected; delayed replies are scheduled, never slept, so the server's threads are not
 * held.
 *
 * <p>{@code java ... io.cellgate.perf.ao.SampleAoServer --set sz-a --port 7101 [--latency-ms 0]
 * [--error-rate 0.0] [--concurrency 0] [--stats] [--register-etcd http://127.0.0.1:2379 [--prefix /cellgate/default/]]}
 *
 * <p>{@code --stats} prints, each second with calls, the calls that arrived and were answered and the
 * slowest from arrival (its headers read) to answer, as this process measured it: how long a caller's
 * deadline has to cover here, apart from the network and the caller.
 */
public final class SampleAoServer implements AutoCloseable {
    /** The command word of the pushes Notify sends. */
    public static final int NOTIFY_PUSH_CMD = 100;
    private final String setName;
    private final Server server;
    private final ScheduledExecutorService delays;
    private final ConcurrentHashMap<String, Versioned> store = new ConcurrentHashMap<>();
    private final AtomicLong served = new AtomicLong();
    private volatile long latencyMicros;
    private volatile double errorRate;
    /** Requests processed at once; more wait in FIFO order (a backend of bounded capacity). 0 = unlimited. */
    private volatile int concurrency;
    private final io.cellgate.fence.WriteFence fence = new io.cellgate.fence.WriteFence();
    /** The caller's uid (the gateway's x-cellgate-uid header), for Notify. */
    private static final io.grpc.Context.Key<String> CALLER = io.grpc.Context.key("cellgate-uid");
    private static final io.grpc.Metadata.Key<String> UID_HEADER = io.grpc.Metadata.Key.of("x-cellgate-uid",
            io.grpc.Metadata.ASCII_STRING_MARSHALLER);
    /** The gateway's push API, once {@link #pushThrough} is called; null until then. */
    private volatile io.cellgate.protocol.v1.PushGrpc.PushFutureStub push;
    private volatile io.grpc.ManagedChannel pushChannel;
    private int active;
    /** The calls of this second (not health checks): arrived, answered, and the slowest answer in ns. */
    private final AtomicLong statsArrived = new AtomicLong();
    private final AtomicLong statsAnswered = new AtomicLong();
    private final AtomicLong statsSlowestNanos = new AtomicLong();
    /** Set by {@code --stats}: until then calls are not timed (the hop benchmark's AO does no extra work). */
    private volatile boolean timing;
    private final java.util.ArrayDeque<Runnable> waiting = new java.util.ArrayDeque<>();

    private record Versioned(ByteString value, long version) {
    }

    public SampleAoServer(String setName, String host, int port, long latencyMicros, double errorRate) throws IOException {
        this.setName = setName;
        this.latencyMicros = latencyMicros;
        this.errorRate = errorRate;
        this.delays = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sample-ao-" + setName + "-delay");
            t.setDaemon(true);
            return t;
        });
        HealthStatusManager health = new HealthStatusManager();
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                // Writes from a gateway whose routes predate a city switch are refused (see ao-fence).
                .intercept(fence)
                .intercept(new io.grpc.ServerInterceptor() {
                    @Override
                    public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, io.grpc.Metadata headers,
                                                                            io.grpc.ServerCallHandler<Q, R> next) {
                        String uid = headers.get(UID_HEADER);
                        return uid == null ? next.startCall(call, headers)
                                : io.grpc.Contexts.interceptCall(io.grpc.Context.current().withValue(CALLER, uid), call, headers, next);
                    }
                })
                .addService(new Service())
                .addService(health.getHealthService())
                .addStreamTracerFactory(new CallTimer())
                .build()
                .start();
    }

    private static final io.grpc.ServerStreamTracer UNTIMED = new io.grpc.ServerStreamTracer() {
    };

    /** Times each call but health checks from its arrival (headers read, on the transport's thread) to its answer. */
    private final class CallTimer extends io.grpc.ServerStreamTracer.Factory {
        @Override
        public io.grpc.ServerStreamTracer newServerStreamTracer(String fullMethodName, io.grpc.Metadata headers) {
            if (!timing || fullMethodName.startsWith("grpc.health.")) {
                return UNTIMED;
            }
            long arrived = System.nanoTime();
            statsArrived.incrementAndGet();
            return new io.grpc.ServerStreamTracer() {
                @Override
                public void streamClosed(Status status) {
                    statsAnswered.incrementAndGet();
                    statsSlowestNanos.accumulateAndGet(System.nanoTime() - arrived, Math::max);
                }
            };
        }
    }

    /** Prints this second's calls (see {@code --stats}) each second until the process ends. */
    private void printStatsEverySecond() {
        timing = true;
        Thread printer = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(1000 - System.currentTimeMillis() % 1000);
                } catch (InterruptedException e) {
                    return;
                }
                long arrived = statsArrived.getAndSet(0);
                long answered = statsAnswered.getAndSet(0);
                long slowest = statsSlowestNanos.getAndSet(0);
                if (arrived + answered > 0) {
                    System.out.printf("stats %s second %s: arrived %d, answered %d, slowest %d ms from arrival to answer%n", setName,
                            java.time.LocalTime.now(java.time.ZoneOffset.UTC).minusSeconds(1).withNano(0), arrived, answered,
                            slowest / 1_000_000);
                }
            }
        }, "sample-ao-" + setName + "-stats");
        printer.setDaemon(true);
        printer.start();
    }

    /** Notify pushes through the gateway's push API at {@code host:port} with {@code token}. */
    public void pushThrough(String host, int port, String token) {
        io.grpc.Metadata auth = new io.grpc.Metadata();
        auth.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        io.grpc.ManagedChannel channel = io.grpc.netty.NettyChannelBuilder.forAddress(host, port).usePlaintext().build();
        this.pushChannel = channel;
        this.push = io.cellgate.protocol.v1.PushGrpc.newFutureStub(channel)
                .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(auth));
    }

    public int port() {
        return server.getPort();
    }

    public String setName() {
        return setName;
    }

    public long served() {
        return served.get();
    }

    /** This AO's write fence: its fence epoch and the writes it refused. */
    public io.cellgate.fence.WriteFence fence() {
        return fence;
    }

    public void latencyMicros(long micros) {
        this.latencyMicros = micros;
    }

    public void errorRate(double rate) {
        this.errorRate = rate;
    }

    /**
     * Bounds the requests processed at once: with latency L and concurrency C the set serves at most
     * C / L requests per second, and the rest queue, as a saturated backend does. 0 = unlimited.
     */
    public void concurrency(int limit) {
        this.concurrency = limit;
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        delays.shutdownNow();
        io.grpc.ManagedChannel channel = pushChannel;
        if (channel != null) {
            channel.shutdownNow();
        }
    }

    private <T> void answer(StreamObserver<T> observer, T reply) {
        if (concurrency <= 0) {
            process(observer, reply, null);
            return;
        }
        synchronized (waiting) {
            if (active >= concurrency) {
                waiting.add(() -> process(observer, reply, this::finished));
                return;
            }
            active++;
        }
        process(observer, reply, this::finished);
    }

    private void finished() {
        Runnable next;
        synchronized (waiting) {
            next = waiting.poll();
            if (next == null) {
                active--;
                return;
            }
        }
        next.run();
    }

    private <T> void process(StreamObserver<T> observer, T reply, Runnable done) {
        served.incrementAndGet();
        if (errorRate > 0 && ThreadLocalRandom.current().nextDouble() < errorRate) {
            observer.onError(Status.UNAVAILABLE.withDescription("injected error in set " + setName).asRuntimeException());
            if (done != null) {
                done.run();
            }
            return;
        }
        long delay = latencyMicros;
        Runnable complete = () -> {
            try {
                observer.onNext(reply);
                observer.onCompleted();
            } catch (RuntimeException e) {
                // The call was cancelled (deadline passed): nothing to answer.
            }
            if (done != null) {
                done.run();
            }
        };
        if (delay <= 0) {
            complete.run();
        } else {
            delays.schedule(complete, delay, TimeUnit.MICROSECONDS);
        }
    }

    private final class Service extends SampleAoGrpc.SampleAoImplBase {
        @Override
        public void echo(EchoRequest request, StreamObserver<EchoReply> observer) {
            answer(observer, EchoReply.newBuilder().setPayload(request.getPayload()).setSet(setName).build());
        }

        @Override
        public void get(GetRequest request, StreamObserver<GetReply> observer) {
            Versioned v = store.get(request.getKey());
            GetReply.Builder reply = GetReply.newBuilder().setSet(setName).setFound(v != null);
            if (v != null) {
                reply.setValue(v.value());
            }
            answer(observer, reply.build());
        }

        @Override
        public void notify(io.cellgate.sample.v1.NotifyRequest request, StreamObserver<io.cellgate.sample.v1.NotifyReply> observer) {
            io.cellgate.sample.v1.NotifyReply.Builder reply = io.cellgate.sample.v1.NotifyReply.newBuilder().setSet(setName);
            io.cellgate.protocol.v1.PushGrpc.PushFutureStub stub = push;
            String uid = CALLER.get();
            if (stub == null || uid == null) {
                answer(observer, reply.setResult(stub == null ? "push API not configured" : "no x-cellgate-uid").build());
                return;
            }
            com.google.common.util.concurrent.Futures.addCallback(stub.withDeadlineAfter(5, TimeUnit.SECONDS).pushToUsers(
                    io.cellgate.protocol.v1.PushToUsersRequest.newBuilder().addUids(Long.parseUnsignedLong(uid))
                            .setMessage(io.cellgate.protocol.v1.PushMessage.newBuilder().setCmd(NOTIFY_PUSH_CMD).setBody(request.getText())
                                    .setPriority(2)).build()),
                    new com.google.common.util.concurrent.FutureCallback<>() {
                        @Override
                        public void onSuccess(io.cellgate.protocol.v1.PushToUsersReply r) {
                            answer(observer, reply.setPushId(r.getPushId()).setResult(r.getResults(0).getResult().name()).build());
                        }

                        @Override
                        public void onFailure(Throwable t) {
                            answer(observer, reply.setResult("push failed: " + io.grpc.Status.fromThrowable(t)).build());
                        }
                    }, com.google.common.util.concurrent.MoreExecutors.directExecutor());
        }

        @Override
        public void put(PutRequest request, StreamObserver<PutReply> observer) {
            Versioned v = store.merge(request.getKey(), new Versioned(request.getValue(), 1),
                    (old, fresh) -> new Versioned(fresh.value(), old.version() + 1));
            answer(observer, PutReply.newBuilder().setSet(setName).setVersion(v.version()).build());
        }
    }

    public static void main(String[] args) throws Exception {
        String set = "sample";
        String host = "127.0.0.1";
        int port = 0;
        long latencyMicros = 0;
        double errorRate = 0;
        int concurrency = 0;
        String etcd = null;
        String prefix = "/cellgate/default/";
        boolean stats = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--set" -> set = args[++i];
                case "--host" -> host = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--latency-ms" -> latencyMicros = (long) (Double.parseDouble(args[++i]) * 1000);
                case "--error-rate" -> errorRate = Double.parseDouble(args[++i]);
                case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
                case "--register-etcd" -> etcd = args[++i];
                case "--stats" -> stats = true;
                case "--prefix" -> prefix = args[++i];
                default -> {
                    System.err.println("usage: SampleAoServer --set NAME [--host H] [--port P] [--latency-ms MS] [--error-rate F]"
                            + " [--concurrency N] [--stats] [--register-etcd http://HOST:PORT [--prefix /cellgate/default/]]");
                    System.exit(2);
                }
            }
        }
        SampleAoServer ao = new SampleAoServer(set, host, port, latencyMicros, errorRate);
        ao.concurrency(concurrency);
        if (stats) {
            ao.printStatsEverySecond();
        }
        System.out.println("sample AO of set " + set + " listening on " + host + ":" + ao.port());
        // With a fleet on etcd, the AO announces itself; the gateways route to it until it stops.
        io.cellgate.server.fleet.EndpointRegistration registration = etcd == null ? null
                : new io.cellgate.server.fleet.EndpointRegistration(java.util.List.of(etcd), prefix, set, host + ":" + ao.port(),
                        java.time.Duration.ofSeconds(5));
        if (registration != null) {
            System.out.println("registered as " + prefix + "endpoints/" + set + "/" + host + ":" + ao.port() + " in etcd " + etcd);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (registration != null) {
                registration.close();
            }
            try {
                ao.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        Thread.currentThread().join();
    }
}
