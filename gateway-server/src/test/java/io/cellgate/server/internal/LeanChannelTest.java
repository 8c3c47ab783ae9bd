package io.cellgate.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.cellgate.testkit.TestAo;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The lean gRPC client against a real grpc-java server on loopback: what a unary pass-through call
 * needs of a gRPC client, each way it can end, and the connection's life (the AO down, back, going
 * away with calls in flight).
 */
class LeanChannelTest {
    private static final AsciiString ECHO = AsciiString.of("/t.S/Echo");
    private static final AsciiString SIZED = AsciiString.of("/t.S/Sized");
    private static final AsciiString FAIL = AsciiString.of("/t.S/Fail");
    private static final AsciiString HANG = AsciiString.of("/t.S/Hang");
    private static final AsciiString SLOW = AsciiString.of("/t.S/Slow");

    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoop loop = group.next();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final LinkedBlockingQueue<Metadata> headers = new LinkedBlockingQueue<>();
    private final AtomicInteger cancelled = new AtomicInteger();
    /** Calls of Hang whose handler ran (a cancel before that is not seen by it). */
    private final AtomicInteger hanging = new AtomicInteger();
    private final AtomicInteger concurrent = new AtomicInteger();
    private final AtomicInteger maxConcurrent = new AtomicInteger();
    private Server server;
    private int port;
    private LeanChannel channel;

