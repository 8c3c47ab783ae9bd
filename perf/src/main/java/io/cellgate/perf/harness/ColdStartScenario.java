package io.cellgate.perf.harness;

import io.cellgate.perf.load.Scrape;
import io.cellgate.perf.DemoCluster;
import io.cellgate.perf.load.CommandMix;
import io.cellgate.perf.load.LoadGenerator;
import io.cellgate.protocol.v1.Code;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A cold gateway given its full load at once: four sample AO processes (sets sz-a, sz-b in city
 * shenzhen, sh-a, sh-b in shanghai), a fresh gatewayd process on the shipped {@code conf/gateway.yaml}
 * (only ports, the secret and the store directory changed), and, with no warm-up, {@code rate}
 * requests per second over {@code connections} connections opened together. Everything shares this
 * machine's cores, so the gateway's cold JIT and the AOs' compete. What must not happen: healthy
 * endpoints ejected, set health verdicts, reads served in the other city, {@code NO_ROUTE}.
 *
 * <p>{@code ColdStartScenario RATE CONNECTIONS SECONDS OUTPUT.md}
 */
public final class ColdStartScenario {
    private static final String[] SETS = {"sz-a", "sz-b", "sh-a", "sh-b"};
    private static final String[] SHIPPED_ENDPOINTS = {"127.0.0.1:7101", "127.0.0.1:7102", "127.0.0.1:7103", "127.0.0.1:7104"};

    private ColdStartScenario() {
    }

    /** What one run saw. */
    public record Outcome(LoadGenerator.Result load, double ejections, double healthChanges, long crossCityReads, long noRoute,
                          double setLimitRefused) {
    }

