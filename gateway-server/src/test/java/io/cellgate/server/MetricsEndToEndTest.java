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

    /** One metric family of a scrape: its type, help and label names (histograms' le left out). */
    record Family(String type, String help, java.util.SortedSet<String> labels) {
    }

    /** The families of a Prometheus text scrape, by name (counters by their _total name). */
    static java.util.SortedMap<String, Family> families(String text) {
        java.util.SortedMap<String, Family> out = new java.util.TreeMap<>();
        java.util.Map<String, String> help = new java.util.HashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                String[] f = line.substring(7).split(" ", 2);
                help.put(f[0], f.length > 1 ? f[1] : "");
            } else if (line.startsWith("# TYPE ")) {
                String[] f = line.substring(7).split(" ");
                out.put(f[0], new Family(f[1], help.getOrDefault(f[0], ""), new java.util.TreeSet<>()));
            } else if (!line.startsWith("#") && !line.isBlank()) {
                int brace = line.indexOf('{');
                String series = brace < 0 ? line.substring(0, line.indexOf(' ')) : line.substring(0, brace);
                String family = out.containsKey(series) ? series : series.replaceFirst("_(bucket|count|sum|created)$", "");
                Family f = out.get(family);
                if (f != null && brace >= 0) {
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("([a-zA-Z_]+)=\"").matcher(line.substring(brace,
                            line.lastIndexOf('}')));
                    while (m.find()) {
                        if (!m.group(1).equals("le")) {
                            f.labels().add(m.group(1));
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * docs/METRICS.md is generated from a live scrape (run with {@code -Dcellgate.metrics.write=true} to
     * write it again), so every metric it lists exists and every cellgate metric is listed; the alert rules
     * name only series a scrape has, pass {@code promtool check rules} and their unit tests.
     */
    @Test
    void theMetricsReferenceAndTheAlertRulesMatchALiveScrape(@TempDir Path dir) throws Exception {
        // Every part that has metrics of its own is on: health checks, the sets' concurrency limits, the push
        // API, a fleet on a real etcd (its membership, store and endpoint registry).
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a"); io.cellgate.testkit.EtcdProcess etcd =
                new io.cellgate.testkit.EtcdProcess(dir)) {
            String yaml = GatewayYaml.testTopology(sz.address(), sh.address()).metrics("127.0.0.1:0").health("enabled", "true")
                    .storeDir(dir.resolve("routes"))
                    .section("push:\n  listen: 127.0.0.1:0\n  token: push-token-0123456789\n")
                    .section("fleet:\n  store: etcd\n  etcd:\n    endpoints: [" + etcd.url() + "]\n    prefix: /cellgate/metrics/\n")
                    .build();
            yaml = TestTopology.edit(yaml, "upstream:\n  channel-mode: lean\n",
                    "upstream:\n  channel-mode: lean\n  set-limit: {enabled: true}\n");
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null));
                 TestClient client = new TestClient(gateway.port())) {
                client.login(7, TestTopology.token(7));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                client.send(TestClient.request(1, TestTopology.READ, "m"));
                assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);
                java.util.SortedMap<String, Family> scraped = families(get(gateway.metricsPort(), "/metrics").body());

                StringBuilder md = new StringBuilder("# cellgate metrics\n\n")
                        .append("Every series gatewayd serves on `/metrics` besides the JVM's (`jvm_*`, `process_*`), generated from a live ")
                        .append("scrape by `MetricsEndToEndTest` (`mvn -pl gateway-server verify -Dtest=MetricsEndToEndTest ")
                        .append("-Dcellgate.metrics.write=true` writes it again; the test fails when this file and a scrape differ). ")
                        .append("docs/OPERATIONS.md says what to watch; `conf/alerts.yaml` alerts on them.\n\n")
                        .append("| metric | type | labels | what |\n|---|---|---|---|\n");
                scraped.forEach((name, f) -> {
                    if (name.startsWith("cellgate_")) {
                        md.append("| `").append(name).append("` | ").append(f.type()).append(" | ")
                                .append(f.labels().isEmpty() ? "" : "`" + String.join("`, `", f.labels()) + "`").append(" | ")
                                .append(f.help().replace("|", "\\|")).append(" |\n");
                    }
                });
                Path reference = Path.of("..", "docs", "METRICS.md");
                if (Boolean.getBoolean("cellgate.metrics.write")) {
                    Files.writeString(reference, md.toString(), StandardCharsets.UTF_8);
                }
                assertThat(Files.readString(reference, StandardCharsets.UTF_8)).as("docs/METRICS.md against a live scrape "
                        + "(regenerate: -Dcellgate.metrics.write=true)").isEqualTo(md.toString());

                // Every series the shipped Grafana dashboard queries exists in a real scrape.
                String dashboard = Files.readString(Path.of("..", "conf", "grafana-dashboard.json"));
                java.util.regex.Matcher d = java.util.regex.Pattern.compile("(?:cellgate|jvm|process)_[a-z_]+").matcher(dashboard);
                int queried = 0;
                while (d.find()) {
                    String family = scraped.containsKey(d.group()) ? d.group() : d.group().replaceFirst("_(bucket|count|sum)$", "");
                    assertThat(scraped).as("dashboard series %s", d.group()).containsKey(family);
                    queried++;
                }
                assertThat(queried).isGreaterThan(15);

                String rules = Files.readString(Path.of("..", "conf", "alerts.yaml"), StandardCharsets.UTF_8);
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\b((?:cellgate|process)_[a-z_]+)").matcher(rules);
                int named = 0;
                while (m.find()) {
                    assertThat(scraped).as("alert series %s", m.group(1)).containsKey(m.group(1));
                    named++;
                }
                assertThat(named).isGreaterThan(8);
            }
        }
        Path promtool = io.cellgate.testkit.Peers.promtool();
        Path conf = Path.of("..", "conf").toAbsolutePath().normalize();
        for (java.util.List<String> args : java.util.List.of(java.util.List.of("check", "rules", "alerts.yaml"),
                java.util.List.of("test", "rules", "alerts-test.yaml"))) {
            java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(promtool.toString()));
            command.addAll(args);
            Process p = new ProcessBuilder(command).directory(conf.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("promtool %s said:%n%s", args, out).isZero();
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
