package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.cellgate.testkit.StartsProcesses;

/** The operator's HTTP listener of a running gateway under load: metrics, liveness, readiness. */
@StartsProcesses
class MetricsEndToEndTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aScrapeUnderLoadHasTheGatewaysSeriesAndPassesPromtool(@TempDir Path dir) throws Exception {
        try (TestAo ao = new TestAo("sz-a")) {
            String yaml = GatewayYaml.testTopology(ao.address(), ao.address()).metrics("127.0.0.1:0").build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null));
                 TestClient client = new TestClient(gateway.port())) {
                int port = gateway.metricsPort();
                assertThat(get(port, "/healthz").statusCode()).isEqualTo(200);
                HttpResponse<String> ready = get(port, "/readyz");
                assertThat(ready.statusCode()).isEqualTo(200);
                assertThat(ready.body()).isEqualTo("ready\n");

                client.login(7, TestTopology.token(7));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                AtomicBoolean stop = new AtomicBoolean();
                AtomicLong answered = new AtomicLong();
                Thread load = new Thread(() -> {
                    long seq = 0;
                    try {
                        while (!stop.get()) {
                            client.send(TestClient.request(++seq, TestTopology.READ, "m"));
                            client.next();
                            answered.incrementAndGet();
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                load.start();
                Await.until("200 answers", () -> answered.get() >= 200);
                HttpResponse<String> scrape = get(port, "/metrics");
                stop.set(true);
                load.join(10_000);

                assertThat(scrape.statusCode()).isEqualTo(200);
                String text = scrape.body();
                assertThat(text).contains("cellgate_requests_total{cmd=\"1\",code=\"OK\"}")
                        .contains("cellgate_admission_decisions_total{cmd=\"1\",decision=\"admit\"}")
                        .contains("cellgate_request_duration_seconds_bucket{cmd=\"1\",le=\"0.001\"}")
                        .contains("cellgate_logins_total{result=\"ok\"} 1.0")
                        .contains("cellgate_client_connections 1.0")
                        .contains("cellgate_route_epoch 1.0")
                        .contains("cellgate_priority_admitted_fraction 1.0")
                        .contains("jvm_memory_used_bytes")
                        .contains("cellgate_gateway_duration_seconds_bucket{cmd=\"1\"")
                        .contains("cellgate_set_state{set=\"sz-a\",state=\"UP\"} 1.0")
                        .contains("cellgate_set_requests_in_flight{set=\"sz-a\"}")
                        .contains("cellgate_buffer_leaks_total 0.0")
                        .contains("cellgate_netty_direct_memory_bytes");
                assertThat(valueOf(text, "cellgate_frames_received_total")).isGreaterThanOrEqualTo(201);
                assertThat(valueOf(text, "cellgate_requests_total{cmd=\"1\",code=\"OK\"}")).isGreaterThanOrEqualTo(200);

                // Every cellgate series the shipped Grafana dashboard queries exists in a real scrape.
                String dashboard = Files.readString(Path.of("..", "conf", "grafana-dashboard.json"));
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("cellgate_[a-z_]+").matcher(dashboard);
                int names = 0;
                while (m.find()) {
                    assertThat(text).as("dashboard series %s", m.group()).contains(m.group());
                    names++;
                }
                assertThat(names).isGreaterThan(10);

                Path promtool = io.cellgate.testkit.Peers.promtool();
                Path file = dir.resolve("scrape.txt");
                Files.writeString(file, text, StandardCharsets.UTF_8);
                Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectInput(file.toFile())
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).as("promtool check metrics said:%n%s", out).isZero();
            }
        }
    }

    @Test
    void readinessFailsOnceTheGatewayCloses() throws Exception {
        try (TestAo ao = new TestAo("sz-a")) {
            String yaml = GatewayYaml.testTopology(ao.address(), ao.address()).metrics("127.0.0.1:0").build();
            GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null));
            int port = gateway.metricsPort();
            assertThat(get(port, "/readyz").statusCode()).isEqualTo(200);
            assertThat(get(port, "/nothing").statusCode()).isEqualTo(404);
            gateway.close();
            assertThat(gateway.ready()).isFalse();
        }
    }

    static double valueOf(String text, String series) {
        for (String line : text.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no series " + series);
    }
}
