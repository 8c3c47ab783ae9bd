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
 * (requests beyond its concurrency queue, as a saturated backend's do: it does not protect itself),
 * driven at a multiple of that capacity, under three protections: none (no gateway-wide in-flight
 * limit, no set limit), the gateway-wide in-flight limit tuned by hand to three times the AO's
 * concurrency, and the shipped defaults (no upstream or admission section: the adaptive per-set limit
 * on, every setting at its default). Two mixes: four commands P0..P3 in equal shares, and 10% P0 writes with
 * 90% P2 reads.
 *
 * <p>{@code OverloadScenario SECONDS MULTIPLIERS OUTPUT.md}, e.g. {@code 20 1.5,2 perf/results/overload.md}
 */
public final class OverloadScenario {
    static final int AO_CONCURRENCY = 20;
    static final long AO_LATENCY_MICROS = 20_000;
    /** Requests per second the AO can serve. */
    static final double CAPACITY = AO_CONCURRENCY * 1e6 / AO_LATENCY_MICROS;
    /** The hand-tuned gateway-wide in-flight limit (load level 1.0): three times the AO's concurrency. */
    static final int IN_FLIGHT_LIMIT = 3 * AO_CONCURRENCY;

    private OverloadScenario() {
    }

    /** What stands between the clients and the AO. */
    public enum Protection {
        /** Nothing: no gateway-wide in-flight limit, no set limit. */
        NONE("none"),
        /** The gateway-wide in-flight limit, tuned by hand for this AO ({@value #IN_FLIGHT_LIMIT}); no set limit. */
        TUNED_IN_FLIGHT("tuned in-flight"),
        /** The shipped defaults: the adaptive per-set limit on, nothing tuned. */
        SET_LIMIT("shipped (set limit)");

        final String label;

        Protection(String label) {
            this.label = label;
        }
    }

    /** The traffic. */
    public enum Mix {
        /** Four READ commands, P0..P3, 25% each. */
        PRIORITIES("P0-P3 reads"),
        /** 10% P0 writes, 90% P2 reads. */
        WRITES_AND_READS("10% P0 writes, 90% P2 reads");

        final String label;

        Mix(String label) {
            this.label = label;
        }

        List<CommandMix> commands() {
            List<CommandMix> mix = new ArrayList<>();
            if (this == PRIORITIES) {
                for (int p = 0; p < 4; p++) {
                    mix.add(new CommandMix(10 + p, CommandMix.Kind.ECHO, false, 1));
                }
            } else {
                mix.add(new CommandMix(14, CommandMix.Kind.PUT, true, 0.1));
                mix.add(new CommandMix(12, CommandMix.Kind.GET, false, 0.9));
            }
            return mix;
        }

        /** The command word of priority {@code p}'s traffic, or -1 when the mix has none. */
        int cmdOf(int p) {
            if (this == PRIORITIES) {
                return 10 + p;
            }
            return p == 0 ? 14 : p == 2 ? 12 : -1;
        }
    }

    /** One run's figures; success per priority is NaN for a priority the mix does not send. */
    public record Outcome(Protection protection, Mix mix, double multiplier, double offeredPerSecond, double goodputPerSecond,
                          double[] successByPriority, Histogram admittedLatencyMicros, long[] codes, long unanswered,
                          long healthChanges, int finalSetLimit, long stallCuts) {
        public double goodputRatio() {
            return goodputPerSecond / CAPACITY;
        }
    }

    static String yaml(String aoAddress, String secret, Protection protection) {
        String base = """
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
                  - {cmd: 12, method: cellgate.sample.v1.SampleAo/Get, route: READ, priority: P2, timeout: 2s}
                  - {cmd: 13, method: cellgate.sample.v1.SampleAo/Echo, route: READ, priority: P3, timeout: 2s}
                  - {cmd: 14, method: cellgate.sample.v1.SampleAo/Put, route: WRITE, priority: P0, timeout: 2s}
                """.formatted(secret, aoAddress);
        if (protection == Protection.SET_LIMIT) {
            // The shipped defaults: no upstream or admission section.
            return base;
        }
        return base + """
                upstream:
                  set-limit: {enabled: false}
                admission:
                  connection-rate: 0
                  window: 200ms
                  max-event-loop-lag: 1s
                  max-in-flight: %d
                """.formatted(protection == Protection.TUNED_IN_FLIGHT ? IN_FLIGHT_LIMIT : 0);
    }

    /** Runs one load at {@code multiplier} x capacity for {@code duration} against a fresh gateway and AO. */
    public static Outcome run(Protection protection, Mix mix, double multiplier, Duration duration, int connections) throws Exception {
        return run(protection, mix, multiplier, Duration.ZERO, duration, connections);
    }

    /**
     * The same, the measured load preceded by {@code settle} of the same load that is not counted (but
     * whose health changes are): how the protection holds once it has converged.
     */
    public static Outcome run(Protection protection, Mix mix, double multiplier, Duration settle, Duration duration, int connections)
            throws Exception {
        byte[] secretBytes = new byte[24];
        new SecureRandom().nextBytes(secretBytes);
        String secret = HexFormat.of().formatHex(secretBytes);
        byte[] secretUtf8 = secret.getBytes(StandardCharsets.UTF_8);
        try (SampleAoServer ao = new SampleAoServer("sz-a", "127.0.0.1", 0, AO_LATENCY_MICROS, 0)) {
            ao.concurrency(AO_CONCURRENCY);
            GatewayConfig config = GatewayConfig.parse(yaml("127.0.0.1:" + ao.port(), secret, protection), Path.of("."), name -> null);
            try (GatewayServer gateway = GatewayServer.start(config)) {
                // Warm up at half the AO's capacity: the JIT compiles, and the set's limit learns its latency.
                new LoadGenerator(new LoadGenerator.Options("127.0.0.1", gateway.port(), List.of("127.0.0.1"), 20, CAPACITY / 2,
                        Duration.ofSeconds(4), secretUtf8, 5_000_000, mix.commands(), 64, 1))
                        .run(new PrintStream(OutputStream.nullOutputStream()));
                long healthBefore = gateway.healthChanges();
                double offered = CAPACITY * multiplier;
                if (!settle.isZero()) {
                    new LoadGenerator(new LoadGenerator.Options("127.0.0.1", gateway.port(), List.of("127.0.0.1"), connections, offered,
                            settle, secretUtf8, 3_000_000, mix.commands(), 64, 1)).run(new PrintStream(OutputStream.nullOutputStream()));
                }
                LoadGenerator.Result r = new LoadGenerator(new LoadGenerator.Options("127.0.0.1", gateway.port(),
                        List.of("127.0.0.1"), connections, offered, duration, secretUtf8, 1_000_000, mix.commands(), 64, 1)).run(System.out);
                double[] success = new double[4];
                for (int p = 0; p < 4; p++) {
                    int cmd = mix.cmdOf(p);
                    long[] byCode = cmd < 0 ? null : r.codesByCmd().get(cmd);
                    long total = 0;
                    if (byCode != null) {
                        for (long c : byCode) {
                            total += c;
                        }
                    }
                    success[p] = total == 0 ? Double.NaN : (double) byCode[Code.OK_VALUE] / total;
                }
                long healthChanges = gateway.healthChanges() - healthBefore;
                io.cellgate.limit.SetConcurrencyLimit limit = gateway.setLimits().get("sz-a");
                return new Outcome(protection, mix, multiplier, r.sent() / r.seconds(), r.ok() / r.seconds(), success,
                        r.okLatencyMicros(), r.codes(), r.unanswered(), healthChanges, limit == null ? 0 : limit.limit(),
                        limit == null ? 0 : limit.stalls());
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
        StringBuilder success = new StringBuilder();
        for (double s : o.successByPriority()) {
            success.append(Double.isNaN(s) ? " - |" : String.format(" %.2f%% |", 100 * s));
        }
        return String.format("| %s | %s | %.1fx | %.0f | %.0f | %.2f |%s %.1f | %.1f | %.1f | %d | %d | %s | %s |",
                o.protection().label, o.mix().label, o.multiplier(), o.offeredPerSecond(), o.goodputPerSecond(), o.goodputRatio(),
                success, h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
                h.getValueAtPercentile(99.9) / 1000.0, o.unanswered(), o.healthChanges(),
                o.finalSetLimit() == 0 ? "-" : o.finalSetLimit() + " (" + o.stallCuts() + ")", codes);
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        String[] multipliers = (args.length > 1 ? args[1] : "1.5,2").split(",");
        Path output = Path.of(args.length > 2 ? args[2] : "perf/results/overload-" + LocalDate.now(java.time.ZoneOffset.UTC) + ".md");
        List<String> rows = new ArrayList<>();
        for (Mix mix : Mix.values()) {
            for (String m : multipliers) {
                for (Protection protection : Protection.values()) {
                    Outcome o = run(protection, mix, Double.parseDouble(m), Duration.ofSeconds(seconds), 100);
                    rows.add(row(o));
                    System.out.println(rows.get(rows.size() - 1));
                }
            }
        }
        StringBuilder md = new StringBuilder("# Overload: an AO that does not protect itself, offered more than its capacity\n\n");
        md.append("Date: ").append(LocalDate.now(java.time.ZoneOffset.UTC)).append(". Machine: ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores, ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"))
                .append(", Java ").append(System.getProperty("java.version")).append(".\n\n");
        md.append("Command: `perf/run-overload.sh ").append(seconds).append(' ').append(String.join(",", multipliers)).append("`.\n\n");
        md.append("One JVM runs the sample AO (one set, ").append(AO_CONCURRENCY).append(" requests at once, ")
                .append(AO_LATENCY_MICROS / 1000).append(" ms each: capacity ").append((long) CAPACITY)
                .append(" req/s; more requests queue), the gateway (2 event loops) and the open-loop load generator ")
                .append("(100 connections, 1 event loop). Protection: none (no gateway-wide in-flight limit, set limit off); ")
                .append("tuned in-flight (admission.max-in-flight ").append(IN_FLIGHT_LIMIT)
                .append(", set limit off, 200 ms windows); shipped (no upstream or admission section: every setting at its ")
                .append("default, the adaptive set limit on). Goodput = OK responses per second; success = OK / sent per ")
                .append("priority (- : the mix sends none); admitted latency = latency of OK responses from the intended ")
                .append("send time (ms); health = set health changes during the run (DOWN or UP); limit = sz-a's set limit ")
                .append("at the end (in brackets: the times it was cut for a stall, calls waiting half their time). Each run follows a 4 s warm-up at half the capacity.\n\n");
        md.append("| protection | mix | load | offered/s | goodput/s | goodput / capacity | P0 OK | P1 OK | P2 OK | P3 OK | p50 | p99 | p99.9 "
                + "| unanswered | health | limit | codes |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (String r : rows) {
            md.append(r).append('\n');
        }
        Files.createDirectories(output.toAbsolutePath().getParent());
        Files.writeString(output, md.toString(), StandardCharsets.UTF_8);
        System.out.println("wrote " + output);
    }
}
