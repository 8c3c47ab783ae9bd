package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.BlockHoundExtension;
import io.cellgate.testkit.AoProcess;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import io.cellgate.testkit.StartsProcesses;

/**
 * {@code /metrics} scraped every 10 ms while 2,000 requests/s go through the gateway for 10 s: the
 * latency histograms are recorded on the event loops and read on the scraper's thread, and no event
 * loop ever blocks for it (BlockHound, with no allowance for the metrics library or the allocator);
 * the histograms count every request exactly once.
 */
@StartsProcesses
class ScrapeUnderLoadTest {
    private static final int CLIENTS = 4;
    /** Requests per client every 10 ms: 4 x 500/s. */
    private static final int PER_TICK = 5;

    @Test
    void scrapesEvery10MsUnder2000RequestsPerSecondBlockNoLoopAndCountEveryRequest() throws Exception {
        // The AO in its own process: in this JVM, under paranoid leak detection, it would be the bottleneck.
        try (AoProcess ao = new AoProcess("sz-a")) {
            String yaml = GatewayYaml.testTopology(ao.address(), ao.address()).metrics("127.0.0.1:0").build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null))) {
                int port = gateway.metricsPort();
                List<TestClient> clients = new ArrayList<>();
                try {
                    for (int c = 0; c < CLIENTS; c++) {
                        TestClient client = new TestClient(gateway.port());
                        clients.add(client);
                        client.login(100 + c, TestTopology.token(100 + c));
                        assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                    }
                    // Warm-up (class loading and the JIT): 3 s at the same rate, answered but not judged, not counted.
                    load(clients, 300, -1, false);
                    String before = MetricsEndToEndTest.get(port, "/metrics").body();
                    BlockHoundExtension.takeViolations();

                    long sent = (long) CLIENTS * PER_TICK * 1000;
                    int scrapes = load(clients, 1000, port, true);

                    assertThat(BlockHoundExtension.takeViolations()).as("blocking calls on event loops").isEmpty();
                    assertThat(scrapes).as("scrapes during the 10 s of load").isGreaterThan(100);
                    String after = MetricsEndToEndTest.get(port, "/metrics").body();
                    for (String series : List.of("cellgate_request_duration_seconds_count{cmd=\"1\"}",
                            "cellgate_gateway_duration_seconds_count{cmd=\"1\"}",
                            "cellgate_request_duration_seconds_bucket{cmd=\"1\",le=\"+Inf\"}",
                            "cellgate_requests_total{cmd=\"1\",code=\"OK\"}")) {
                        assertThat(MetricsEndToEndTest.valueOf(after, series) - MetricsEndToEndTest.valueOf(before, series)).as(series)
                                .isEqualTo((double) sent);
                    }
                } finally {
                    for (TestClient client : clients) {
                        client.close();
                    }
                }
            }
        }
    }

    /**
     * Sends {@code ticks} x 10 ms of reads on every client, paced from the intended send times, and
     * waits for every answer, which must be OK when {@code allOk}; scrapes {@code metricsPort} every 10 ms meanwhile
     * (none when negative). Returns the number of scrapes.
     */
    private static int load(List<TestClient> clients, int ticks, int metricsPort, boolean allOk) throws Exception {
        List<Thread> threads = new ArrayList<>();
        AtomicLong ok = new AtomicLong();
        Map<Code, Long> others = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        long start = System.nanoTime();
        for (TestClient client : clients) {
            threads.add(new Thread(() -> {
                try {
                    long seq = 0;
                    for (int t = 0; t < ticks; t++) {
                        LockSupport.parkNanos(start + t * 10_000_000L - System.nanoTime());
                        for (int i = 0; i < PER_TICK; i++) {
                            client.sendNoFlush(TestClient.request(++seq, TestTopology.READ, "m"));
                        }
                        client.flush();
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "load-send"));
            threads.add(new Thread(() -> {
                try {
                    for (int i = 0; i < PER_TICK * ticks; i++) {
                        ServerFrame frame = client.poll(30_000);
                        if (frame == null) {
                            throw new AssertionError("no answer within 30 s after " + i + " answers");
                        }
                        Code code = frame.getResponse().getCode();
                        if (code == Code.OK) {
                            ok.incrementAndGet();
                        } else {
                            others.merge(code, 1L, Long::sum);
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "load-receive"));
        }
        threads.forEach(Thread::start);
        int scrapes = 0;
        while (threads.stream().anyMatch(Thread::isAlive)) {
            if (metricsPort >= 0) {
                assertThat(MetricsEndToEndTest.get(metricsPort, "/metrics").statusCode()).isEqualTo(200);
                scrapes++;
            }
            Thread.sleep(10);
        }
        assertThat(errors).isEmpty();
        if (allOk) {
            assertThat(ok.get()).as("OK answers (others: %s)", others).isEqualTo((long) clients.size() * PER_TICK * ticks);
        }
        return scrapes;
    }
}
