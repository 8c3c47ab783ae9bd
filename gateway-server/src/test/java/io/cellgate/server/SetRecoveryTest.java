package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.route.SetState;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A set's AO stays down long enough for the gateway's channels to it (one per event loop) to back off
 * their reconnects, then comes back. Each channel keeps its own backoff, and the health checks use one
 * of them: the set must not come UP while another loop's channel still refuses calls. Every channel
 * reaches the restarted AO within a health interval, the set is UP soon after, and from then on no
 * write fails, on any loop.
 */
class SetRecoveryTest {
    private static final String YAML = """
            gateway: {city: sz, idc: sz-1, event-loop-threads: 2}
            listen: {client: 127.0.0.1:0}
            login: {token-secret: %s}
            topology:
              sets:
                - {name: sz-a, city: sz, idc: sz-1, endpoints: [%s]}
                - {name: sz-b, city: sz, idc: sz-2, endpoints: [%s]}
            routes:
              write-failover: PEER
              write-points: [{slots: 0-16383, set: sz-a}]
            commands:
              - {cmd: 2, method: test.Ao/Echo, route: WRITE, timeout: 2s}
            upstream:
              channel-mode: %s
              outlier: {consecutive-failures: 3}
              health: {interval: 100ms, timeout: 500ms, recovery: 500ms}
            """;
    /** Clients, two on each event loop (the gateway hands connections to its loops in turn). */
    private static final int CLIENTS = 4;

    @ParameterizedTest
    @ValueSource(strings = {"per-event-loop", "lean"})
    void everyLoopsChannelTakesWritesAsSoonAsTheSetIsUpAgain(String mode) throws Exception {
        TestAo a = new TestAo("sz-a");
        int aPort = Integer.parseInt(a.address().substring(a.address().lastIndexOf(':') + 1));
        try (TestAo b = new TestAo("sz-b")) {
            String yaml = YAML.formatted(TestTopology.SECRET, a.address(), b.address(), mode);
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null))) {
                List<TestClient> clients = new ArrayList<>();
                List<Thread> writers = new ArrayList<>();
                Map<String, AtomicLong> answers = new ConcurrentHashMap<>();
                Queue<String> failedAfterUp = new ConcurrentLinkedQueue<>();
                AtomicLong[] okOnAAfterUp = new AtomicLong[CLIENTS];
                AtomicLong upAt = new AtomicLong();
                AtomicBoolean stop = new AtomicBoolean();
                try {
                    for (int i = 0; i < CLIENTS; i++) {
                        TestClient client = new TestClient(gateway.port());
                        clients.add(client);
                        client.login(100 + i, TestTopology.token(100 + i));
                        assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                        AtomicLong okOnA = new AtomicLong();
                        okOnAAfterUp[i] = okOnA;
                        Thread writer = new Thread(() -> {
                            long seq = 0;
                            try {
                                while (!stop.get()) {
                                    // Sent after the set was seen UP again: it must be answered OK.
                                    boolean afterUp = upAt.get() != 0;
                                    client.send(TestClient.request(++seq, 2, "w"));
                                    ServerFrame f = client.next();
                                    Code code = f.getResponse().getCode();
                                    String body = f.getResponse().getBody().toStringUtf8();
                                    answers.computeIfAbsent(code + (code == Code.OK ? " " + body : ""), k -> new AtomicLong())
                                            .incrementAndGet();
                                    if (afterUp && code != Code.OK) {
                                        failedAfterUp.add(code + ": " + f.getResponse().getMessage());
                                    } else if (afterUp && body.startsWith("sz-a|")) {
                                        okOnA.incrementAndGet();
                                    }
                                    Thread.sleep(2);
                                }
                            } catch (Exception e) {
                                answers.computeIfAbsent("error " + e, k -> new AtomicLong()).incrementAndGet();
                            }
                        });
                        writers.add(writer);
                        writer.start();
                    }
                    Await.until("writes on sz-a from every client", () -> count(answers, "OK sz-a|w") >= 40 * CLIENTS);

                    a.close();
                    Await.until("sz-a DOWN after its AO was killed", () -> gateway.routing().set(0).state() == SetState.DOWN);
                    long onB = count(answers, "OK sz-b|w");
                    Await.until("writes going to sz-b, sz-a's peer", () -> count(answers, "OK sz-b|w") >= onB + 40);
                    // Down long enough for each channel's reconnect backoff to grow past the health
                    // recovery time (gRPC: 1 s, then x1.6 a failure, +-20%): about 4-7 s by now.
                    Thread.sleep(8_000);

                    long restarted = System.nanoTime();
                    try (TestAo back = new TestAo("sz-a", aPort)) {
                        Await.until("sz-a UP again", () -> gateway.routing().set(0).state() == SetState.UP);
                        upAt.set(System.nanoTime());
                        long upMillis = (upAt.get() - restarted) / 1_000_000;
                        System.out.println("set recovery: sz-a UP " + upMillis + " ms after its AO restarted");
                        // Within a few health intervals of the recovery time (500 ms), not a channel's backoff.
                        assertThat(upMillis).as("restart to UP, ms").isLessThan(4_000);
                        Await.until("every client's writes on sz-a again", () -> {
                            for (AtomicLong n : okOnAAfterUp) {
                                if (n.get() < 100) {
                                    return false;
                                }
                            }
                            return true;
                        });
                        stop.set(true);
                        for (Thread w : writers) {
                            w.join(10_000);
                        }
                        assertThat(failedAfterUp).as("writes that failed after sz-a was UP again").isEmpty();
                        assertThat(gateway.routing().set(0).state()).isEqualTo(SetState.UP);
                        assertThat(back.calls()).isPositive();
                    }
                } finally {
                    stop.set(true);
                    for (TestClient c : clients) {
                        c.close();
                    }
                }
                assertThat(answers.keySet()).noneMatch(k -> k.startsWith("error"));
                System.out.println("set recovery: answers " + answers);
            }
        }
    }

    private static long count(Map<String, AtomicLong> answers, String key) {
        AtomicLong n = answers.get(key);
        return n == null ? 0 : n.get();
    }
}
