package io.cellgate.perf;

import io.cellgate.perf.ao.SampleAoServer;
import io.cellgate.perf.load.CommandMix;
import io.cellgate.perf.load.LoadGenerator;
import io.cellgate.perf.load.LoadReport;
import io.cellgate.protocol.v1.Code;
import io.cellgate.server.GatewayServer;
import io.cellgate.server.config.GatewayConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * {@code bin/demo}: starts the sample AOs of four sets in two cities, a gateway on the shipped
 * {@code conf/gateway.yaml} (with the AOs' actual ports and a fresh token secret), and a load client
 * with a live progress line; after {@code --duration} prints requests, codes, latency percentiles and
 * which sets served reads and writes. Exits 0 when reads and writes were served, every request was answered and at most 1% was not OK.
 *
 * <p>{@code Demo [--duration 30s] [--connections 40] [--rate 2000] [--config conf/gateway.yaml]}
 */
public final class Demo {
    private static final String[] SETS = {"sz-a", "sz-b", "sh-a", "sh-b"};
    private static final String[] SHIPPED_ENDPOINTS = {"127.0.0.1:7101", "127.0.0.1:7102", "127.0.0.1:7103", "127.0.0.1:7104"};

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        Duration duration = Duration.ofSeconds(30);
        int connections = 40;
        double rate = 2000;
        Path template = Path.of("conf/gateway.yaml");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--duration" -> duration = parseDuration(args[++i]);
                case "--connections" -> connections = Integer.parseInt(args[++i]);
                case "--rate" -> rate = Double.parseDouble(args[++i]);
                case "--config" -> template = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: demo [--duration 30s] [--connections 40] [--rate 2000] [--config conf/gateway.yaml]");
                    System.exit(2);
                }
            }
        }
        System.exit(run(template, duration, connections, rate) ? 0 : 1);
    }

    /** Runs the demo; true when reads and writes were served and every request was answered. */
    public static boolean run(Path template, Duration duration, int connections, double rate) throws Exception {
        List<SampleAoServer> aos = new ArrayList<>();
        Path dir = Files.createTempDirectory("cellgate-demo");
        try {
            String yaml = Files.readString(template, StandardCharsets.UTF_8);
            for (int i = 0; i < SETS.length; i++) {
                SampleAoServer ao = new SampleAoServer(SETS[i], "127.0.0.1", 0, 0, 0);
                aos.add(ao);
                yaml = replaceOnce(yaml, SHIPPED_ENDPOINTS[i], "127.0.0.1:" + ao.port());
                System.out.printf("sample AO of set %s on 127.0.0.1:%d%n", SETS[i], ao.port());
            }
            byte[] secretBytes = new byte[24];
            new SecureRandom().nextBytes(secretBytes);
            String secret = HexFormat.of().formatHex(secretBytes);
            yaml = replaceOnce(yaml, "client: 0.0.0.0:9000", "client: 127.0.0.1:0");
            Path config = dir.resolve("gateway.yaml");
            Files.writeString(config, yaml, StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("token.secret"), secret, StandardCharsets.UTF_8);
            GatewayConfig gatewayConfig = GatewayConfig.parse(yaml, dir, Map.of("CELLGATE_TOKEN_SECRET", secret)::get);
            try (GatewayServer gateway = GatewayServer.start(gatewayConfig)) {
                System.out.printf("gateway (city %s) on 127.0.0.1:%d, %s transport; %d connections at %.0f req/s for %ds%n",
                        gatewayConfig.city(), gateway.port(), gateway.nativeTransport() ? "epoll" : "nio", connections, rate,
                        duration.toSeconds());
                byte[] secretUtf8 = secret.getBytes(StandardCharsets.UTF_8);
                // A short warm-up first: class loading, JIT compilation and the first gRPC connections
                // would otherwise dominate the first seconds of a short run.
                System.out.println("warming up for 3s (not counted)...");
                new LoadGenerator(new LoadGenerator.Options("127.0.0.1", gateway.port(), List.of("127.0.0.1"),
                        Math.min(connections, 10), rate / 2, Duration.ofSeconds(3), secretUtf8, 2_000_000,
                        CommandMix.demo(), 64, 1)).run(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
                LoadGenerator load = new LoadGenerator(new LoadGenerator.Options("127.0.0.1", gateway.port(),
                        List.of("127.0.0.1"), connections, rate, duration, secretUtf8, 1_000_000, CommandMix.demo(), 64, 1));
                LoadGenerator.Result result = load.run(System.out);
                LoadReport.print(result, System.out);
                boolean reads = result.servedBy().keySet().stream().anyMatch(k -> k.startsWith("read "));
                boolean writes = result.servedBy().keySet().stream().anyMatch(k -> k.startsWith("write "));
                long failed = result.answered() - result.codes()[Code.OK_VALUE];
                // Timeouts can happen on a loaded machine; losing a request cannot.
                boolean ok = reads && writes && result.unanswered() == 0 && result.loginFailures() == 0
                        && failed <= result.answered() / 100;
                System.out.println(ok ? "demo: OK, reads and writes served, nothing lost"
                        : "demo: FAILED (reads served: " + reads + ", writes served: " + writes + ", failed: " + failed
                        + ", unanswered: " + result.unanswered() + ")");
                return ok;
            }
        } finally {
            for (SampleAoServer ao : aos) {
                ao.close();
            }
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static String replaceOnce(String text, String from, String to) throws IOException {
        int at = text.indexOf(from);
        if (at < 0) {
            throw new IOException("demo: the config template has no '" + from + "'");
        }
        return text.substring(0, at) + to + text.substring(at + from.length());
    }

    static Duration parseDuration(String s) {
        String t = s.trim();
        if (t.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        }
        if (t.endsWith("m")) {
            return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
        }
        if (t.endsWith("s")) {
            return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
        }
        return Duration.ofSeconds(Long.parseLong(t));
    }
}
