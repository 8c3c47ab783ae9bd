package io.cellgate.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.GatewayServer;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestTopology;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of everything a client's bytes reach: the frame decoder, the accept step,
 * heartbeats, the login step (token parsing and verification, requests before login), the dispatch
 * step of a logged-in connection (command lookup, connection, command and user limits, priority
 * admission, routing, a second login) and the error step, on an {@link EmbeddedChannel} with the
 * gateway's own pipeline ({@code ClientChannelInitializer.addSteps}) and the context of a real
 * gateway. One fuzzed choice decides whether the connection is fresh or already logged in (as a
 * fuzzed uid): a token cannot be forged, so the fuzzer could not reach dispatch otherwise. Every set
 * of this gateway is DOWN, so dispatch answers every request on the embedded loop (no gRPC call
 * completes on another thread). The input arrives in chunks of fuzzed sizes, so partial frames and
 * frames split anywhere are covered.
 *
 * <p>Every input must end in defined behaviour: no exception reaches the end of the pipeline as an
 * unexpected error (the error step logs those; any such log fails the input), every byte the gateway
 * writes back parses as a {@link ServerFrame}, no call is left in flight, and no buffer leaks: every
 * buffer the pipeline allocates comes from a {@link TrackingAllocator} and must be released when the
 * input ends (exact, per input, and cheap enough for millions of inputs); anything allocated
 * elsewhere is under paranoid leak detection and {@code LeakCheckExtension}.
 *
 * <p>In the suite (JAZZER_FUZZ unset) the test runs its seed inputs in
 * {@code src/test/resources/io/cellgate/server/internal/ClientPipelineFuzzTestInputs/}; with
 * {@code JAZZER_FUZZ=1} (set for this module's tests in its pom) it fuzzes for {@code maxDuration}.
 * {@link ClientPipelineLongFuzz} is the same target for 30 minutes ({@code perf/run-fuzz.sh}).
 */
class ClientPipelineFuzzTest {
    /** Inputs run by this JVM, printed at the end (the count a fuzzing run reports). */
    static final AtomicLong INPUTS = new AtomicLong();
    /** Of those, inputs on a logged-in connection. */
    static final AtomicLong LOGGED_IN_INPUTS = new AtomicLong();
    private static GatewayServer gateway;
    private static final List<LogRecord> UNEXPECTED = new ArrayList<>();
    private static final Handler RECORDER = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                synchronized (UNEXPECTED) {
                    UNEXPECTED.add(record);
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeAll
    static void startGateway() throws Exception {
        // Both sets DOWN (and no health checks to bring them UP): routing answers NO_ROUTE at once.
        String yaml = GatewayYaml.testTopology("127.0.0.1:1", "127.0.0.1:1").setState("sz-a", "DOWN").setState("sh-a", "DOWN")
                .build();
        gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), n -> null));
        Logger.getLogger(ErrorHandler.class.getName()).addHandler(RECORDER);
    }

    @AfterAll
    static void stopGateway() throws Exception {
        Logger.getLogger(ErrorHandler.class.getName()).removeHandler(RECORDER);
        System.out.println("client pipeline fuzzing: " + INPUTS.get() + " inputs run (" + LOGGED_IN_INPUTS.get() + " logged in)");
        gateway.close();
    }

    @FuzzTest(maxDuration = "30s")
    void clientBytes(FuzzedDataProvider data) throws IOException {
        run(data);
    }

    /**
     * Bytes of an input the pipeline gets at most. libFuzzer grows its inputs over a long run; past
     * this, more bytes add cost (many more chunks per input) rather than reach new code: frames are
     * at most 65,536 bytes here and the corpus test covers long ones.
     */
    static final int MAX_BYTES = 1024;

    /** One input: the bytes in fuzzed chunks through the pipeline, then the checks. */
    static void run(FuzzedDataProvider data) throws IOException {
        INPUTS.incrementAndGet();
        GatewayContext context = gateway.context();
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAllocator(alloc);
        GatewayContext.attach(ch, context);
        ClientChannelInitializer.addSteps(ch.pipeline(), context);
        ch.pipeline().fireChannelActive();
        ClientSession session = null;
        if (data.consumeBoolean()) {
            // What a successful login leaves behind (LoginHandler.login), on this embedded loop.
            LOGGED_IN_INPUTS.incrementAndGet();
            session = new ClientSession(ch, data.consumeLong(), 0xF022L, "", null, io.cellgate.protocol.v1.Login.getDefaultInstance(), 0);
            ch.pipeline().remove("login");
            ch.pipeline().get(ClientFrameCodec.class).loggedIn(session);
        }
        int budget = MAX_BYTES;
        try {
            while (data.remainingBytes() > 0 && ch.isOpen() && budget > 0) {
                byte[] chunk = data.consumeBytes(Math.min(budget, data.consumeInt(1, 512)));
                budget -= chunk.length;
                if (chunk.length == 0) {
                    break;
                }
                ByteBuf buf = ch.alloc().buffer(chunk.length);
                buf.writeBytes(chunk);
                ch.writeInbound(buf);
                ch.runPendingTasks();
            }
            ByteBuf out;
            while ((out = ch.readOutbound()) != null) {
                try (ByteBufInputStream in = new ByteBufInputStream(out, true)) {
                    while (in.available() > 0) {
                        assertThat(ServerFrame.parseDelimitedFrom(in)).isNotNull();
                    }
                }
            }
            if (session != null) {
                assertThat(session.inFlightCount()).as("calls left in flight").isZero();
            }
        } finally {
            ch.finishAndReleaseAll();
        }
        synchronized (UNEXPECTED) {
            assertThat(UNEXPECTED).as("unexpected errors in the pipeline").isEmpty();
        }
        alloc.assertAllReleased();
    }

    /**
     * The embedded channel's allocator: unpooled direct buffers by default (the pipeline gets direct
     * ones in production too) outside Netty's leak detector, each remembered so that the input can check
     * that all were released. Exact where sampling detection is statistical, and far cheaper than
     * paranoid detection's stack trace per access.
     */
    static final class TrackingAllocator extends AbstractByteBufAllocator {
        private final List<ByteBuf> allocated = new ArrayList<>();

        TrackingAllocator() {
            super(true);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }

        @Override
        public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
            return track(new CompositeByteBuf(this, false, maxNumComponents));
        }

        @Override
        public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
            return track(new CompositeByteBuf(this, true, maxNumComponents));
        }

        private <B extends ByteBuf> B track(B buf) {
            allocated.add(buf);
            return buf;
        }

        void assertAllReleased() {
            List<String> leaked = new ArrayList<>();
            for (ByteBuf b : allocated) {
                if (b.refCnt() != 0) {
                    leaked.add(b + " refCnt " + b.refCnt());
                    b.release(b.refCnt());
                }
            }
            assertThat(leaked).as("buffers the pipeline allocated and never released").isEmpty();
        }
    }
}