    public static Outcome run(Path dir, double rate, int connections, Duration duration) throws IOException, InterruptedException {
        List<Process> processes = new ArrayList<>();
        try {
            String yaml = Files.readString(Path.of("conf/gateway.yaml"), StandardCharsets.UTF_8);
            Path aoLog = dir.resolve("ao.log");
            int[] aoPorts = new int[SETS.length];
            for (int i = 0; i < SETS.length; i++) {
                aoPorts[i] = Procs.freePort();
                processes.add(Procs.java(aoLog, List.of("-Xmx256m"), "io.cellgate.perf.ao.SampleAoServer", "--set", SETS[i],
                        "--port", Integer.toString(aoPorts[i])));
                yaml = DemoCluster.replaceOnce(yaml, SHIPPED_ENDPOINTS[i], "127.0.0.1:" + aoPorts[i]);
            }
            for (int i = 0; i < SETS.length; i++) {
                Procs.awaitPort(aoPorts[i], processes.get(i), aoLog);
            }
            byte[] secretBytes = new byte[24];
            new SecureRandom().nextBytes(secretBytes);
            String secret = HexFormat.of().formatHex(secretBytes);
            int port = Procs.freePort();
            int metricsPort = Procs.freePort();
            yaml = DemoCluster.replaceOnce(yaml, "client: ${CELLGATE_CLIENT_LISTEN:-0.0.0.0:9000}", "client: 127.0.0.1:" + port);
            yaml = DemoCluster.replaceOnce(yaml, "metrics: ${CELLGATE_METRICS_LISTEN:-127.0.0.1:9410}", "metrics: 127.0.0.1:" + metricsPort);
            yaml = DemoCluster.replaceOnce(yaml, "listen: ${CELLGATE_ADMIN_LISTEN:-127.0.0.1:9411}", "listen: off");
            yaml = DemoCluster.replaceOnce(yaml, "token-env: CELLGATE_ADMIN_TOKEN\n", "");
            yaml = DemoCluster.replaceOnce(yaml, "token-secret-env: CELLGATE_TOKEN_SECRET", "token-secret: " + secret);
            yaml = DemoCluster.replaceOnce(yaml, "file: ${LOGS_DIRECTORY:-../logs}/access.log", "file: off");
            yaml = DemoCluster.replaceOnce(yaml, "store-dir: ${STATE_DIRECTORY:-../data}/routes", "store-dir: " + dir.resolve("routes"));
            Path config = dir.resolve("gateway.yaml");
            Files.writeString(config, yaml, StandardCharsets.UTF_8);
            Path log = dir.resolve("gatewayd.log");
            Process gateway = Procs.java(log, List.of("-Xms512m", "-Xmx512m", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"),
                    "io.cellgate.server.Gatewayd", "--config", config.toString());
            processes.add(gateway);
            Procs.awaitLine(log, "gatewayd: listening on port", gateway);

            LoadGenerator.Result r = new LoadGenerator(new LoadGenerator.Options("127.0.0.1", port, List.of("127.0.0.1"), connections,
                    rate, duration, secret.getBytes(StandardCharsets.UTF_8), 1_000_000, CommandMix.demo(), 64, 1)).run(System.out);
            Scrape scrape = Scrape.of(metricsPort);
            long crossCity = 0;
            for (Map.Entry<String, Long> e : r.servedBy().entrySet()) {
                if (e.getKey().startsWith("read sh-")) {
                    crossCity += e.getValue();
                }
            }
            return new Outcome(r, scrape.sum("cellgate_endpoint_ejections_total", ""), scrape.sum("cellgate_set_health_changes_total", ""),
                    crossCity, r.codes()[Code.NO_ROUTE_VALUE], scrape.sum("cellgate_set_limit_refused_total", ""));
        } finally {
            for (Process p : processes) {
                Procs.stop(p);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        double rate = args.length > 0 ? Double.parseDouble(args[0]) : 2000;
        int connections = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        Path output = Path.of(args.length > 3 ? args[3] : "perf/results/cold-start-" + LocalDate.now(java.time.ZoneOffset.UTC) + ".md");
        Path dir = Files.createTempDirectory("cellgate-cold-start");
        Outcome o = run(dir, rate, connections, Duration.ofSeconds(seconds));
        LoadGenerator.Result r = o.load();
        StringBuilder codes = new StringBuilder();
        for (int i = 0; i < r.codes().length; i++) {
            if (r.codes()[i] > 0) {
                Code c = Code.forNumber(i);
                codes.append(codes.length() == 0 ? "" : ", ").append(c == null ? "code" + i : c.name()).append(' ').append(r.codes()[i]);
            }
        }
        StringBuilder md = new StringBuilder("# Cold start under full load\n\n");
        md.append("Date: ").append(LocalDate.now(java.time.ZoneOffset.UTC)).append(". Machine: ").append(Procs.machine()).append(".\n\n");
        md.append(String.format(Locale.ROOT, "Command: `perf/run coldstart %.0f %d %d`.%n%n", rate, connections, seconds));
        md.append("Four sample AO processes (sz-a, sz-b in shenzhen, sh-a, sh-b in shanghai), a fresh gatewayd process (city shenzhen) on ")
                .append("the shipped `conf/gateway.yaml` (ports, token secret and store directory changed; admin API and access log off), ")
                .append("and with no warm-up the load generator in this JVM: ").append(String.format(Locale.ROOT, "%.0f", rate))
                .append(" req/s over ").append(connections).append(" connections opened together, the demo mix (20% echo, 40% get: ")
                .append("READ; 40% put: WRITE). All on this machine's cores.\n\n");
        md.append("| what | figure | must be |\n|---|---:|---:|\n");
        md.append(String.format(Locale.ROOT, "| requests sent / answered / unanswered | %d / %d / %d | all answered |%n", r.sent(), r.answered(),
                r.unanswered()));
        md.append(String.format(Locale.ROOT, "| endpoint ejections (`cellgate_endpoint_ejections_total`) | %.0f | 0 |%n", o.ejections()));
        md.append(String.format(Locale.ROOT, "| set health changes (`cellgate_set_health_changes_total`) | %.0f | 0 |%n", o.healthChanges()));
        md.append(String.format(Locale.ROOT, "| reads served in shanghai | %d | 0 |%n", o.crossCityReads()));
        md.append(String.format(Locale.ROOT, "| `NO_ROUTE` answers | %d | 0 |%n", o.noRoute()));
        md.append(String.format(Locale.ROOT, "| refused at a set's concurrency limit | %.0f | |%n", o.setLimitRefused()));
        md.append(String.format(Locale.ROOT, "%nCodes: %s. Served: %s. Latency from intended send (all answers): p50 %.2f ms, p99 %.2f ms, "
                + "max %.2f ms.%n", codes, r.servedBy(), r.latencyMicros().getValueAtPercentile(50) / 1000.0,
                r.latencyMicros().getValueAtPercentile(99) / 1000.0, r.latencyMicros().getMaxValue() / 1000.0));
        Files.createDirectories(output.toAbsolutePath().getParent());
        Files.writeString(output, md.toString(), StandardCharsets.UTF_8);
        System.out.println(md);
    }
}
