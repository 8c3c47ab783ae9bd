package io.cellgate.perf;

import io.cellgate.perf.ao.SampleAoServer;
import io.cellgate.perf.load.CommandMix;
import io.cellgate.perf.load.LoadGenerator;
import io.cellgate.protocol.v1.Code;
import io.cellgate.server.GatewayServer;
import io.cellgate.server.config.GatewayConfig;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * One set slowed to ten times its latency under load, with the per-set adaptive limit on: the slowed
 * set (sz-a, every user's write point and nearest read set) must shed its own traffic by priority,
 * and the other set (sh-c, the center set, reached by a CENTER command) must keep its latency. Both
 * sample AOs serve {@value #AO_CONCURRENCY} calls at once and queue the rest, as a saturated backend
 * does. Two loads run side by side, one per set, each measured alone: before the slowdown, then during.
 *
 * <p>{@code SlowSetScenario SECONDS OUTPUT.md}
 */
public final class SlowSetScenario {
    static final int AO_CONCURRENCY = 20;
    static final long AO_LATENCY_MICROS = 5_000;
    static final int SLOWDOWN = 10;
    /** sz-a's load: 10% P0 writes, 30% each P1, P2, P3 reads; a third of its normal capacity. */
    static final double SLOWED_SET_RATE = 1_200;
    static final double OTHER_SET_RATE = 600;

    private SlowSetScenario() {
    }

    /** One phase: each set's load as measured. */
    record Phase(LoadGenerator.Result slowed, LoadGenerator.Result other) {
    }

    static String yaml(int slowedPort, int otherPort, String secret) {
        return """
                gateway: {city: sz, idc: sz-1, event-loop-threads: 2}
                listen: {client: 127.0.0.1:0}
                login: {token-secret: %s}
                limits: {max-in-flight-per-connection: 10000}
                topology:
                  sets:
                    - {name: sz-a, city: sz, idc: sz-1, endpoints: [127.0.0.1:%d]}
                    - {name: sh-c, city: sh, idc: sh-1, endpoints: [127.0.0.1:%d]}
                routes:
                  write-points: [{slots: 0-16383, set: sz-a}]
                  center-set: sh-c
                commands:
                  - {cmd: 30, method: cellgate.sample.v1.SampleAo/Put, route: WRITE, priority: P0, timeout: 1s}
                  - {cmd: 31, method: cellgate.sample.v1.SampleAo/Get, route: READ, priority: P1, timeout: 1s}
                  - {cmd: 32, method: cellgate.sample.v1.SampleAo/Get, route: READ, priority: P2, timeout: 1s}
                  - {cmd: 33, method: cellgate.sample.v1.SampleAo/Get, route: READ, priority: P3, timeout: 1s}
                  - {cmd: 34, method: cellgate.sample.v1.SampleAo/Echo, route: CENTER, priority: P1, timeout: 1s}
                upstream:
                  set-limit: {enabled: true}
                admission: {connection-rate: 0}
                """.formatted(secret, slowedPort, otherPort);
    }

    static final List<CommandMix> SLOWED_MIX = List.of(new CommandMix(30, CommandMix.Kind.PUT, true, 0.1),
            new CommandMix(31, CommandMix.Kind.GET, false, 0.3), new CommandMix(32, CommandMix.Kind.GET, false, 0.3),
            new CommandMix(33, CommandMix.Kind.GET, false, 0.3));
    static final List<CommandMix> OTHER_MIX = List.of(new CommandMix(34, CommandMix.Kind.ECHO, false, 1));

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        Path output = Path.of(args.length > 1 ? args[1] : "perf/results/slow-set-" + LocalDate.now(ZoneOffset.UTC) + ".md");
        byte[] secretBytes = new byte[24];
        new SecureRandom().nextBytes(secretBytes);
        String secret = HexFormat.of().formatHex(secretBytes);
        byte[] key = secret.getBytes(StandardCharsets.UTF_8);
        Duration window = Duration.ofSeconds(seconds);
        try (SampleAoServer slowed = new SampleAoServer("sz-a", "127.0.0.1", 0, AO_LATENCY_MICROS, 0);
             SampleAoServer other = new SampleAoServer("sh-c", "127.0.0.1", 0, AO_LATENCY_MICROS, 0)) {
            slowed.concurrency(AO_CONCURRENCY);
            other.concurrency(AO_CONCURRENCY);
            GatewayConfig config = GatewayConfig.parse(yaml(slowed.port(), other.port(), secret), Path.of("."), name -> null);
            try (GatewayServer gateway = GatewayServer.start(config)) {
                // Warm-up: the JIT compiles, each set's limit learns its latency.
                phase(gateway.port(), key, Duration.ofSeconds(5), new PrintStream(OutputStream.nullOutputStream()));
                long healthBefore = gateway.healthChanges();
                System.out.println("slow set: before");
                Phase before = phase(gateway.port(), key, window, System.out);
                int limitBefore = gateway.setLimits().get("sz-a").limit();
                slowed.latencyMicros(AO_LATENCY_MICROS * SLOWDOWN);
                System.out.println("slow set: sz-a at " + SLOWDOWN + "x its latency");
                Phase during = phase(gateway.port(), key, window, System.out);
                int limitDuring = gateway.setLimits().get("sz-a").limit();
                long healthChanges = gateway.healthChanges() - healthBefore;
                String md = report(seconds, before, during, limitBefore, limitDuring, healthChanges);
                Files.createDirectories(output.toAbsolutePath().getParent());
                Files.writeString(output, md, StandardCharsets.UTF_8);
                System.out.println(md);
            }
        }
    }

    /** Both loads at once for {@code window}, each on its own connections and users. */
    private static Phase phase(int port, byte[] key, Duration window, PrintStream out) throws Exception {
        CompletableFuture<LoadGenerator.Result> slowed = CompletableFuture.supplyAsync(() -> run(new LoadGenerator.Options("127.0.0.1",
                port, List.of("127.0.0.1"), 50, SLOWED_SET_RATE, window, key, 1_000_000, SLOWED_MIX, 64, 1), out));
        CompletableFuture<LoadGenerator.Result> other = CompletableFuture.supplyAsync(() -> run(new LoadGenerator.Options("127.0.0.1",
                port, List.of("127.0.0.1"), 20, OTHER_SET_RATE, window, key, 2_000_000, OTHER_MIX, 64, 1), out));
        return new Phase(slowed.get(), other.get());
    }

    private static LoadGenerator.Result run(LoadGenerator.Options options, PrintStream out) {
        try {
            return new LoadGenerator(options).run(out);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static double ms(LoadGenerator.Result r, double percentile) {
        return r.latencyMicros().getValueAtPercentile(percentile) / 1000.0;
    }

    private static String success(LoadGenerator.Result r, int cmd) {
        long[] codes = r.codesByCmd().get(cmd);
        if (codes == null) {
            return "-";
        }
        long total = 0;
        for (long c : codes) {
            total += c;
        }
        return total == 0 ? "-" : String.format(Locale.ROOT, "%.2f%%", 100.0 * codes[Code.OK_VALUE] / total);
    }

    private static String codes(LoadGenerator.Result r) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < r.codes().length; i++) {
            if (r.codes()[i] > 0) {
                Code c = Code.forNumber(i);
                s.append(s.length() == 0 ? "" : ", ").append(c == null ? "code " + i : c.name()).append(' ').append(r.codes()[i]);
            }
        }
        if (r.unanswered() > 0) {
            s.append(", unanswered ").append(r.unanswered());
        }
        return s.toString();
    }

    private static String report(int seconds, Phase before, Phase during, int limitBefore, int limitDuring, long healthChanges) {
        StringBuilder md = new StringBuilder("# One set slowed to ").append(SLOWDOWN).append("x its latency\n\n");
        md.append("Date: ").append(LocalDate.now(ZoneOffset.UTC)).append(". Machine: ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores, ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"))
                .append(", Java ").append(System.getProperty("java.version")).append(".\n\n");
        md.append("Command: `perf/run-slow-set.sh ").append(seconds).append("`.\n\n");
        md.append("One JVM runs two sample AOs (each ").append(AO_CONCURRENCY).append(" calls at once, ").append(AO_LATENCY_MICROS / 1000)
                .append(" ms each, the rest queued: ").append(AO_CONCURRENCY * 1_000_000L / AO_LATENCY_MICROS).append(" req/s), the gateway ")
                .append("(2 event loops, `upstream.set-limit.enabled: true`, the rest at its defaults) and two open-loop loads: ")
                .append((long) SLOWED_SET_RATE).append(" req/s to sz-a (every user's write point and nearest read set; 10% P0 writes, ")
                .append("30% each P1, P2 and P3 reads; 50 connections) and ").append((long) OTHER_SET_RATE)
                .append(" req/s of a CENTER command to the other set sh-c (P1; 20 connections), each measured on its own, ")
                .append(seconds).append(" s before and ").append(seconds).append(" s after sz-a's AO was slowed to ")
                .append(AO_LATENCY_MICROS * SLOWDOWN / 1000).append(" ms per call (capacity ")
                .append(AO_CONCURRENCY * 1_000_000L / (AO_LATENCY_MICROS * SLOWDOWN)).append(" req/s: its load is then ")
                .append(String.format(Locale.ROOT, "%.1fx", SLOWED_SET_RATE / (AO_CONCURRENCY * 1e6 / (AO_LATENCY_MICROS * SLOWDOWN))))
                .append(" its capacity). Latency from the intended send time, all answers.\n\n");
        md.append("| | other set p50 / p99 (ms) | sz-a p50 / p99 (ms) | sz-a P0 OK | P1 OK | P2 OK | P3 OK | sz-a limit | sz-a answers | other set answers |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
        md.append(row("before", before, limitBefore)).append(row("sz-a slowed " + SLOWDOWN + "x", during, limitDuring));
        md.append(String.format(Locale.ROOT, "%nOther set's p99 during / before: **%.2fx** (goal <= 2x). Set health changes: %d.%n",
                ms(during.other(), 99) / ms(before.other(), 99), healthChanges));
        return md.toString();
    }

    private static String row(String label, Phase p, int limit) {
        return String.format(Locale.ROOT, "| %s | %.2f / %.2f | %.2f / %.2f | %s | %s | %s | %s | %d | %s | %s |%n", label, ms(p.other(), 50),
                ms(p.other(), 99), ms(p.slowed(), 50), ms(p.slowed(), 99), success(p.slowed(), 30), success(p.slowed(), 31),
                success(p.slowed(), 32), success(p.slowed(), 33), limit, codes(p.slowed()), codes(p.other()));
    }
}