    @BeforeEach
    void start() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        server = server(port, 0);
        channel = new LeanChannel("127.0.0.1", port, loop, NioSocketChannel.class, null);
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdown(0);
        assertThat(channel.awaitTermination(5_000)).isTrue();
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        timer.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private Server server(int onPort, int maxConcurrentCalls) throws Exception {
        ServerServiceDefinition.Builder service = ServerServiceDefinition.builder("t.S");
        service.addMethod(TestAo.method("t.S/Echo"), ServerCalls.asyncUnaryCall((ByteString req, StreamObserver<ByteString> out) -> {
            out.onNext(req);
            out.onCompleted();
        }));
        service.addMethod(TestAo.method("t.S/Sized"), ServerCalls.asyncUnaryCall((ByteString req, StreamObserver<ByteString> out) -> {
            out.onNext(ByteString.copyFrom(pattern(req.asReadOnlyByteBuffer().getInt())));
            out.onCompleted();
        }));
        service.addMethod(TestAo.method("t.S/Fail"), ServerCalls.asyncUnaryCall((ByteString req, StreamObserver<ByteString> out) -> {
            Metadata trailers = new Metadata();
            trailers.put(io.cellgate.fence.FenceHeaders.FENCED, "7");
            out.onError(Status.INVALID_ARGUMENT.withDescription("bad: 50% ünïcode").asRuntimeException(trailers));
        }));
        service.addMethod(TestAo.method("t.S/Hang"), ServerCalls.asyncUnaryCall((ByteString req, StreamObserver<ByteString> out) -> {
            ((ServerCallStreamObserver<ByteString>) out).setOnCancelHandler(cancelled::incrementAndGet);
            hanging.incrementAndGet();
        }));
        service.addMethod(TestAo.method("t.S/Slow"), ServerCalls.asyncUnaryCall((ByteString req, StreamObserver<ByteString> out) -> {
            int now = concurrent.incrementAndGet();
            maxConcurrent.accumulateAndGet(now, Math::max);
            ((ServerCallStreamObserver<ByteString>) out).setOnCancelHandler(concurrent::decrementAndGet);
            timer.schedule(() -> {
                concurrent.decrementAndGet();
                out.onNext(req);
                out.onCompleted();
            }, req.asReadOnlyByteBuffer().getInt(), TimeUnit.MILLISECONDS);
        }));
        ServerInterceptor recordHeaders = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata md, ServerCallHandler<Q, R> next) {
                headers.add(md);
                return next.startCall(call, md);
            }
        };
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", onPort))
                .addService(ServerInterceptors.intercept(service.build(), recordHeaders))
                .maxInboundMessageSize(16 << 20);
        if (maxConcurrentCalls > 0) {
            builder.maxConcurrentCallsPerConnection(maxConcurrentCalls);
        }
        return builder.build().start();
    }

    private static byte[] pattern(int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    private static ByteString intBody(int value) {
        return ByteString.copyFrom(java.nio.ByteBuffer.allocate(4).putInt(0, value));
    }

    /** How one call ended. */
    private record Outcome(Status status, ByteString body, Metadata trailers) {
    }

    private static final class Listener extends ClientCall.Listener<ByteString> {
        final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        private ByteString body;
        final AtomicInteger closes = new AtomicInteger();

        @Override
        public void onMessage(ByteString message) {
            body = message;
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            closes.incrementAndGet();
            outcome.complete(new Outcome(status, body, trailers));
        }
    }

    private record Started(Listener listener, LeanCall call) {
    }

    private Started startCall(AsciiString path, ByteString body, long timeoutMillis) throws Exception {
        Listener listener = new Listener();
        String[] values = UpstreamHeader.newValues();
        values[UpstreamHeader.UID.ordinal()] = "42";
        values[UpstreamHeader.SET.ordinal()] = "sz-a";
        LeanCall call = loop.submit(() -> channel.start(listener, path, TimeUnit.MILLISECONDS.toNanos(timeoutMillis), values, body))
                .get(5, TimeUnit.SECONDS);
        return new Started(listener, call);
    }

    private Outcome call(AsciiString path, ByteString body, long timeoutMillis) throws Exception {
        Started s = startCall(path, body, timeoutMillis);
        Outcome o = s.listener.outcome.get(timeoutMillis + 5_000, TimeUnit.MILLISECONDS);
        // Each call ends exactly once, whatever else happens on its stream later.
        Thread.sleep(1);
        assertThat(s.listener.closes.get()).isEqualTo(1);
        return o;
    }

    @Test
    void aUnaryCallCarriesTheBodyTheHeadersAndTheDeadline() throws Exception {
        Outcome o = call(ECHO, ByteString.copyFromUtf8("hello"), 2_000);
        assertThat(o.status().getCode()).isEqualTo(Status.Code.OK);
        assertThat(o.body().toStringUtf8()).isEqualTo("hello");
        Metadata md = headers.poll(5, TimeUnit.SECONDS);
        assertThat(md.get(UpstreamHeader.UID.key)).isEqualTo("42");
        assertThat(md.get(UpstreamHeader.SET.key)).isEqualTo("sz-a");
        assertThat(md.containsKey(UpstreamHeader.DYE.key)).isFalse();
        String timeout = md.get(Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER));
        assertThat(timeout).matches("\\d{1,8}[numSMH]");
        // Started from another thread than the channel's loop, a call is passed to the loop.
        Listener offLoop = new Listener();
        channel.start(offLoop, ECHO, TimeUnit.SECONDS.toNanos(2), UpstreamHeader.newValues(), ByteString.copyFromUtf8("off"));
        assertThat(offLoop.outcome.get(5, TimeUnit.SECONDS).body().toStringUtf8()).isEqualTo("off");
        // An empty body is a message too.
        Outcome empty = call(ECHO, ByteString.EMPTY, 2_000);
        assertThat(empty.status().isOk()).isTrue();
        assertThat(empty.body()).isEqualTo(ByteString.EMPTY);
    }

    @Test
    void manyCallsShareOneConnectionAndEachGetsItsOwnAnswer() throws Exception {
        List<Started> started = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            started.add(startCall(ECHO, ByteString.copyFromUtf8("m" + i), 10_000));
        }
        for (int i = 0; i < started.size(); i++) {
            Outcome o = started.get(i).listener.outcome.get(10, TimeUnit.SECONDS);
            assertThat(o.status().getCode()).isEqualTo(Status.Code.OK);
            assertThat(o.body().toStringUtf8()).isEqualTo("m" + i);
        }
    }

    @Test
    void anErrorStatusComesWithItsDecodedMessageAndTheFenceTrailer() throws Exception {
        Outcome o = call(FAIL, ByteString.EMPTY, 2_000);
        assertThat(o.status().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(o.status().getDescription()).isEqualTo("bad: 50% ünïcode");
        assertThat(o.trailers().get(io.cellgate.fence.FenceHeaders.FENCED)).isEqualTo("7");
        assertThat(call(AsciiString.of("/t.S/NoSuchMethod"), ByteString.EMPTY, 2_000).status().getCode())
                .isEqualTo(Status.Code.UNIMPLEMENTED);
    }

    @Test
    void largeResponsesFlowPastTheWindowsAndTooLargeOnesAreRefused() throws Exception {
        Outcome big = call(SIZED, intBody(3 << 20), 10_000);
        assertThat(big.status().getCode()).isEqualTo(Status.Code.OK);
        assertThat(big.body().toByteArray()).isEqualTo(pattern(3 << 20));
        Outcome tooBig = call(SIZED, intBody(LeanCall.MAX_MESSAGE_BYTES + 1), 10_000);
        assertThat(tooBig.status().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        // The connection is still good after the refused one.
        assertThat(call(ECHO, ByteString.copyFromUtf8("after"), 2_000).body().toStringUtf8()).isEqualTo("after");
        // A large request goes out past the AO's windows too.
        ByteString large = ByteString.copyFrom(pattern(2 << 20));
        assertThat(call(ECHO, large, 10_000).body()).isEqualTo(large);
        // Several at once share the connection's window: each goes out whole and comes back whole.
        List<Started> started = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            started.add(startCall(ECHO, ByteString.copyFrom(new byte[] {(byte) i}).concat(large), 20_000));
        }
        for (int i = 0; i < started.size(); i++) {
            Outcome o = started.get(i).listener.outcome.get(20, TimeUnit.SECONDS);
            assertThat(o.status().getCode()).isEqualTo(Status.Code.OK);
            assertThat(o.body().byteAt(0)).isEqualTo((byte) i);
            assertThat(o.body().substring(1)).isEqualTo(large);
        }
    }

    @Test
    void aMissedDeadlineEndsTheCallAndCancelsItAtTheAo() throws Exception {
        long start = System.nanoTime();
        Outcome o = call(HANG, ByteString.EMPTY, 200);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(o.status().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(millis).isGreaterThanOrEqualTo(190);
        long until = System.currentTimeMillis() + 5_000;
        while (cancelled.get() == 0 && System.currentTimeMillis() < until) {
            Thread.sleep(10);
        }
        assertThat(cancelled.get()).isEqualTo(1);
        // The AO answered the ping the timeout sent: the connection stays.
        Thread.sleep(200);
        assertThat(channel.state()).isEqualTo(LeanChannel.State.READY);
    }

    @Test
    void aCancelEndsTheCallAndTheStreamAtTheAo() throws Exception {
        Started s = startCall(HANG, ByteString.EMPTY, 10_000);
        long handled = System.currentTimeMillis() + 5_000;
        while (hanging.get() == 0 && System.currentTimeMillis() < handled) {
            Thread.sleep(5);
        }
        loop.submit(() -> s.call.cancel("client gone")).get();
        Outcome o = s.listener.outcome.get(5, TimeUnit.SECONDS);
        assertThat(o.status().getCode()).isEqualTo(Status.Code.CANCELLED);
        assertThat(o.status().getDescription()).isEqualTo("client gone");
        long until = System.currentTimeMillis() + 5_000;
        while (cancelled.get() == 0 && System.currentTimeMillis() < until) {
            Thread.sleep(10);
        }
        assertThat(cancelled.get()).isEqualTo(1);
        // A cancel after the end changes nothing.
        loop.submit(() -> s.call.cancel("again")).get();
        assertThat(s.listener.closes.get()).isEqualTo(1);
        // Nor does one from another thread; a cancel from another thread ends a call too.
        s.call.cancel("from elsewhere");
        Started other = startCall(HANG, ByteString.EMPTY, 10_000);
        other.call.cancel("from elsewhere");
        assertThat(other.listener.outcome.get(5, TimeUnit.SECONDS).status().getCode()).isEqualTo(Status.Code.CANCELLED);
        assertThat(s.listener.closes.get()).isEqualTo(1);
    }

    @Test
    void callsOverTheAosStreamLimitWaitAndAllComplete() throws Exception {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server = server(port, 4);
        List<Started> started = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            started.add(startCall(SLOW, intBody(5), 20_000));
        }
        for (Started s : started) {
            assertThat(s.listener.outcome.get(20, TimeUnit.SECONDS).status().getCode()).isEqualTo(Status.Code.OK);
        }
        assertThat(maxConcurrent.get()).isBetween(1, 4);
        // A waiting call can still time out or be cancelled.
        List<Started> more = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            more.add(startCall(SLOW, intBody(2_000), 300));
        }
        for (Started s : more) {
            assertThat(s.listener.outcome.get(5, TimeUnit.SECONDS).status().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        }
    }

    @Test
    void anAoThatIsDownFailsCallsFastAndIsReachedAgainWhenTheBackoffIsReset() throws Exception {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server = null;
        Outcome down = call(ECHO, ByteString.copyFromUtf8("x"), 5_000);
        assertThat(down.status().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(channel.failed()).isTrue();
        // While the backoff lasts, calls fail at once rather than wait.
        long start = System.nanoTime();
        assertThat(call(ECHO, ByteString.copyFromUtf8("x"), 5_000).status().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1_000);

        server = server(port, 0);
        channel.resetConnectBackoff();
        long until = System.currentTimeMillis() + 5_000;
        while (channel.state() != LeanChannel.State.READY && System.currentTimeMillis() < until) {
            Thread.sleep(10);
        }
        assertThat(channel.failed()).isFalse();
        assertThat(call(ECHO, ByteString.copyFromUtf8("back"), 2_000).body().toStringUtf8()).isEqualTo("back");
    }

    @Test
    void anAoGoingAwayFinishesItsCallsAndTheNextCallsGoToANewConnection() throws Exception {
        List<Started> inFlight = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            inFlight.add(startCall(SLOW, intBody(400), 10_000));
        }
        for (int i = 0; i < 20; i++) {
            headers.poll(5, TimeUnit.SECONDS);
        }
        // A graceful shutdown: GOAWAY, the calls it has finish.
        server.shutdown();
        for (Started s : inFlight) {
            Outcome o = s.listener.outcome.get(10, TimeUnit.SECONDS);
            assertThat(o.status().getCode()).isEqualTo(Status.Code.OK);
        }
        assertThat(server.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        server = server(port, 0);
        // The old connection is gone; the next call connects anew (perhaps after the AO's refusal once).
        long until = System.currentTimeMillis() + 10_000;
        Outcome o;
        do {
            channel.resetConnectBackoff();
            o = call(ECHO, ByteString.copyFromUtf8("new"), 2_000);
        } while (!o.status().isOk() && System.currentTimeMillis() < until);
        assertThat(o.body().toStringUtf8()).isEqualTo("new");
    }

    @Test
    void anAoKilledWithCallsInFlightEndsThemAll() throws Exception {
        List<Started> inFlight = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            inFlight.add(startCall(HANG, ByteString.EMPTY, 30_000));
        }
        for (int i = 0; i < 20; i++) {
            headers.poll(5, TimeUnit.SECONDS);
        }
        server.shutdownNow();
        for (Started s : inFlight) {
            Outcome o = s.listener.outcome.get(5, TimeUnit.SECONDS);
            assertThat(o.status().getCode()).isIn(Status.Code.UNAVAILABLE, Status.Code.CANCELLED);
        }
    }

    @Test
    void shutdownEndsWaitingCallsAndRefusesNewOnes() throws Exception {
        Started s = startCall(HANG, ByteString.EMPTY, 30_000);
        headers.poll(5, TimeUnit.SECONDS);
        channel.shutdown(0);
        assertThat(s.listener.outcome.get(5, TimeUnit.SECONDS).status().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(channel.awaitTermination(5_000)).isTrue();
        assertThat(call(ECHO, ByteString.EMPTY, 1_000).status().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }

    @Test
    void deadlinesAreWrittenAsGrpcDoes() {
        assertThat(LeanChannel.timeoutText(5)).isEqualTo("5n");
        assertThat(LeanChannel.timeoutText(99_999_999L)).isEqualTo("99999999n");
        assertThat(LeanChannel.timeoutText(100_000_000L)).isEqualTo("100000u");
        assertThat(LeanChannel.timeoutText(TimeUnit.SECONDS.toNanos(200))).isEqualTo("200000m");
        assertThat(LeanChannel.timeoutText(TimeUnit.DAYS.toNanos(2))).isEqualTo("172800S");
        assertThat(LeanChannel.timeoutText(Long.MAX_VALUE)).isEqualTo("2562047H");
        assertThat(LeanCall.percentDecode("a%20b%zz%")).isEqualTo("a b%zz%");
    }
}
