package io.cellgate.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.GatewayServer;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.server.testing.TestAo;
import io.cellgate.server.testing.TestTopology;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
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
 * Coverage-guided fuzzing of everything a client's bytes reach before a login succeeds: the frame
 * decoder, the accept step, heartbeats, the login step (token parsing and verification, requests
 * before login) and the error step, on an {@link EmbeddedChannel} with the gateway's own handlers
 * and the context of a real gateway. The input arrives in chunks of fuzzed sizes, so partial frames
 * and frames split anywhere are covered.
 *
 * <p>Every input must end in defined behaviour: no exception reaches the end of the pipeline as an
 * unexpected error (the error step logs those; any such log fails the input), every byte the gateway
 * writes back parses as a {@link ServerFrame}, and no buffer leaks (paranoid leak detection and
 * {@code LeakCheckExtension}).
 *
 * <p>In the suite (JAZZER_FUZZ unset) the test runs its seed inputs in
 * {@code src/test/resources/io/cellgate/server/internal/ClientPipelineFuzzTestInputs/}; with
 * {@code JAZZER_FUZZ=1} (set for this module's tests in its pom) it fuzzes for {@code maxDuration}.
 * {@link ClientPipelineLongFuzz} is the same target for 30 minutes ({@code perf/run-fuzz.sh}).
 */
class ClientPipelineFuzzTest {
    /** Inputs run by this JVM, printed at the end (the count a fuzzing run reports). */
    static final AtomicLong INPUTS = new AtomicLong();
    private static TestAo ao;
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
        ao = new TestAo("sz-a");
        gateway = GatewayServer.start(GatewayConfig.parse(TestTopology.yaml(ao.address(), ao.address(), "shared", "8s", "30s"),
                Path.of("."), n -> null));
        Logger.getLogger(ErrorHandler.class.getName()).addHandler(RECORDER);
    }

    @AfterAll
    static void stopGateway() throws Exception {
        Logger.getLogger(ErrorHandler.class.getName()).removeHandler(RECORDER);
        System.out.println("client pipeline fuzzing: " + INPUTS.get() + " inputs run");
        gateway.close();
        ao.close();
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
        int budget = MAX_BYTES;
        GatewayContext context = gateway.context();
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.attr(GatewayContext.KEY).set(context);
        ch.pipeline().addLast("frame-encoder", ServerFrameEncoder.INSTANCE);
        ch.pipeline().addLast("accept-limit", new AcceptLimitHandler(context));
        ch.pipeline().addLast("frame-decoder", new ClientFrameDecoder(65536, new java.util.concurrent.atomic.LongAdder()));
        ch.pipeline().addLast("heartbeat", HeartbeatHandler.INSTANCE);
        ch.pipeline().addLast("login", new LoginHandler(context));
        ch.pipeline().addLast("dispatch", new DispatchHandler(context));
        ch.pipeline().addLast("errors", ErrorHandler.INSTANCE);
        ch.pipeline().fireChannelActive();
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
        } finally {
            ch.finishAndReleaseAll();
        }
        synchronized (UNEXPECTED) {
            assertThat(UNEXPECTED).as("unexpected errors in the pipeline").isEmpty();
        }
    }
}
