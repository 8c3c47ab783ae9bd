package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.GatewaydProcess;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.cellgate.testkit.StartsProcesses;

/**
 * More clients than the gateway has file descriptors for: a gatewayd process started with a low
 * open-file limit. The excess waits (no busy accept loop, no crash), failed accepts are counted and
 * logged at a limited rate, logged-in clients keep being served, and the waiting clients are taken
 * as soon as descriptors free up.
 */
@StartsProcesses
class FdExhaustionTest {
    static final int FILE_LIMIT = 400;
    static final int CLIENTS = 450;

    @Test
    void theExcessWaitsCleanlyAndIsAcceptedWhenDescriptorsFreeUp(@TempDir Path dir) throws Exception {
        try (TestAo ao = new TestAo("sz-a")) {
            Path config = dir.resolve("gateway.yaml");
            Files.writeString(config, GatewayYaml.testTopology(ao.address(), ao.address()).loginTimeout("20s").metrics("127.0.0.1:0")
                    .build());
            List<TestClient> clients = new ArrayList<>();
            try (GatewaydProcess daemon = GatewaydProcess.start(config, dir.resolve("gatewayd.log"), FILE_LIMIT, Map.of(), "-Xmx256m")) {
                int port = daemon.port();
                int metricsPort = daemon.port("metrics");

                // The first client is logged in before the flood, and must stay served through it.
                TestClient first = new TestClient(port);
                clients.add(first);
                first.login(1, TestTopology.token(1));
                assertThat(first.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                // Its first request opens the gateway's channel to the AO (a descriptor) before the flood.
                first.send(TestClient.request(1, TestTopology.READ, "before"));
                assertThat(first.next().getResponse().getCode()).isEqualTo(Code.OK);

                for (int i = 2; i <= CLIENTS; i++) {
                    TestClient c = new TestClient(port);
                    clients.add(c);
                    c.login(i, TestTopology.token(i));
                }
                // Until the gateway has taken all it can: over 100 logged in, and then no new login for 2 s.
                java.util.Set<TestClient> loggedIn = new java.util.HashSet<>();
                long[] lastLogin = {System.nanoTime()};
                Await.until("over 100 clients logged in, then no more for 2 s", java.time.Duration.ofSeconds(60), () -> {
                    for (TestClient c : clients.subList(1, clients.size())) {
                        ServerFrame f = loggedIn.contains(c) ? null : pollNow(c);
                        if (f != null && f.hasLoginAck() && f.getLoginAck().getCode() == Code.OK) {
                            loggedIn.add(c);
                            lastLogin[0] = System.nanoTime();
                        }
                    }
                    return loggedIn.size() > 100 && System.nanoTime() - lastLogin[0] > 2_000_000_000L;
                });
                int served = loggedIn.size();
                List<TestClient> waiting = new ArrayList<>();
                for (TestClient c : clients.subList(1, clients.size())) {
                    if (!loggedIn.contains(c)) {
                        waiting.add(c);
                    }
                }
                assertThat(waiting).as("more clients than descriptors: some wait").isNotEmpty();
                assertThat(served).as("as many as the descriptors allow are served").isGreaterThan(100);

                // The gateway is out of descriptors: it does not spin, and the logged-in client is served.
                assertThat(daemon.process().isAlive()).isTrue();
                double cpuBefore = daemon.cpuSeconds();
                Thread.sleep(2_000);
                double cpu = daemon.cpuSeconds() - cpuBefore;
                assertThat(cpu).as("CPU seconds used in 2 s while out of descriptors").isLessThan(0.5);
                first.send(TestClient.request(2, TestTopology.READ, "still served"));
                assertThat(first.next().getResponse().getCode()).isEqualTo(Code.OK);
                String text = daemon.output();
                assertThat(text).contains("accept failed").contains("Too many open files");
                assertThat(text.split("accept failed", -1).length - 1).as("log lines, at most one per 10 s").isLessThanOrEqualTo(2);

                // Descriptors free up: the waiting clients are accepted and logged in.
                for (TestClient c : loggedIn) {
                    c.close();
                }
                int lateServed = 0;
                for (TestClient c : waiting) {
                    ServerFrame f = c.poll(lateServed == 0 ? 10_000 : 2_000);
                    if (f != null && f.hasLoginAck() && f.getLoginAck().getCode() == Code.OK) {
                        lateServed++;
                    }
                }
                System.out.printf("fd exhaustion: %d served, %d waited (gateway CPU %.2f s in 2 s meanwhile), %d of them served"
                        + " once descriptors were free%n", served, waiting.size(), cpu, lateServed);
                assertThat(lateServed).as("waiting clients taken once descriptors are free").isEqualTo(waiting.size());
                for (TestClient c : clients) {
                    c.close();
                }
                clients.clear();
                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).containsPattern("cellgate_accept_errors_total [1-9]");
            } finally {
                for (TestClient c : clients) {
                    c.close();
                }
            }
        }
    }

    private static ServerFrame pollNow(TestClient client) {
        try {
            return client.poll(0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
