package io.cellgate.perf;

import io.cellgate.perf.ao.SampleAoServer;
import io.cellgate.perf.load.CommandMix;
import io.cellgate.perf.load.LoadGenerator;
import io.cellgate.protocol.v1.Code;
import io.cellgate.server.GatewayServer;
import io.cellgate.server.config.GatewayConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * Overload: one set whose sample AO serves at most {@code concurrency / latency} requests per second
 * (requests beyond its concurrency queue, as a saturated backend's do), driven at a multiple of that
 * capacity with four commands of priorities P0..P3 in equal shares, with the gateway's shedding on
 * (load level from requests in flight, 1.0 at three times the AO's concurrency) and off.
 *
 * <p>{@code OverloadScenario SECONDS MULTIPLIERS OUTPUT.md}, e.g. {@code 20 1.5,2 perf/results/overload.md}
 */
public final class OverloadScenario {
    static final int AO_CONCURRENCY = 20;
    static final long AO_LATENCY_MICROS = 20_000;
    /** Requests per second the AO can serve. */
    static final double CAPACITY = AO_CONCURRENCY * 1e6 / AO_LATENCY_MICROS;
    /** The gateway's in-flight limit (load level 1.0): three times the AO's concurrency, so a short queue keeps it busy. */
    static final int IN_FLIGHT_LIMIT = 3 * AO_CONCURRENCY;

    private OverloadScenario() {
    }

    /** One run's figures. */
    public record Outcome(String shedding, double multiplier, double offeredPerSecond, double goodputPerSecond,
                          double[] successByPriority, Histogram admittedLatencyMicros, long[] codes, long unanswered) {
        public double goodputRatio() {
            return goodputPerSecond / CAPACITY;
        }
    }

    static String yaml(String aoAddress, String secret, boolean shedding) {
        return """
                gateway: {city: sz, idc: sz-1, event-loop-threads: 2}
                listen: {client: 127.0.0.1:0}
                login: {token-secret: %s}
                limits: {max-in-flight-per-connection: 10000}
                topology:
                  sets:
                    - {name: sz-a, city: sz, idc: sz-1, endpoints: [%s]}
                routes:
                  write-points: [{slots: 0-16383, set: sz-a}]
                commands:
                  - {cmd: 10, method: cellgate.sample.v1.SampleAo/Echo, route: READ, priority: P0, timeout: 2s}
                  - {cmd: 11, method: cellgate.sample.v1.SampleAo/Echo, route: READ, priority: P1, timeout: 2s}
                  - {cmd: 12, method: cellgate.sample.v1.SampleAo/Echo, route: READ, priority: P2, timeout: 2s}
                  - {cmd: 13, method: cellgate.sample.v1.SampleAo/Echo, route: READ, priority: P3, timeout: 2s}
                admission:
                  connection-rate: 0
                  window: 200ms
                  max-event-loop-lag: 1s
                  max-in-flight: %d
                """.formatted(secret, aoAddress, shedding ? IN_FLIGHT_LIMIT : 0);
    }

    static List<CommandMix> mix() {
        List<CommandMix> mix = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            mix.add(new CommandMix(10 + p, CommandMix.Kind.ECHO, false, 1));
        }
        return mix;
    }

    /** Runs one load at {@code multiplier} x capacity for {@code duration} against a fresh gateway and AO. */
    public static Outcome run(boolean shedding, double multiplier, Duration duration, int connections) throws Exception {
        byte[] secretBytes = new byte[24];
        new SecureRandom().nextBytes(secretBytes);
        String secret = HexFormat.of().formatHex(secretBytes);
        byte[] secretUtf8 = secret.getBytes(StandardCharsets.UTF_8);
        try (SampleAoServer ao = new SampleAoServer("sz-a", "127.0.0.1", 0, 0, 0)) {
            GatewayConfig config = GatewayConfig.parse(yaml("127.0.0.1:" + ao.port(), secret, shedding), Path.of("."), name -> null);
            try (GatewayServer gateway = GatewayServer.start(config)) {
                // Warm up fast (no latency), then make the AO a backend of bounded capacity.
                new LoadGenerator(new LoadGenerator.Options("127.0.0.1", gateway.port(), List.of("127.0.0.1"), 20, 2000,
                        Duration.ofSeconds(4), secretUtf8, 5_000_000, mix(), 64, 1)).run(new PrintStream(OutputStream.nullOutputStream()));
                ao.latencyMicros(AO_LATENCY_MICROS);
                ao.concurrency(AO_CONCURRENCY);
                Thread.sleep(1_000); // let the admission windows settle on the new AO
                double offered = CAPACITY * multiplier;
                LoadGenerator.Result r = new LoadGenerator(new LoadGenerator.Options("127.0.0.1", gateway.port(),
                        List.of("127.0.0.1"), connections, offered, duration, secretUtf8, 1_000_000, mix(), 64, 1)).run(System.out);
                double[] success = new double[4];
                for (int p = 0; p < 4; p++) {
                    long[] byCode = r.codesByCmd().getOrDefault(10 + p, new long[64]);
                    long total = 0;
                    for (long c : byCode) {
                        total += c;
                    }
                    success[p] = total == 0 ? 0 : (double) byCode[Code.OK_VALUE] / total;
                }
                return new Outcome(shedding ? "on" : "off", multiplier, r.sent() / r.seconds(), r.ok() / r.seconds(), success,
                        r.okLatencyMicros(), r.codes(), r.unanswered());
            }
        }
    }

    static String row(Outcome o) {
        Histogram h = o.admittedLatencyMicros();
        StringBuilder codes = new StringBuilder();
        for (int i = 0; i < o.codes().length; i++) {
            if (o.codes()[i] > 0) {
                Code c = Code.forNumber(i);
                codes.append(codes.length() == 0 ? "" : ", ").append(c == null ? "code" + i : c.name()).append(' ').append(o.codes()[i]);
            }
        }
        return String.format("| %s | %.1fx | %.0f | %.0f | %.2f | %.2f%% | %.2f%% | %.2f%% | %.2f%% | %.1f | %.1f | %.1f | %d | %s |",
                o.shedding(), o.multiplier(), o.offeredPerSecond(), o.goodputPerSecond(), o.goodputRatio(),
                100 * o.successByPriority()[0], 100 * o.successByPriority()[1], 100 * o.successByPriority()[2],
                100 * o.successByPriority()[3], h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
                h.getValueAtPercentile(99.9) / 1000.0, o.unanswered(), codes);
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        String[] multipliers = (args.length > 1 ? args[1] : "1.5,2").split(",");
        Path output = Path.of(args.length > 2 ? args[2] : "perf/results/overload-" + LocalDate.now(java.time.ZoneOffset.UTC) + ".md");
        List<String> rows = new ArrayList<>();
        for (String m : multipliers) {
            for (boolean shedding : new boolean[] {true, false}) {
                Outcome o = run(shedding, Double.parseDouble(m), Duration.ofSeconds(seconds), 100);
                rows.add(row(o));
                System.out.println(rows.get(rows.size() - 1));
            }
        }
        StringBuilder md = new StringBuilder("# Overload: shedding on and off\n\n");
        md.append("Date: ").append(LocalDate.now(java.time.ZoneOffset.UTC)).append(". Machine: ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores, ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"))
                .append(", Java ").append(System.getProperty("java.version")).append(".\n\n");
        md.append("Command: `perf/run-overload.sh ").append(seconds).append(' ').append(String.join(",", multipliers)).append("`.\n\n");
        md.append("One JVM runs the sample AO (one set, ").append(AO_CONCURRENCY).append(" requests at once, ")
                .append(AO_LATENCY_MICROS / 1000).append(" ms each: capacity ").append((long) CAPACITY)
                .append(" req/s; more requests queue), the gateway (2 event loops) and the open-loop load generator ")
                .append("(100 connections, 1 event loop). Four commands, P0..P3, 25% each. Shedding on: load level = requests ")
                .append("in flight / ").append(IN_FLIGHT_LIMIT).append(", 200 ms windows; off: no overload signal. ")
                .append("Goodput = OK responses per second; success = OK / sent per priority; admitted latency = ")
                .append("latency of OK responses from the intended send time (ms). Each run follows a 4 s warm-up.\n\n");
        md.append("| shedding | load | offered/s | goodput/s | goodput / capacity | P0 OK | P1 OK | P2 OK | P3 OK | p50 | p99 | p99.9 | unanswered | codes |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (String r : rows) {
            md.append(r).append('\n');
        }
        Files.createDirectories(output.toAbsolutePath().getParent());
        Files.writeString(output, md.toString(), StandardCharsets.UTF_8);
        System.out.println("wrote " + output);
    }
}
